"""Whole folders through the file manager: every file below a folder queued as a
transfer of the session's :class:`~console.remote_files.RemoteFiles` (with its checks:
hostile names, the destination kept inside the chosen folder), and the folders
created on the way. Links are not followed on either side."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from common.errors import FileError, LifelineError
from common.files.names import check_name, safe_child
from common.files.transfer import transfer_error
from console.file_reports import FileProblem, display_path, why_failed
from console.local_files import walk_files
from console.remote_files import RemoteFiles


async def download_folder(files: RemoteFiles, root: str, path: Sequence[str], folder: Path) -> int:
    """Queues every file below the customer's folder ``root`` + ``path`` into a new
    folder of the same name in ``folder``; returns how many."""
    try:
        target = safe_child(folder, check_name(path[-1]))
        await asyncio.to_thread(target.mkdir, exist_ok=True)
    except (FileError, IndexError) as exc:
        files.report(FileProblem(f"{display_path(root, path)}: {exc}"))
        return 0
    except OSError as exc:
        files.report(FileProblem(str(transfer_error(exc, target.name))))
        return 0
    count = 0
    pending: list[tuple[tuple[str, ...], Path]] = [(tuple(path), target)]
    while pending:
        remote, local = pending.pop()
        try:
            listing = await files.list_folder(root, remote)
        except (FileError, TimeoutError, LifelineError) as exc:
            files.report(FileProblem(why_failed(exc, display_path(root, remote))))
            continue
        for entry in listing.entries:
            if entry.kind == "folder":
                try:
                    sub = safe_child(local, check_name(entry.name))
                    await asyncio.to_thread(sub.mkdir, exist_ok=True)
                except (FileError, OSError) as exc:
                    files.report(FileProblem(f"{entry.name}: {exc}"))
                    continue
                pending.append(((*remote, entry.name), sub))
            elif entry.kind == "file":
                files.download(root, (*remote, entry.name), local, size=entry.size)
                count += 1
    return count


async def upload_folder(files: RemoteFiles, local: Path, root: str, path: Sequence[str]) -> int:
    """Queues every file below the technician's folder ``local`` to go into a folder of
    the same name in the customer's ``root`` + ``path``; empty folders are created too.
    Returns how many files."""
    found, empty = await asyncio.to_thread(walk_files, local)
    for dirs in empty:
        with contextlib.suppress(FileError, TimeoutError, LifelineError):
            await _make_folders(files, root, path, [local.name, *dirs])
    for file, dirs in found:
        files.upload(file, root, path, [local.name, *dirs])
    if not found and not empty:
        await _make_folders(files, root, path, [local.name])
    return len(found)


async def _make_folders(
    files: RemoteFiles, root: str, path: Sequence[str], dirs: Sequence[str]
) -> None:
    for depth in range(len(dirs)):
        await files.ensure_folder(root, [*path, *dirs[:depth]], dirs[depth])
