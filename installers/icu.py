"""A smaller ICU data library for the applet: Qt's Unicode and locale data without the
parts the applet never reads.

Qt Core links ICU, and ICU's data library (``libicudata.so.73``, 32 MB, the largest file
of the applet) holds one *common data* package: collation tables for every language,
charset conversion tables, time zones, currencies, unit and language names, word-break
dictionaries, transliterators. Qt asks ICU for these only through QCollator, QTimeZone's
ICU back end and QStringConverter's non-Unicode charsets; the applet uses none of them
(its text is UTF-8 and UTF-16, its time zone the system's).

:func:`trim_icu_data` copies the package's items that stay (:func:`keep_item`: the
normalization and property files, charset aliases, and the locale data of the root,
English and French) into a new package and builds a library exporting it under the same
symbol and soname. An ICU call that needs a missing item gets ICU's ordinary "missing
resource" error, which Qt handles as it would on a system without that data.

The package format (``ucmndata.h``): a data header, then a table of contents (a count
and, per item, the offsets of its name and of its data, both from the table's start),
the names, and the items, each a data file with its own header, aligned to 16 bytes.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import shutil
import struct
import subprocess
from pathlib import Path

#: Locale data kept besides the root (the applet's languages).
LOCALES = ("en", "fr")
_LOCALE_NAME = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*$")


def keep_item(name: str) -> bool:
    """Whether an item of the package (``icudt73l/nfkc.nrm``) stays in the applet's."""
    parts = name.split("/")
    if len(parts) != 2:
        return False  # coll/, brkitr/, zone/, curr/, lang/, region/, unit/, translit/, …
    item = parts[1]
    stem, _, kind = item.rpartition(".")
    if kind in ("nrm", "icu"):
        return item != "unames.icu"  # character names: only for u_charName
    if kind == "res":
        if stem in ("root", "pool", "res_index"):
            return True
        if _LOCALE_NAME.match(stem):
            return stem.split("_")[0] in LOCALES
        return True  # supplemental data: likely subtags, plurals, numbering systems
    return False  # .cnv conversion tables, .spp StringPrep profiles, .cfu confusables


def _data_symbol(library: Path) -> tuple[str, int, int, str]:
    """The package's symbol in the library: (name, file offset, size, soname)."""
    symbols = subprocess.run(
        ["readelf", "--dyn-syms", "-W", str(library)], capture_output=True, text=True, check=True
    ).stdout
    sections = subprocess.run(
        ["readelf", "-S", "-W", str(library)], capture_output=True, text=True, check=True
    ).stdout
    dynamic = subprocess.run(
        ["readelf", "-d", "-W", str(library)], capture_output=True, text=True, check=True
    ).stdout
    m = re.search(
        r"\s([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+OBJECT\s+GLOBAL\s+\w+\s+(\d+)\s+(icudt\w+_dat)",
        symbols,
    )
    if m is None:
        raise ValueError(f"{library} has no ICU data symbol")
    address, size, index, name = (
        int(m.group(1), 16),
        int(m.group(2), 0),
        int(m.group(3)),
        m.group(4),
    )
    sec = re.search(rf"\[\s*{index}\]\s+\S+\s+\w+\s+([0-9a-f]+)\s+([0-9a-f]+)", sections)
    if sec is None:
        raise ValueError(f"{library}: section {index} not found")
    section_address, section_offset = int(sec.group(1), 16), int(sec.group(2), 16)
    soname = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dynamic)
    return (
        name,
        section_offset + address - section_address,
        size,
        (soname.group(1) if soname else library.name),
    )


def _align(n: int, to: int = 16) -> int:
    return (n + to - 1) // to * to


def trim_package(package: bytes) -> tuple[bytes, list[str], list[str]]:
    """The package with only the items :func:`keep_item` keeps; and the names kept
    and dropped."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", package, 0)
    if (magic1, magic2) != (0xDA, 0x27) or package[12:16] != b"CmnD":
        raise ValueError("not an ICU common data package")
    toc = bytes(package[header_size:])
    count = struct.unpack_from("<I", toc, 0)[0]
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    ends = sorted({offset for _, offset in entries} | {len(toc)})
    items = []
    for name_offset, data_offset in entries:
        name = toc[name_offset : toc.index(b"\0", name_offset)].decode("ascii")
        end = ends[bisect.bisect_right(ends, data_offset)]
        items.append((name, toc[data_offset:end]))
    kept = [(n, d) for n, d in items if keep_item(n)]  # still sorted by name, as ICU needs
    names = b"".join(n.encode("ascii") + b"\0" for n, _ in kept)
    table_size = 4 + 8 * len(kept)
    offset = _align(table_size + len(names))
    table, body, name_at = [struct.pack("<I", len(kept))], [], table_size
    for name, data in kept:
        table.append(struct.pack("<II", name_at, offset))
        name_at += len(name) + 1
        padded = data + b"\0" * (_align(len(data)) - len(data))
        body.append(padded)
        offset += len(padded)
    head = b"".join(table) + names
    head += b"\0" * (_align(len(head)) - len(head))
    trimmed = bytes(package[:header_size]) + head + b"".join(body)
    return trimmed, [n for n, _ in kept], [n for n, _ in items if not keep_item(n)]


def trim_icu_data(library: Path, out_dir: Path) -> Path:
    """Builds the trimmed library (same file name, soname and symbol) in ``out_dir``,
    cached by the original's content; returns its path."""
    digest = hashlib.sha256(library.read_bytes() + Path(__file__).read_bytes()).hexdigest()[:16]
    target = out_dir / digest / library.name
    if target.exists():
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("a C compiler (gcc) is needed to build the trimmed ICU data")
    symbol, offset, size, soname = _data_symbol(library)
    with library.open("rb") as f:
        f.seek(offset)
        package = f.read(size)
    trimmed, _, _ = trim_package(package)
    work = target.parent
    work.mkdir(parents=True, exist_ok=True)
    (work / "icudata.dat").write_bytes(trimmed)
    (work / "icudata.S").write_text(
        "\t.section .rodata\n"
        f"\t.globl {symbol}\n"
        f"\t.type {symbol}, @object\n"
        "\t.balign 16\n"
        f"{symbol}:\n"
        '\t.incbin "icudata.dat"\n'
        f"\t.size {symbol}, . - {symbol}\n"
        '\t.section .note.GNU-stack,"",@progbits\n'
    )
    partial = target.with_name(target.name + ".part")
    subprocess.run(
        [
            compiler,
            "-shared",
            "-nostdlib",
            f"-Wl,-soname,{soname}",
            "-o",
            partial.name,
            "icudata.S",
        ],
        cwd=work,
        check=True,
    )
    partial.replace(target)
    return target
