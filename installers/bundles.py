"""What goes into each program's bundle, for the spec files to apply.

PyInstaller's Qt hooks collect every plugin type a Qt module might use (Wayland,
EGL, the virtual keyboard with all of QtQuick behind it, image formats, …) and every
translation. Lifeline's programs are Qt Widgets windows on one windowing system each,
so a bundle keeps:

* the Qt **plugins** listed in :data:`QT_PLUGINS` for its platform, nothing else;
* Qt's own **translations** only for the languages the programs speak;
* the **libraries** that something kept still links to (:func:`prune_libraries`): a
  library only a dropped plugin needed goes with it;
* on Linux, **stripped** copies of the binaries that carry symbols or debug
  information (:func:`strip_selectively`), except in a wheel's ``*.libs/`` folder:
  those were rewritten by auditwheel's patchelf, and ``strip`` on them yields a binary
  that crashes (measured with NumPy's OpenBLAS; PyInstaller's own ``--strip`` does it
  to every file, which is why it is not used).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import shutil
import struct
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from installers.project import ASSETS, INSTALLERS, ROOT, Project, platform_key

log = logging.getLogger("lifeline.installers")

#: A PyInstaller TOC entry: (name in the bundle, source path, type code).
TocEntry = tuple[str, str, str]

ENTRIES = INSTALLERS / "entries"
HOOKS = INSTALLERS / "hooks"
#: Languages the programs speak besides English (applet/ui/translation.py).
LANGUAGES = ("fr",)

#: Qt plugins each program loads, per platform: ``type/file`` patterns.
QT_PLUGINS: dict[str, dict[str, tuple[str, ...]]] = {
    "linux": {
        # X11 only: the applet captures and injects through X11 (XWayland on a Wayland
        # desktop), so the Wayland, EGL and framebuffer platforms would be dead weight.
        # The input contexts let people type accents (compose) and CJK (IBus) in chat.
        "applet": (
            "platforms/libqxcb.so",
            "platforminputcontexts/libcomposeplatforminputcontextplugin.so",
            "platforminputcontexts/libibusplatforminputcontextplugin.so",
        ),
        # The console as well: on a Wayland desktop it runs through XWayland, the way it
        # is tested. Its file dialogs (recordings, keys) use the desktop's portal.
        "console": (
            "platforms/libqxcb.so",
            "platforminputcontexts/libcomposeplatforminputcontextplugin.so",
            "platforminputcontexts/libibusplatforminputcontextplugin.so",
            "platformthemes/libqxdgdesktopportal.so",
        ),
        "converter": (
            "platforms/libqxcb.so",
            "platformthemes/libqxdgdesktopportal.so",
        ),
    },
    "windows": {
        "applet": ("platforms/qwindows.dll", "styles/qmodernwindowsstyle.dll"),
        "console": ("platforms/qwindows.dll", "styles/qmodernwindowsstyle.dll"),
        "converter": ("platforms/qwindows.dll", "styles/qmodernwindowsstyle.dll"),
    },
    "macos": {
        "applet": ("platforms/libqcocoa.dylib", "styles/libqmacstyle.dylib"),
        "console": ("platforms/libqcocoa.dylib", "styles/libqmacstyle.dylib"),
        "converter": ("platforms/libqcocoa.dylib", "styles/libqmacstyle.dylib"),
    },
}

#: Qt modules the programs use; every other PySide6 module is excluded.
QT_MODULES = ("QtCore", "QtGui", "QtWidgets")
_ALL_QT_MODULES = (
    "Qt3DAnimation",
    "Qt3DCore",
    "Qt3DExtras",
    "Qt3DInput",
    "Qt3DLogic",
    "Qt3DRender",
    "QtAxContainer",
    "QtBluetooth",
    "QtCharts",
    "QtConcurrent",
    "QtDBus",
    "QtDataVisualization",
    "QtDesigner",
    "QtGraphs",
    "QtGraphsWidgets",
    "QtHelp",
    "QtHttpServer",
    "QtLocation",
    "QtMultimedia",
    "QtMultimediaWidgets",
    "QtNetwork",
    "QtNetworkAuth",
    "QtNfc",
    "QtOpenGL",
    "QtOpenGLWidgets",
    "QtPdf",
    "QtPdfWidgets",
    "QtPositioning",
    "QtPrintSupport",
    "QtQml",
    "QtQuick",
    "QtQuick3D",
    "QtQuickControls2",
    "QtQuickWidgets",
    "QtRemoteObjects",
    "QtScxml",
    "QtSensors",
    "QtSerialBus",
    "QtSerialPort",
    "QtSpatialAudio",
    "QtSql",
    "QtStateMachine",
    "QtSvg",
    "QtSvgWidgets",
    "QtTest",
    "QtTextToSpeech",
    "QtUiTools",
    "QtWebChannel",
    "QtWebEngineCore",
    "QtWebEngineQuick",
    "QtWebEngineWidgets",
    "QtWebSockets",
    "QtXml",
)

#: Python modules no program needs, though something may name them.
_NEVER = (
    "tkinter",
    "_tkinter",
    "unittest",
    "pydoc",
    "doctest",
    "lib2to3",
    "distutils",
    "setuptools",
    "pkg_resources",
    "pip",
    "IPython",
    "matplotlib",
    "PIL",
    "pytest",
    "hypothesis",
    "mypy",
    "numpy.f2py",
    "numpy.distutils",
    "benchmarks",
    "installers",
    "signing",
    "tests",
)

#: Python's East Asian legacy charsets (Shift-JIS, GB 18030, Big5, …): the applet's
#: text is Unicode from end to end.
_CJK_CODECS = tuple(f"_codecs_{c}" for c in ("cn", "hk", "iso2022", "jp", "kr", "tw"))

#: Lifeline packages a program must not carry (it never imports them when it runs),
#: what only a server would use (aiohttp's gunicorn worker), and zstandard's CFFI
#: backend, which it imports only when its C extension is missing (0.4 MB).
_NOT_OURS = {
    "applet": (
        "broker",
        "console",
        "aiohttp.worker",
        "gunicorn",
        "zstandard.backend_cffi",
        "zstandard._cffi",
        *_CJK_CODECS,
        # NumPy imports these on first use only, and the applet never uses them.
        "numpy.ma",
        "numpy.polynomial",
        "numpy.testing",
        "numpy.fft",
    ),
    "console": ("broker",),
    "converter": ("broker", "applet"),
}


def excludes(program: str) -> list[str]:
    """Modules for Analysis(excludes=…)."""
    qt = [f"PySide6.{m}" for m in _ALL_QT_MODULES if m not in QT_MODULES]
    return [*_NEVER, *_NOT_OURS[program], *qt]


def hidden_imports(program: str, platform: str | None = None) -> list[str]:
    """Modules imported by name at run time, which Analysis cannot see."""
    platform = platform or platform_key()
    if program == "applet" and platform == "macos":
        # applet/local_input_macos.py imports pyobjc's Quartz with importlib.
        return ["Quartz"]
    return []


# ---- trimming the collected files ---------------------------------------------------


def _qt_part(name: str) -> tuple[str, str] | None:
    """``PySide6/Qt/plugins/platforms/libqxcb.so`` → (``plugins``, ``platforms/libqxcb.so``);
    the same for ``translations``. None for anything not under PySide6's Qt folder."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    for i in range(len(parts) - 2):
        if (
            parts[i] == "PySide6"
            and parts[i + 1] == "Qt"
            and parts[i + 2]
            in (
                "plugins",
                "translations",
            )
        ):
            return parts[i + 2], "/".join(parts[i + 3 :])
    # Windows wheels keep plugins and translations right under PySide6/.
    if len(parts) > 2 and parts[0] == "PySide6" and parts[1] in ("plugins", "translations"):
        return parts[1], "/".join(parts[2:])
    return None


