"""Facts every build needs: the version, the metadata, the platform, the folders."""

from __future__ import annotations

import json
import platform
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
INSTALLERS = ROOT / "installers"
PROGRAMS = ("applet", "console", "converter")


def platform_key() -> str:
    """``linux``, ``windows`` or ``macos``: the family a build is for (the host's)."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    raise SystemExit(f"Lifeline is not packaged for {sys.platform}")


def machine() -> str:
    """``x86_64`` or ``arm64``, as release file names spell it."""
    arch = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(arch, arch)


@dataclass(frozen=True)
class Project:
    version: str
    metadata: dict[str, Any]
    root: Path = ROOT
    #: Where builds go and where PyInstaller works (default: dist/, build/pyinstaller/).
    dist_dir: Path | None = None
    work_dir: Path | None = None

    @classmethod
    def load(cls, root: Path = ROOT) -> Project:
        """The version comes from ``pyproject.toml`` only: a release changes it there."""
        with (root / "pyproject.toml").open("rb") as f:
            version = tomllib.load(f)["project"]["version"]
        metadata = json.loads((root / "assets" / "metadata.json").read_text())
        return cls(str(version), metadata, root)

    @property
    def dist(self) -> Path:
        return self.dist_dir or self.root / "dist"

    @property
    def work(self) -> Path:
        return self.work_dir or self.root / "build" / "pyinstaller"

    def program(self, name: str) -> dict[str, str]:
        """``name``, ``file`` and ``description`` of one program (assets/metadata.json)."""
        info: dict[str, str] = self.metadata["programs"][name]
        return info

    def version_tuple(self) -> tuple[int, int, int, int]:
        """``0.1.0`` → ``(0, 1, 0, 0)``, for Windows' version resource."""
        numbers = [
            int("".join(c for c in part if c.isdigit()) or 0) for part in self.version.split(".")
        ]
        numbers = [*numbers, 0, 0, 0, 0][:4]
        return (numbers[0], numbers[1], numbers[2], numbers[3])

    def applet_file(self, platform: str | None = None) -> str:
        """The signed applet's file name in ``dist/`` and in the broker's downloads
        folder: ``lifeline-applet-linux``, ``lifeline-applet-windows.exe``, …. It has no
        digits, so the applet never mistakes it for a session code."""
        platform = platform or platform_key()
        return f"lifeline-applet-{platform}" + (".exe" if platform == "windows" else "")
