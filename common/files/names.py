"""Names that come from the other computer, treated as hostile.

Two levels of trust:

* :func:`check_component` is enough to *address* something that already exists on this
  computer (a folder being listed, a file being read): one path component, never a way
  up or across (``..``, separators, NUL, and on Windows a drive or stream colon).
* :func:`check_name` is for a name that will be *created*: on top of that, no control
  characters, no Windows reserved device names (``CON``, ``NUL``, ``COM1``…, with any
  extension and in any case), no trailing dot or space, none of ``<>:"|?*``, and at most
  255 bytes of UTF-8. The same rules hold on every system, so a name accepted on Linux
  can also be stored by a Windows peer.

:func:`safe_child` joins a checked name to the folder the person chose and
:func:`inside` makes sure the result, once links are followed, is still in it. These
two read the file system (``realpath``) and write nothing; the rest is pure.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from common.errors import FileNameError

#: Bytes of UTF-8 in one name (ext4, NTFS and APFS all stop near here).
MAX_NAME_BYTES = 255
#: Components in a relative path of a folder transfer, and bytes in all of them.
MAX_DEPTH = 64
MAX_PATH_BYTES = 4096

_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
}
_FORBIDDEN_CHARS = set('<>:"|?*')


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F


def check_component(name: object, *, windows: bool = os.name == "nt") -> str:
    """``name`` as one component that cannot leave its folder; raises
    :class:`FileNameError` otherwise. For names of things that already exist here."""
    if not isinstance(name, str) or not name:
        raise FileNameError("A file name is empty.")
    if name in (".", ".."):
        raise FileNameError(f"The name {name!r} would leave the folder.")
    if "/" in name or "\\" in name:
        raise FileNameError("A file name may not contain / or \\.")
    if "\x00" in name:
        raise FileNameError("A file name may not contain a NUL character.")
    if windows and ":" in name:
        raise FileNameError("A file name may not contain a colon (a drive or a stream).")
    return name


def check_name(name: object) -> str:
    """``name`` as a new file or folder name, safe and storable on every system; raises
    :class:`FileNameError` with a reason the person can read otherwise."""
    name = check_component(name, windows=True)
    if any(_is_control(ch) for ch in name):
        raise FileNameError("A file name may not contain control characters.")
    bad = sorted(_FORBIDDEN_CHARS & set(name))
    if bad:
        raise FileNameError(f"A file name may not contain {' '.join(bad)}.")
    if name[-1] in ". ":
        raise FileNameError("A file name may not end with a dot or a space.")
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    if stem in _RESERVED:
        raise FileNameError(f"{stem} is a reserved device name on Windows.")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise FileNameError("A file name is not valid text.") from None
    if size > MAX_NAME_BYTES:
        raise FileNameError(f"A file name is longer than {MAX_NAME_BYTES} bytes.")
    return name


def check_parts(parts: object) -> list[str]:
    """A relative path (a folder transfer's file, e.g. ``["logs", "2024", "a.txt"]``)
    as a list of components, each checked by :func:`check_name`."""
    if not isinstance(parts, list | tuple) or not parts:
        raise FileNameError("A relative path is empty.")
    if len(parts) > MAX_DEPTH:
        raise FileNameError(f"A path is more than {MAX_DEPTH} folders deep.")
    checked = [check_name(p) for p in parts]
    if sum(len(p.encode("utf-8")) + 1 for p in checked) > MAX_PATH_BYTES:
        raise FileNameError("A path is too long.")
    return checked


def inside(folder: Path, path: Path) -> Path:
    """``path`` with every link followed, if that stays in ``folder`` (also resolved);
    raises :class:`FileNameError` when a link, or anything else, leads out of it."""
    root = Path(os.path.realpath(folder))
    real = Path(os.path.realpath(path))
    if real != root and root not in real.parents:
        raise FileNameError("That name leads outside the chosen folder.")
    return real


def safe_child(folder: Path, remote_name: str | Sequence[str]) -> Path:
    """Where to create ``remote_name`` (one name, or a relative path as a list of names)
    in ``folder``; checked by :func:`check_name` and :func:`inside`. The returned path is
    the unresolved join: write there (an existing link at the very end is replaced by the
    rename, never followed)."""
    parts = [check_name(remote_name)] if isinstance(remote_name, str) else check_parts(remote_name)
    path = folder.joinpath(*parts)
    inside(folder, path)
    return path