def keep_qt_file(name: str, program: str, platform: str | None = None) -> bool:
    """Whether a collected file under PySide6's Qt folder belongs in ``program``."""
    found = _qt_part(name)
    if found is None:
        return True
    kind, rest = found
    if kind == "plugins":
        wanted = QT_PLUGINS[platform or platform_key()][program]
        return any(fnmatch.fnmatch(rest, pattern) for pattern in wanted)
    return any(rest == f"qtbase_{lang}.qm" for lang in LANGUAGES)


#: Libraries every Linux desktop that can show the programs already has, and that must
#: match the host's own configuration (fontconfig reads /etc/fonts; X11 and D-Bus talk
#: to the session's servers). Bundling the build machine's copies adds megabytes and
#: risks a mismatch. The xcb utility libraries Qt needs (xcb-cursor, xcb-icccm, …) and
#: libxkbcommon are not on every system, so those stay in the bundle.
SYSTEM_LIBRARIES = (
    # glibc's vector math, part of the C library: it must be the system's.
    "libmvec.so.*",
    "libX11.so.*",
    # These four mss and the applet open with ctypes (find_library), from the system.
    "libXext.so.*",
    "libXfixes.so.*",
    "libXrandr.so.*",
    "libXrender.so.*",
    "libXft.so.*",
    "libXss.so.*",
    "libX11-xcb.so.*",
    "libXau.so.*",
    "libXdmcp.so.*",
    "libbsd.so.*",
    "libmd.so.*",
    "libfontconfig.so.*",
    "libfreetype.so.*",
    "libpng16.so.*",
    "libbrotli*.so.*",
    "libexpat.so.*",
    "libz.so.*",
    "libdbus-1.so.*",
    "libsystemd.so.*",
    "libgcrypt.so.*",
    "libgpg-error.so.*",
    "liblz4.so.*",
    "libcap.so.*",
    "libglib-2.0.so.*",
    "libgthread-2.0.so.*",
    "libpcre2-8.so.*",
)


