"""installers/: what each bundle keeps, placeholders, the trimmed ICU data, the size
report. Fast: nothing here runs PyInstaller (test_built_applet.py does)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy
import pytest

from installers import bundles, icu, placeholders, sizes
from installers.project import Project

SITE = Path(numpy.__file__).parents[1]
ICU_DATA = SITE / "PySide6" / "Qt" / "lib" / "libicudata.so.73"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF tools: Linux")
needs_cc = pytest.mark.skipif(
    shutil.which("cc") is None or shutil.which("readelf") is None,
    reason="gcc and binutils (readelf) are needed; scripts/bootstrap installs them",
)


def test_the_version_comes_from_pyproject_and_the_applet_name_has_no_digits() -> None:
    project = Project.load()
    text = (project.root / "pyproject.toml").read_text()
    assert f'version = "{project.version}"' in text
    for platform in ("linux", "windows", "macos"):
        name = project.applet_file(platform)
        # The applet reads a session code from digits in its own name.
        assert not any(c.isdigit() for c in name), name
    assert project.version_tuple()[:3] == tuple(int(p) for p in project.version.split(".")[:3])


@pytest.mark.parametrize(
    ("name", "program", "platform", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "applet", "linux", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", "applet", "linux", False),
        (
            "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
            "applet",
            "linux",
            False,
        ),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", "console", "linux", False),
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", "console", "linux", True),
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", "applet", "linux", False),
        ("PySide6/plugins/platforms/qwindows.dll", "applet", "windows", True),
        ("PySide6/plugins/styles/qmodernwindowsstyle.dll", "applet", "windows", True),
        ("PySide6/Qt/translations/qtbase_fr.qm", "applet", "linux", True),
        ("PySide6/Qt/translations/qtbase_de.qm", "applet", "linux", False),
        ("PySide6/Qt/translations/qtdeclarative_fr.qm", "applet", "linux", False),
        ("PySide6/Qt/lib/libQt6Core.so.6", "applet", "linux", True),
        ("numpy/_core/_multiarray_umath.so", "applet", "linux", True),
    ],
)
def test_a_bundle_keeps_only_the_qt_plugins_and_translations_its_program_uses(
    name: str, program: str, platform: str, kept: bool
) -> None:
    assert bundles.keep_qt_file(name, program, platform) is kept


def test_system_libraries_are_the_desktops_and_only_top_level_ones() -> None:
    assert bundles.is_system_library("libX11.so.6", "linux")
    assert bundles.is_system_library("libfontconfig.so.1", "linux")
    assert bundles.is_system_library("libmvec.so.1", "linux")
    # Qt needs these and many systems lack them: they stay.
    assert not bundles.is_system_library("libxcb-cursor.so.0", "linux")
    assert not bundles.is_system_library("libxkbcommon-x11.so.0", "linux")
    assert not bundles.is_system_library("av.libs/libxcb-5ddf6756.so.1.1.0", "linux")
    assert not bundles.is_system_library("libX11.so.6", "windows")


def test_the_applet_leaves_out_the_console_the_broker_and_unused_qt() -> None:
    excluded = set(bundles.excludes("applet"))
    assert {"console", "broker", "PySide6.QtNetwork", "PySide6.QtQml", "tkinter"} <= excluded
    assert not {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets"} & excluded
    assert "applet" not in bundles.excludes("console")


@linux_only
def test_elf_reading_finds_sections_and_direct_needs() -> None:
    umath = next((SITE / "numpy" / "_core").glob("_multiarray_umath*.so"))
    needed = bundles.elf_needed(umath)
    assert any(n.startswith("libscipy_openblas") for n in needed)
    # Direct needs only: OpenBLAS's own libgfortran is not numpy's.
    assert not any(n.startswith("libgfortran") for n in needed)
    assert ".dynsym" in bundles.elf_section_names(umath)
    assert bundles.elf_needed(Path(__file__)) == []


@linux_only
@needs_cc
def test_strip_leaves_wheel_libs_folders_alone(tmp_path: Path) -> None:
    source = tmp_path / "mod.c"
    source.write_text("int visible(void) { return 42; }\n")
    lib = tmp_path / "libmod.so"
    subprocess.run(["cc", "-g", "-shared", "-fPIC", "-o", lib, source], check=True)
    assert bundles.needs_strip("pkg/libmod.so", lib)
    assert not bundles.needs_strip("pkg.libs/libmod.so", lib)
    [(name, stripped, _)] = bundles.strip_selectively(
        [("pkg/libmod.so", str(lib), "BINARY")], tmp_path / "cache"
    )
    assert name == "pkg/libmod.so" and Path(stripped) != lib
    assert not bundles.needs_strip(name, Path(stripped))
    assert ctypes.CDLL(stripped).visible() == 42
    [untouched] = bundles.strip_selectively([("x.libs/libmod.so", str(lib), "BINARY")], tmp_path)
    assert untouched[1] == str(lib)


def _library(tmp_path: Path) -> Path:
    """A small versioned library with functions and data, like a wheel's."""
    source = tmp_path / "real.c"
    source.write_text(
        textwrap.dedent(
            """
            int table[10] = {1, 2, 3};
            int probe(void) { return 7; }
            int work(int x) { return x * 2; }
            float my_sdot(long n, const float *x, long ix, const float *y, long iy)
            { return -1; }
            """
        )
    )
    script = tmp_path / "real.map"
    script.write_text("REAL_1 { global: table; probe; work; my_sdot; local: *; };\n")
    lib = tmp_path / "libreal-abc123.so.1"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-Wl,-soname,libreal-abc123.so.1",
         f"-Wl,--version-script={script}", "-o", lib, source],
        check=True,
    )  # fmt: skip
    return lib


