"""The technician's side of a transfer on the technician's own disk: where a download
goes, and what an upload of a folder sends."""

from __future__ import annotations

import os
from pathlib import Path

from common.errors import TransferError


def free_name(path: Path) -> Path:
    """``path``, or else the first of ``name (2).ext``, ``name (3).ext``… that does not
    exist (always the same one, so a download started again finds its partial file)."""
    for n in range(1, 1000):
        candidate = path if n == 1 else path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not os.path.lexists(candidate):
            return candidate
    raise TransferError(f"{path.name}: too many files of that name.", reason="exists")


def walk_files(folder: Path) -> tuple[list[tuple[Path, list[str]]], list[list[str]]]:
    """The regular files below ``folder`` with their folders relative to it, and the
    empty folders; links are not followed."""
    files: list[tuple[Path, list[str]]] = []
    empty: list[list[str]] = []
    for top, dirs, names in os.walk(folder, followlinks=False):
        relative = list(Path(top).relative_to(folder).parts)
        regular = [
            n
            for n in sorted(names)
            if (Path(top) / n).is_file() and not (Path(top) / n).is_symlink()
        ]
        files.extend((Path(top) / n, relative) for n in regular)
        if not regular and not dirs and relative:
            empty.append(relative)
    return files, empty
