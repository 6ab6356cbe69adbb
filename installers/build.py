"""Builds a program with PyInstaller, packages it, and reports its size.

Each build runs PyInstaller in a process of its own on the program's spec file, with
``build/pyinstaller/<program>`` as its work folder (kept between builds: a second build
reuses the analysis and the stripped, placeholder and ICU files) and ``dist/`` as its
output:

* applet: ``dist/lifeline-applet-linux`` (``-windows.exe``; ``Lifeline.app`` on a Mac)
* console: ``dist/lifeline-console/`` and, on Linux, ``dist/lifeline-console-<version>-
  linux-<arch>.tar.gz`` with a ``.desktop`` file, the icon and ``install.sh``
* converter: ``dist/lifeline-converter`` (``.exe``)

and ``dist/reports/<program>-sizes.txt`` / ``.json``: what each bundled component adds,
and what was left out and why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from installers import sizes
from installers.project import ASSETS, INSTALLERS, PROGRAMS, Project, machine, platform_key


class BuildError(Exception):
    """PyInstaller failed, or the build is not where it should be."""


@dataclass(frozen=True)
class Built:
    program: str
    #: What people get: the one-file program, or the console's archive (its folder on
    #: a platform without one).
    artifact: Path
    seconds: float
    size: int
    report: sizes.SizeReport


def artifact_path(project: Project, program: str, platform: str | None = None) -> Path:
    platform = platform or platform_key()
    exe = ".exe" if platform == "windows" else ""
    if program == "applet":
        if platform == "macos":
            return project.dist / "Lifeline.app"
        return project.dist / project.applet_file(platform)
    if program == "converter":
        return project.dist / (project.program("converter")["file"] + exe)
    if platform == "linux":
        return project.dist / f"lifeline-console-{project.version}-linux-{machine()}.tar.gz"
    if platform == "macos":
        return project.dist / (project.program("console")["name"] + ".app")
    return project.dist / project.program("console")["file"]


def run_pyinstaller(project: Project, program: str, spec_args: list[str]) -> float:
    """Runs PyInstaller on ``installers/<program>.spec``; returns the seconds it took."""
    spec = INSTALLERS / f"{program}.spec"
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        os.environ.get("LIFELINE_PYINSTALLER_LOG", "WARN"),
        "--distpath",
        str(project.dist),
        "--workpath",
        str(project.work / program),
        str(spec),
    ]
    if spec_args:
        command += ["--", *spec_args]
    started = time.monotonic()
    # The Python modules' archive at zlib's best too (PyInstaller's default is 6 there
    # and 9 for the rest); the environment variable sets both.
    env = {**os.environ, "PYINSTALLER_ZLIB_COMPRESSION_LEVEL": "9"}
    done = subprocess.run(command, cwd=project.root, env=env, check=False)
    if done.returncode != 0:
        raise BuildError(f"PyInstaller failed on {spec.name} (exit status {done.returncode})")
    return time.monotonic() - started


def package_console_linux(project: Project) -> Path:
    """``lifeline-console-<version>-linux-<arch>.tar.gz``: the folder, a ``.desktop``
    file, the icon and ``install.sh`` (installs for one user, no root needed)."""
    folder = project.dist / project.program("console")["file"]
    info = project.program("console")
    desktop = (INSTALLERS / "linux" / "lifeline-console.desktop").read_text()
    desktop = desktop.replace("@NAME@", info["name"]).replace("@COMMENT@", info["description"])
    desktop = desktop.replace("@VERSION@", project.version)
    (folder / "lifeline-console.desktop").write_text(desktop)
    shutil.copyfile(ASSETS / "lifeline-256.png", folder / "lifeline-console.png")
    shutil.copyfile(INSTALLERS / "linux" / "install.sh", folder / "install.sh")
    (folder / "install.sh").chmod(0o755)
    out = artifact_path(project, "console", "linux")
    partial = out.with_name(out.name + ".part")
    top = f"lifeline-console-{project.version}"

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        # Reproducible ownership: nobody's user names end up in the archive.
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(partial, "w:gz", compresslevel=9) as tar:
        tar.add(folder, arcname=top, filter=clean)
    partial.replace(out)
    return out


def build(
    program: str,
    *,
    project: Project | None = None,
    broker_url: str | None = None,
    ca_fingerprint: str | None = None,
    splash: bool = True,
) -> Built:
    """Builds ``program`` for this platform; see the module docstring for outputs."""
    if program not in PROGRAMS:
        raise BuildError(f"unknown program {program!r}: one of {', '.join(PROGRAMS)}")
    project = project or Project.load()
    spec_args: list[str] = []
    if program == "applet":
        if broker_url:
            spec_args += ["--broker-url", broker_url]
        if ca_fingerprint:
            spec_args += ["--ca-fingerprint", ca_fingerprint]
        if not splash:
            spec_args.append("--no-splash")
    seconds = run_pyinstaller(project, program, spec_args)
    platform = platform_key()
    if program == "console" and platform == "linux":
        artifact = package_console_linux(project)
        report = sizes.folder_report(project.dist / project.program("console")["file"], artifact)
    else:
        artifact = artifact_path(project, program)
        if not artifact.exists():
            raise BuildError(f"PyInstaller finished but {artifact} is missing")
        report = sizes.report(artifact)
    reports = project.dist / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    sizes.write(report, reports / f"{program}-sizes")
    left_out = project.work / program / "left-out.json"
    if left_out.exists():
        shutil.copyfile(left_out, reports / f"{program}-left-out.json")
    summary = {"program": program, "artifact": str(artifact), "seconds": round(seconds, 1)}
    (reports / f"{program}-build.json").write_text(json.dumps({**summary, "bytes": report.total}))
    return Built(program, artifact, seconds, report.total, report)