def is_system_library(name: str, platform: str | None = None) -> bool:
    """A top-level library of :data:`SYSTEM_LIBRARIES` (Linux only)."""
    if (platform or platform_key()) != "linux" or "/" in name.replace("\\", "/"):
        return False
    return any(fnmatch.fnmatch(name, pattern) for pattern in SYSTEM_LIBRARIES)


def trim(
    binaries: Sequence[TocEntry], datas: Sequence[TocEntry], program: str, work: Path
) -> tuple[list[TocEntry], list[TocEntry]]:
    """What ``program`` bundles of what Analysis collected: the Qt plugins and
    translations it uses, no system libraries, placeholders on Linux (and the trimmed
    ICU data for the applet), and only libraries something kept links to. What was
    left out, and why, goes to ``work/left-out.json`` for the size report."""
    left_out: dict[str, str] = {}
    kept_binaries = []
    for entry in binaries:
        if not keep_qt_file(entry[0], program):
            left_out[entry[0]] = "a Qt plugin the program does not load"
        elif is_system_library(entry[0]):
            left_out[entry[0]] = "on every desktop (installers.bundles.SYSTEM_LIBRARIES)"
        else:
            kept_binaries.append(entry)
    kept_datas = [e for e in datas if keep_qt_file(e[0], program)]
    if platform_key() == "linux":
        kept_binaries = _slim(kept_binaries, program, work, left_out)
    pruned = prune_libraries(kept_binaries)
    for entry in kept_binaries:
        if entry not in pruned:
            left_out[entry[0]] = "nothing kept links to it"
    work.mkdir(parents=True, exist_ok=True)
    (work / "left-out.json").write_text(json.dumps(left_out, indent=1, sort_keys=True))
    return pruned, kept_datas


def _slim(
    binaries: list[TocEntry], program: str, work: Path, left_out: dict[str, str]
) -> list[TocEntry]:
    """Placeholders for what the program never calls; for the applet (the download
    people wait for) also OpenBLAS and the trimmed ICU data."""
    from installers.icu import trim_icu_data
    from installers.placeholders import (
        APPLET_PLACEHOLDERS,
        FFMPEG_PLACEHOLDERS,
        build_placeholder,
        placeholder_for,
    )

    applet = program == "applet"
    table = APPLET_PLACEHOLDERS if applet else FFMPEG_PLACEHOLDERS
    out = []
    for name, src, typecode in binaries:
        base = PurePosixPath(name.replace("\\", "/")).name
        how = placeholder_for(name, table)
        if how is not None:
            src = str(build_placeholder(Path(src), work / "placeholders", how))
            left_out[name] = f"placeholder: {how.why} (installers/placeholders.py)"
        elif applet and base.startswith("libicudata.so"):
            src = str(trim_icu_data(Path(src), work / "icu"))
            left_out[name] = "trimmed to the applet's Unicode and locale data (installers/icu.py)"
        out.append((name, src, typecode))
    return out


