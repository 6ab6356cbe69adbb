"""What the console's file manager reports (:class:`~console.remote_files.RemoteFiles`):
the customer's roots and folders, each transfer's state, and problems. Plain values,
without Qt, so the windows and the tests read them alike; and the readers that make
them out of what the applet sends, which is hostile (each raises ``ProtocolError``)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ProtocolError
from common.files.names import MAX_NAME_BYTES, check_component

#: The kinds of entry a listing may hold.
KINDS = ("file", "folder", "link", "other")


@dataclass(frozen=True)
class RemoteRoot:
    """Where browsing can start: ``root`` (``/``, ``C:\\``), the folders below it."""

    root: str
    path: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class RemoteEntry:
    name: str
    #: "file", "folder", "link" (not followed) or "other".
    kind: str
    size: int
    mtime: float


@dataclass(frozen=True)
class RemoteFolder:
    """One folder of the customer's computer. ``hidden``: entries left out because
    their names could not be used (a hostile or broken applet)."""

    root: str
    path: tuple[str, ...]
    entries: tuple[RemoteEntry, ...]
    truncated: bool = False
    hidden: int = 0

    def display(self) -> str:
        return display_path(self.root, self.path)


class TransferState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class TransferStatus:
    """One transfer as the transfer list shows it."""

    number: int
    #: "download" (customer → technician) or "upload" (technician → customer).
    direction: str
    name: str
    #: The file on the technician's computer.
    local: Path
    #: Where it is on the customer's computer, as a person reads it.
    remote: str
    size: int = 0
    done: int = 0
    #: Bytes a second, smoothed; 0 until measured.
    speed: float = 0.0
    state: TransferState = TransferState.QUEUED
    #: Bytes that were not sent again because an earlier attempt had them.
    resumed_from: int = 0
    error: str = ""
    md5: str = ""
    sha256: str = ""

    @property
    def seconds_left(self) -> float | None:
        if self.state != TransferState.RUNNING or self.speed <= 0:
            return None
        return max(0, self.size - self.done) / self.speed

    @property
    def finished(self) -> bool:
        return self.state in (TransferState.DONE, TransferState.FAILED, TransferState.CANCELLED)


@dataclass(frozen=True)
class RemoteRoots:
    """Where browsing the customer's computer can start."""

    roots: tuple[RemoteRoot, ...]


@dataclass(frozen=True)
class FileProblem:
    """Something the technician asked for failed (a listing, a new folder, …)."""

    text: str


FilesEvent = RemoteRoots | RemoteFolder | TransferStatus | FileProblem


def display_path(root: str, path: Sequence[str]) -> str:
    """``C:\\`` + ``[Users, ann]`` → ``C:\\Users\\ann``; ``/`` + ``[home]`` → ``/home``."""
    sep = "\\" if "\\" in root else "/"
    return root + sep.join(path) if root.endswith(sep) else sep.join([root, *path])


def text_of(value: object, limit: int) -> str:
    """A non-empty string the applet sent, of at most ``limit`` characters."""
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ProtocolError("A text field is missing or too long.")
    return value


def list_of(value: object, limit: int) -> list[Any]:
    """A list the applet sent, of at most ``limit`` items."""
    if not isinstance(value, list) or len(value) > limit:
        raise ProtocolError("A list field is missing or too long.")
    return value


def entry_of(item: object) -> RemoteEntry:
    """One entry of a listing the applet sent, checked as hostile input."""
    if not isinstance(item, dict):
        raise ProtocolError("A folder entry is not described.")
    name = check_component(item.get("name"), windows=True)
    kind, size, mtime = item.get("kind"), item.get("size"), item.get("mtime")
    if kind not in KINDS:
        raise ProtocolError("A folder entry has an unknown kind.")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ProtocolError("A folder entry has an impossible size.")
    if isinstance(mtime, bool) or not isinstance(mtime, int | float):
        raise ProtocolError("A folder entry has no time.")
    if len(name) > MAX_NAME_BYTES or any(ch < " " for ch in name):
        raise ProtocolError("A folder entry's name is too long or holds control characters.")
    return RemoteEntry(name, str(kind), size, float(mtime))


def why_failed(exc: BaseException, where: str) -> str:
    """What the file manager says when ``where`` could not be listed or changed."""
    if isinstance(exc, TimeoutError):
        return f"{where}: the customer's computer did not answer."
    return f"{where}: {exc}"
