"""What each bundled library adds to a build.

A one-file build is read from its own archive (PyInstaller's CArchive, and the PYZ of
Python modules inside it), so every figure is what the entry costs in the file people
download: compressed. A one-folder build is measured on disk, uncompressed, and its
``.tar.gz`` gives the download size.

Entries are grouped into *components*: a Python distribution (NumPy with its OpenBLAS,
PyAV with FFmpeg), a Qt library, Qt's plugins, the Python runtime, the system libraries
the bundle carries, the splash screen, and Lifeline's own code.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

MB = 1_000_000
_PYZ = "PYZ.pyz"


@dataclass
class Component:
    name: str
    bytes: int = 0
    files: int = 0
    #: The largest entries of this component: (name in the bundle, bytes).
    largest: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class SizeReport:
    path: str
    #: Size of the file people get: the one-file binary or the one-folder's archive.
    total: int
    #: Bytes of the bundle's entries (compressed for one-file, on disk for one-folder).
    contents: int
    components: list[Component]

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def format(self, top: int = 40) -> str:
        lines = [
            f"{self.path}: {self.total / MB:.1f} MB",
            "",
            f"{'component':34} {'MB':>7} {'share':>6} {'files':>6}  largest",
        ]
        for c in self.components[:top]:
            big = ", ".join(f"{PurePosixPath(n).name} {b / MB:.1f}" for n, b in c.largest[:2])
            share = c.bytes / self.contents if self.contents else 0.0
            lines.append(f"{c.name:34} {c.bytes / MB:7.2f} {share:6.1%} {c.files:6}  {big}")
        rest = self.components[top:]
        if rest:
            lines.append(
                f"{'(' + str(len(rest)) + ' more)':34} {sum(c.bytes for c in rest) / MB:7.2f}"
            )
        return "\n".join(lines)


_STDLIB = set(sys.stdlib_module_names)
_QT_LIB = re.compile(r"^(?:lib)?Qt6([A-Za-z]+?)(?:\.so.*|\.dll|\.dylib)?$")
_ICU = re.compile(r"^(?:lib)?icu[a-z0-9]*")


def component(name: str) -> str:
    """The component a bundle entry belongs to (see the module docstring)."""
    name = name.replace("\\", "/")
    parts = PurePosixPath(name).parts
    base = parts[-1] if parts else name
    top = parts[0] if parts else name
    if top in ("PySide6", "shiboken6", "PySide6.libs"):
        if "plugins" in parts:
            i = parts.index("plugins")
            return f"Qt plugins: {parts[i + 1]}" if i + 1 < len(parts) - 1 else "Qt plugins"
        if "translations" in parts:
            return "Qt translations"
        if _ICU.match(base):
            return "Qt: ICU (Unicode data)"
        match = _QT_LIB.match(base)
        if match:
            return f"Qt: {match.group(1)}"
        return "PySide6 bindings"
    if top.startswith(("_tcl_data", "_tk_data", "tcl", "tk")) or base.startswith(
        ("libtcl", "libtk", "tcl8", "tk8")
    ):
        return "splash (Tcl/Tk)"
    if top in ("lib-dynload", "base_library.zip") or base.startswith(("libpython", "python3")):
        return "Python runtime"
    if top.endswith(".libs"):
        return f"{top[: -len('.libs')]} (its libraries)"
    if top.endswith((".dist-info", ".egg-info")):
        return "package metadata"
    if len(parts) > 1:
        return top
    if base.startswith(("pyi_rth_", "pyiboot", "pyimod", "struct", "lifeline_")):
        return "PyInstaller bootstrap"
    if ".cpython-" in base or base.endswith((".pyd", ".abi3.so")):
        return base.split(".")[0]  # a top-level Python extension module (_cffi_backend)
    if base.endswith((".so", ".dll", ".dylib")) or ".so." in base:
        return "system: " + _library_family(base)
    return top


def _library_family(base: str) -> str:
    """``libxcb-icccm.so.4`` → ``libxcb*``; ``libssl.so.3`` → ``libssl``."""
    stem = re.split(r"\.so|\.dll|\.dylib", base)[0]
    stem = re.sub(r"[-_.]?[0-9.]+$", "", stem)
    for family in ("libxcb", "libX", "libxkb", "libglib", "libgthread", "libgio", "libgobject"):
        if stem.startswith(family):
            return family + "*"
    return stem


def module_component(module: str) -> str:
    """The component a Python module in the PYZ belongs to."""
    top = module.split(".")[0]
    if top in _STDLIB or top.startswith("_"):
        return "Python standard library"
    if top in ("applet", "console", "common", "broker"):
        return f"Lifeline: {top}/"
    return top


def _add(groups: dict[str, Component], key: str, name: str, size: int) -> None:
    c = groups.setdefault(key, Component(key))
    c.bytes += size
    c.files += 1
    c.largest.append((name, size))


def _finish(path: Path, total: int, groups: dict[str, Component]) -> SizeReport:
    # A package's Python modules and its binaries are one component.
    merged: dict[str, Component] = {}
    for key, c in groups.items():
        target = merged.setdefault(key, Component(key))
        target.bytes += c.bytes
        target.files += c.files
        target.largest.extend(c.largest)
    for c in merged.values():
        c.largest = sorted(c.largest, key=lambda e: -e[1])[:5]
    components = sorted(merged.values(), key=lambda c: -c.bytes)
    return SizeReport(str(path), total, sum(c.bytes for c in components), components)


def one_file_report(path: Path) -> SizeReport:
    """Sizes inside a one-file build, read from its archive (compressed bytes)."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(path))
    groups: dict[str, Component] = {}
    for name, (_, length, _, _, typecode) in archive.toc.items():
        if name == _PYZ or typecode == "z":
            pyz = archive.open_embedded_archive(name)
            for module, entry in pyz.toc.items():
                _add(groups, module_component(module), module, int(entry[2]))
            continue
        if typecode == "n":
            continue  # a symbolic link the bootloader makes: no bytes of its own
        key = "PyInstaller bootstrap" if typecode in ("s", "m", "M") else component(name)
        _add(groups, key, name, length)
    overhead = path.stat().st_size - sum(c.bytes for c in groups.values())
    if overhead > 0:
        _add(groups, "PyInstaller bootloader", "bootloader", overhead)
    return _finish(path, path.stat().st_size, groups)


def folder_report(folder: Path, archive: Path | None = None) -> SizeReport:
    """Sizes of a one-folder build on disk; ``total`` is ``archive``'s size if given."""
    groups: dict[str, Component] = {}
    internal = folder / "_internal"
    for file in sorted(folder.rglob("*")):
        if not file.is_file() or file.is_symlink():
            continue
        rel = file.relative_to(internal if internal in file.parents else folder).as_posix()
        if file.parent == folder:
            key = "the program (bootloader, Python modules) and its package files"
        elif rel == "base_library.zip":
            key = "Python runtime"
        else:
            key = component(rel)
        _add(groups, key, rel, file.stat().st_size)
    contents = sum(c.bytes for c in groups.values())
    total = archive.stat().st_size if archive is not None else contents
    return _finish(archive or folder, total, groups)


def report(path: Path) -> SizeReport:
    return folder_report(path) if path.is_dir() else one_file_report(path)


def write(report_: SizeReport, out: Path) -> None:
    """``out.json`` and ``out.txt`` beside the build."""
    out.with_suffix(".json").write_text(json.dumps(report_.to_json(), indent=2))
    out.with_suffix(".txt").write_text(report_.format(top=1000) + "\n")