def lean_splash(splash_class: type[Any]) -> type[Any]:
    """PyInstaller's ``Splash`` without :data:`SYSTEM_LIBRARIES`: Tk then uses the
    desktop's X11 and fontconfig, like Qt does. (The splash's list of files to unpack
    first is settled before it is written, in ``__postinit__``.)"""

    class LeanSplash(splash_class):  # type: ignore[misc]
        def __postinit__(self) -> None:
            me: Any = self
            me.binaries = [e for e in me.binaries if not is_system_library(e[0])]
            me.splash_requirements = {r for r in me.splash_requirements if not is_system_library(r)}
            super().__postinit__()

    return LeanSplash


def _is_root(entry: TocEntry) -> bool:
    """Binaries that are loaded by name rather than linked to: Python extensions,
    Qt plugins and the Python library itself."""
    name, _, typecode = entry
    base = PurePosixPath(name.replace("\\", "/")).name.lower()
    return (
        typecode == "EXTENSION"
        or "/plugins/" in name.replace("\\", "/")
        or base.startswith(("libpython", "python3"))
    )


def prune_libraries(binaries: Sequence[TocEntry]) -> list[TocEntry]:
    """Keeps the loaded-by-name binaries and every library they link to, directly or
    through another; drops the rest (what only a dropped plugin or module needed)."""
    by_base: dict[str, list[TocEntry]] = {}
    for entry in binaries:
        by_base.setdefault(PurePosixPath(entry[0].replace("\\", "/")).name.lower(), []).append(
            entry
        )
    reached: set[TocEntry] = set()
    todo = [e for e in binaries if _is_root(e)]
    while todo:
        entry = todo.pop()
        if entry in reached:
            continue
        reached.add(entry)
        try:
            imports = direct_imports(Path(entry[1]))
        except Exception as exc:  # an unreadable file: keep it and what it may need
            log.warning("cannot read the imports of %s: %s", entry[1], exc)
            continue
        for imported in imports:
            todo.extend(by_base.get(imported.lower(), []))
    dropped = [e[0] for e in binaries if e not in reached]
    if dropped:
        log.info("libraries nothing kept links to, left out: %s", ", ".join(sorted(dropped)))
    return [e for e in binaries if e in reached]


# ---- selective strip ----------------------------------------------------------------