@linux_only
@needs_cc
def test_a_placeholder_loads_like_the_real_library_and_stops_when_called(tmp_path: Path) -> None:
    real = _library(tmp_path)
    how = placeholders.LeftOut(
        "a test", harmless=("probe",), bodies=(("*sdot", placeholders._SDOT),)
    )
    fake = placeholders.build_placeholder(real, tmp_path / "out", how)
    soname, symbols = placeholders.exported_symbols(fake)
    assert soname == "libreal-abc123.so.1"
    assert {(s.name, s.version) for s in symbols} >= {("table", "REAL_1"), ("work", "REAL_1")}
    assert next(s for s in symbols if s.name == "table").size == 40
    # A program linked against the real library runs against the placeholder.
    program = tmp_path / "use.c"
    program.write_text(
        textwrap.dedent(
            """
            #include <stdio.h>
            extern int table[10]; int probe(void); int work(int);
            float my_sdot(long, const float *, long, const float *, long);
            int main(int argc, char **argv) {
                float v[2] = {1, 2};
                printf("%d %d %.1f\\n", table[0], probe(), my_sdot(2, v, 1, v, 1));
                fflush(stdout);
                if (argc > 1) return work(3);
                return 0;
            }
            """
        )
    )
    exe = tmp_path / "use"
    subprocess.run(["cc", "-o", exe, program, real, f"-Wl,-rpath,{tmp_path}"], check=True)
    assert subprocess.run([exe], capture_output=True, text=True).stdout == "1 7 -1.0\n"
    real.write_bytes(fake.read_bytes())  # now the placeholder stands in
    ok = subprocess.run([exe], capture_output=True, text=True)
    assert (ok.returncode, ok.stdout) == (0, "0 0 5.0\n")
    called = subprocess.run([exe, "work"], capture_output=True, text=True)
    assert called.returncode == -6  # SIGABRT
    assert "work() of libreal-abc123.so.1 was called" in called.stderr


def test_placeholders_name_what_they_stand_for() -> None:
    assert placeholders.placeholder_for(
        "av.libs/libx265-f5385bb8.so.216", placeholders.FFMPEG_PLACEHOLDERS
    )
    assert (
        placeholders.placeholder_for(
            "av.libs/libx264-d6533a8d.so.165", placeholders.FFMPEG_PLACEHOLDERS
        )
        is None
    )
    openblas = "numpy.libs/libscipy_openblas64_-32a4b2a6.so"
    assert placeholders.placeholder_for(openblas, placeholders.FFMPEG_PLACEHOLDERS) is None
    assert placeholders.placeholder_for(openblas, placeholders.APPLET_PLACEHOLDERS)


@linux_only
@pytest.mark.skipif(not ICU_DATA.exists(), reason="this PySide6 has no libicudata.so.73")
@pytest.mark.skipif(shutil.which("readelf") is None, reason="binutils (readelf) is needed")
def test_the_trimmed_icu_package_keeps_its_items_byte_for_byte() -> None:
    name, offset, size, soname = icu._data_symbol(ICU_DATA)
    assert (name, soname) == ("icudt73_dat", "libicudata.so.73")
    with ICU_DATA.open("rb") as f:
        f.seek(offset)
        package = f.read(size)
    trimmed, kept, dropped = icu.trim_package(package)
    assert len(trimmed) < len(package) // 10
    assert any(n.endswith("/nfkc.nrm") for n in kept)
    assert any(n.endswith("/fr.res") for n in kept) and any(n.endswith("/root.res") for n in kept)
    assert any("/coll/" in n for n in dropped) and any(n.endswith(".cnv") for n in dropped)
    # Reading the trimmed package back gives the same items with the same bytes.
    again, kept_again, dropped_again = icu.trim_package(trimmed)
    assert (again, kept_again, dropped_again) == (trimmed, kept, [])


def test_components_group_what_a_library_brings() -> None:
    assert sizes.component("PySide6/Qt/lib/libQt6Core.so.6") == "Qt: Core"
    assert sizes.component("PySide6/Qt/lib/libicudata.so.73") == "Qt: ICU (Unicode data)"
    assert sizes.component("PySide6/Qt/plugins/platforms/libqxcb.so") == "Qt plugins: platforms"
    assert sizes.component("PySide6/QtWidgets.abi3.so") == "PySide6 bindings"
    assert sizes.component("av.libs/libavcodec-5e6b81c2.so.62") == "av (its libraries)"
    assert sizes.component("numpy/_core/_multiarray_umath.so") == "numpy"
    assert sizes.component("libxcb-icccm.so.4") == "system: libxcb*"
    assert sizes.component("libtcl8.6.so") == "splash (Tcl/Tk)"
    assert sizes.module_component("applet.controller") == "Lifeline: applet/"
    assert sizes.module_component("asyncio.events") == "Python standard library"
