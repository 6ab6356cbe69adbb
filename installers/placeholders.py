"""Placeholder libraries: a library a program links to but never calls, replaced by a
small one that exports the same names and stops the program if one is ever called.

The wheels link more than the programs use. PyAV's FFmpeg links every codec library of
the wheel (H.265, AV1, VP8/9, Opus, MP3, AMR, WebP, …), GnuTLS for ``https://`` inputs,
ALSA for capture devices and libdrm for hardware frames; Lifeline encodes and decodes
H.264 and MJPEG from memory (:data:`FFMPEG_PLACEHOLDERS`). NumPy links OpenBLAS, which
the applet's integer arithmetic never calls (:data:`APPLET_PLACEHOLDERS`). The dynamic
linker still loads every ``NEEDED`` library when ``import av`` runs, so each must
exist. A placeholder keeps the real one's soname, version nodes and exported symbols
(functions, data of the same size), so loading succeeds, and costs a few kilobytes
instead of megabytes.

A placeholder is not a silent fake: each of its functions prints which function of
which library was left out and aborts the process. A code path that starts to need one
of these libraries fails loudly in the packaging tests, never with wrong results.

Linux only (ELF; built with the C compiler and ``readelf`` from binutils).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LeftOut:
    """A library replaced by a placeholder: why it is never needed, and the functions
    FFmpeg calls on every ``import av`` while it lists its codecs, which get a
    "nothing here" answer (0 or NULL) instead of stopping the program."""

    why: str
    harmless: tuple[str, ...] = ()
    #: Functions given a real body: (name pattern, C definition with ``{name}``), for
    #: the rare caller that checks at import that the library computes.
    bodies: tuple[tuple[str, str], ...] = ()


_SDOT = (
    "float {name}(long n, const float *x, long incx, const float *y, long incy) {"
    " float s = 0; for (long i = 0; i < n; i++) s += x[i * incx] * y[i * incy]; return s; }"
)

#: FFmpeg's libraries every program's bundle replaces with placeholders (file name
#: prefixes, as auditwheel named them in ``av.libs/``). The console decodes H.264 with
#: FFmpeg's own decoder; it and the converter write AVI and MP4 files with H.264
#: (libx264) or MJPEG (FFmpeg's own), from memory to local files.
FFMPEG_PLACEHOLDERS: dict[str, LeftOut] = {
    # libavcodec asks x265 which bit depths it has (x265_api_get_<build>) and libvpx
    # what VP9 can do; with NULL and 0 it offers those encoders with no options.
    "libx265-": LeftOut("H.265 encoder; the screen codec sends H.264", ("x265_api_get_*",)),
    "libvpx-": LeftOut("VP8/VP9", ("vpx_codec_vp9_cx", "vpx_codec_vp8_cx", "vpx_codec_get_caps")),
    "libSvtAv1Enc-": LeftOut("AV1 encoder"),
    "libdav1d-": LeftOut("AV1 decoder"),
    "libopus-": LeftOut("audio"),
    "libmp3lame-": LeftOut("audio"),
    "libopencore-amrnb-": LeftOut("audio"),
    "libopencore-amrwb-": LeftOut("audio"),
    "libwebp-": LeftOut("WebP images"),
    "libwebpmux-": LeftOut("WebP images"),
    "libsharpyuv-": LeftOut("WebP images"),
    "libvpl-": LeftOut("Intel hardware codecs"),
    "libgnutls-": LeftOut("TLS for FFmpeg's network inputs; the applet's TLS is Python's"),
    "libasound-": LeftOut("ALSA capture devices (libavdevice)"),
    "libdrm-": LeftOut("hardware frames (libavutil)"),
}

#: The applet's bundle: FFmpeg's, and OpenBLAS.
APPLET_PLACEHOLDERS: dict[str, LeftOut] = {
    **FFMPEG_PLACEHOLDERS,
    # NumPy links OpenBLAS for float linear algebra; the applet's arrays are pixels,
    # hashes and counts (integers), which NumPy computes itself. NumPy's import checks
    # that a float32 dot product gives the right answer, so that one function is real.
    "libscipy_openblas": LeftOut(
        "float linear algebra (BLAS, LAPACK); the applet computes on integers",
        bodies=(("*cblas_sdot*", _SDOT),),
    ),
}


@dataclass(frozen=True)
class Symbol:
    name: str
    #: FUNC, IFUNC, OBJECT or TLS.
    kind: str
    size: int
    #: The version node (``GNUTLS_3_4``), or "" when the library has no versions.
    version: str


#: Names every shared library gets from the toolchain.
_LINKER_NAMES = {
    "_init",
    "_fini",
    "_edata",
    "_end",
    "__bss_start",
    "_DYNAMIC",
    "_GLOBAL_OFFSET_TABLE_",
}
_DYNSYM = re.compile(
    r"^\s*\d+:\s+[0-9a-f]+\s+(\d+|0x[0-9a-f]+)\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+)"
)


def exported_symbols(library: Path) -> tuple[str, list[Symbol]]:
    """The soname and the default-version symbols ``library`` defines."""
    dynamic = subprocess.run(
        ["readelf", "-d", "-W", str(library)], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dynamic)
    soname = match.group(1) if match else library.name
    table = subprocess.run(
        ["readelf", "--dyn-syms", "-W", str(library)], capture_output=True, text=True, check=True
    ).stdout
    symbols = []
    for line in table.splitlines():
        m = _DYNSYM.match(line)
        if m is None:
            continue
        size_text, kind, bind, ndx, full = m.groups()
        if (
            ndx in ("UND", "ABS")
            or bind == "LOCAL"
            or kind not in ("FUNC", "IFUNC", "OBJECT", "TLS")
        ):
            continue
        if "@" in full and "@@" not in full:
            continue  # an older, hidden version: nothing links to it by default
        name, _, version = full.partition("@@")
        if name == version or name in _LINKER_NAMES:
            continue  # the version node's own marker, or what the linker adds itself
        size = int(size_text, 0)
        symbols.append(Symbol(name, kind, size, version))
    return soname, symbols


def _c_source(library: str, symbols: list[Symbol], left_out: LeftOut) -> str:
    harmless = left_out.harmless
    lines = [
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "static void left_out(const char *name) {",
        f'    fprintf(stderr, "Lifeline: %s() of {library} was called, but this build '
        f'leaves {library} out (installers/placeholders.py).\\n", name);',
        "    abort();",
        "}",
    ]
    for i, s in enumerate(symbols):
        body = next((b for p, b in left_out.bodies if fnmatch.fnmatchcase(s.name, p)), None)
        if body is not None:
            lines.append(body.replace("{name}", s.name))
        elif s.kind in ("FUNC", "IFUNC"):
            lines.append(f'long f{i}(void) __asm__("{s.name}");')
            if any(fnmatch.fnmatchcase(s.name, pattern) for pattern in harmless):
                # Asked while FFmpeg lists what it can do: "nothing" (0, NULL) is a
                # valid answer, and the codec is then simply not offered.
                lines.append(f"long f{i}(void) {{ return 0; }}")
            else:
                lines.append(f'long f{i}(void) {{ left_out("{s.name}"); return 0; }}')
        else:
            tls = "__thread " if s.kind == "TLS" else ""
            size = max(s.size, 1)
            lines.append(
                f'{tls}char d{i}[{size}] __asm__("{s.name}") '
                "__attribute__((aligned(16), used)) = {0};"
            )
    return "\n".join(lines) + "\n"


def _version_script(symbols: list[Symbol]) -> str:
    nodes: dict[str, list[str]] = defaultdict(list)
    for s in symbols:
        nodes[s.version].append(s.name)
    unversioned = nodes.pop("", [])
    if not nodes:
        return f"{{ global: {' '.join(n + ';' for n in unversioned)} local: *; }};\n"
    # A versioned library cannot also have an anonymous node: the few names without a
    # version go into the first node (a reference without a version accepts any).
    first = next(iter(nodes))
    nodes[first].extend(unversioned)
    out = [
        f"{version} {{ global: {' '.join(n + ';' for n in names)} "
        + ("local: *; " if version == first else "")
        + "};"
        for version, names in nodes.items()
    ]
    return "\n".join(out) + "\n"


def build_placeholder(library: Path, out_dir: Path, left_out: LeftOut) -> Path:
    """Writes the placeholder for ``library`` into ``out_dir`` (same file name) and
    returns its path; cached by the library's content."""
    recipe = repr(left_out).encode() + Path(__file__).read_bytes()
    digest = hashlib.sha256(library.read_bytes() + recipe).hexdigest()[:16]
    target = out_dir / digest / library.name
    if target.exists():
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("a C compiler (gcc) is needed to build placeholder libraries")
    soname, symbols = exported_symbols(library)
    work = target.parent
    work.mkdir(parents=True, exist_ok=True)
    source = work / "placeholder.c"
    script = work / "placeholder.map"
    source.write_text(_c_source(library.name, symbols, left_out))
    script.write_text(_version_script(symbols))
    partial = target.with_name(target.name + ".part")
    subprocess.run(
        [
            compiler,
            "-shared",
            "-fPIC",
            "-O1",
            "-s",
            f"-Wl,-soname,{soname}",
            f"-Wl,--version-script={script}",
            "-o",
            str(partial),
            str(source),
        ],
        check=True,
    )
    partial.replace(target)
    return target


def placeholder_for(name: str, table: dict[str, LeftOut]) -> LeftOut | None:
    """How ``name`` (a path in the bundle) is left out, if ``table`` lists it."""
    base = Path(name.replace("\\", "/")).name
    for prefix, why in table.items():
        if base.startswith(prefix):
            return why
    return None