def _elf_sections(f: BinaryIO) -> list[tuple[int, int, int, int, int]] | None:
    """(name offset, type, file offset, size, link) of each section of a 64-bit
    little-endian ELF file; None for anything else."""
    header = f.read(64)
    if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        return None
    shoff = struct.unpack_from("<Q", header, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", header, 0x3A)
    if shoff == 0 or shnum == 0 or shentsize < 0x40:
        return None
    f.seek(shoff)
    table = f.read(shentsize * shnum)
    if len(table) < shentsize * shnum:
        return None
    sections = []
    for i in range(shnum):
        at = i * shentsize
        name, kind = struct.unpack_from("<II", table, at)
        offset, size = struct.unpack_from("<QQ", table, at + 0x18)
        link = struct.unpack_from("<I", table, at + 0x28)[0]
        sections.append((name, kind, offset, size, link))
    return sections


def _read(f: BinaryIO, offset: int, size: int) -> bytes:
    f.seek(offset)
    return f.read(min(size, 64 << 20))


def _c_string(data: bytes, at: int) -> str:
    end = data.find(b"\0", at)
    return data[at : end if end >= 0 else None].decode("ascii", "replace")


def elf_section_names(path: Path) -> list[str]:
    """Section names of a 64-bit little-endian ELF file; [] for anything else."""
    with path.open("rb") as f:
        sections = _elf_sections(f)
        if not sections:
            return []
        f.seek(0x3E)
        shstrndx = struct.unpack("<H", f.read(2))[0]
        if shstrndx >= len(sections):
            return []
        strings = _read(f, sections[shstrndx][2], sections[shstrndx][3])
    return [_c_string(strings, s[0]) for s in sections]


def elf_needed(path: Path) -> list[str]:
    """The libraries an ELF file links to directly (its DT_NEEDED entries)."""
    with path.open("rb") as f:
        sections = _elf_sections(f) or []
        for _, kind, offset, size, link in sections:
            if kind != 6 or link >= len(sections):  # SHT_DYNAMIC, and its string table
                continue
            dynamic = _read(f, offset, size)
            strings = _read(f, sections[link][2], sections[link][3])
            needed = []
            for at in range(0, len(dynamic) - 15, 16):
                tag, value = struct.unpack_from("<qQ", dynamic, at)
                if tag == 0:
                    break
                if tag == 1:  # DT_NEEDED
                    needed.append(_c_string(strings, value))
            return needed
    return []


def direct_imports(path: Path) -> list[str]:
    """Base names of the libraries a binary links to directly. PyInstaller's own
    ``get_imports`` runs ``ldd`` on Linux, which also lists what the *original* files
    beside it link to: a placeholder's would-be dependencies would be kept."""
    if platform_key() == "linux":
        return elf_needed(path)
    from PyInstaller.depend.bindepend import get_imports

    return [PurePosixPath(name.replace("\\", "/")).name for name, _ in get_imports(str(path))]


def needs_strip(name: str, path: Path) -> bool:
    """A binary outside any ``*.libs/`` folder that still has a symbol table or
    debug information."""
    parts = PurePosixPath(name.replace("\\", "/")).parts[:-1]
    if any(part.endswith(".libs") for part in parts):
        return False
    return any(s == ".symtab" or s.startswith(".debug") for s in elf_section_names(path))


def strip_selectively(binaries: Iterable[TocEntry], cache: Path) -> list[TocEntry]:
    """On Linux: stripped copies (``strip --strip-unneeded``, kept in ``cache``
    between builds) of the binaries :func:`needs_strip` picks; others as they are."""
    if platform_key() != "linux":
        return list(binaries)
    strip = shutil.which("strip")
    if strip is None:
        log.warning("strip (binutils) is not installed: the bundle keeps its debug symbols")
        return list(binaries)
    out = []
    for name, src, typecode in binaries:
        source = Path(src)
        if typecode not in ("BINARY", "EXTENSION") or not needs_strip(name, source):
            out.append((name, src, typecode))
            continue
        info = source.stat()
        key = hashlib.sha256(f"{source.resolve()}|{info.st_size}|{info.st_mtime_ns}".encode())
        target = cache / key.hexdigest()[:16] / source.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            shutil.copyfile(source, partial)
            subprocess.run([strip, "--strip-unneeded", str(partial)], check=True)
            partial.chmod(0o755)
            partial.replace(target)
        out.append((name, str(target), typecode))
    return out


# ---- what the build writes for the bundle -------------------------------------------


def defaults_hook(work: Path, broker_url: str | None, ca_fingerprint: str | None) -> Path:
    """A runtime hook that gives the applet its organisation's server, so a download
    needs no ``lifeline-broker.json`` beside it (``applet.build_defaults``)."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "lifeline_build_defaults.py"
    path.write_text(
        '"""Written by installers.bundles: the server this build of the applet uses."""\n'
        "import applet.build_defaults as _defaults\n\n"
        f"_defaults.BROKER_URL = {broker_url!r}\n"
        f"_defaults.CA_FINGERPRINT = {ca_fingerprint!r}\n"
    )
    return path


def windows_version_file(project: Project, program: str, work: Path) -> Path:
    """The version resource Windows shows in a file's properties (and SmartScreen)."""
    info = project.program(program)
    v = project.version_tuple()
    fields = {
        "CompanyName": project.metadata["publisher"],
        "FileDescription": info["description"],
        "FileVersion": project.version,
        "InternalName": info["file"],
        "LegalCopyright": project.metadata["copyright"],
        "OriginalFilename": info["file"] + ".exe",
        "ProductName": info["name"],
        "ProductVersion": project.version,
    }
    strings = ",\n".join(f"          StringStruct({k!r}, {val!r})" for k, val in fields.items())
    text = f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={v}, prodvers={v}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
{strings}
    ])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"{program}-version.txt"
    path.write_text(text)
    return path


def icon(platform: str | None = None) -> str:
    """The program icon in the format the platform's executables take."""
    platform = platform or platform_key()
    return str(ASSETS / ("lifeline.icns" if platform == "macos" else "lifeline.ico"))


def applet_datas() -> list[tuple[str, str]]:
    """The applet's own translations (compiled ``.qm`` files)."""
    return [
        (str(p), "applet/translations")
        for p in sorted((ROOT / "applet" / "translations").glob("*.qm"))
    ]
