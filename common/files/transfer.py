"""One file in chunks, hashed at both ends while it streams; the receiving end resumable.

Thin, blocking I/O (run it in a worker thread, e.g. ``asyncio.to_thread``); no sockets,
no event loop. Neither end ever holds more than one chunk of the file.

Sender::

    source = FileSource(path)              # opens; .size is known
    source.start(offset)                   # hashes the first ``offset`` bytes again
    while chunk := source.read_chunk(): …  # send it
    source.md5, source.sha256              # once read_chunk() returned b""

Receiver::

    part = PartialFile(folder, name)       # the name already checked (names.safe_child)
    offset = part.open(resume=True)        # the verified length of an earlier attempt
    part.write(offset, data) …             # chunks in order
    part.finish(size, md5, sha256)         # checks, then renames into place

The partial file lives next to its destination under a name derived from it
(``.lifeline-<16 hex>.part``), so an attempt after a dropped link or a restart finds it.
Every failure (:class:`~common.errors.TransferError`) has already removed it, except
:meth:`PartialFile.close`, which keeps it on purpose for a later resume.

Either end may be closed (or the partial file aborted) from another thread, such as the
event loop when a transfer is cancelled, while a worker thread runs one of its steps.
Each step holds the end's lock. A stop waits at most `STOP_WAIT` for it (a chunk's
step takes about a millisecond, and the hashing of what an earlier attempt left gives
up within a chunk once a stop is asked for); past that (an ``fsync``) the step carries
out the stop on its way out. Any step after a stop raises ``TransferError``, and a
closed file's descriptor is never used again, so nothing lands in whatever file reuses
its number.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Concatenate, ParamSpec, TypeVar

from common.errors import TransferError
from common.files.messages import CHUNK_SIZE
from common.files.page_cache import DropBehind

P = ParamSpec("P")
R = TypeVar("R")

#: The longest a close or an abort waits for the step in progress (seconds): it may be
#: called on an event loop that carries input.
STOP_WAIT = 0.05

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)

_REASONS = {
    errno.EACCES: ("permission_denied", "Permission denied: {what}."),
    errno.EPERM: ("permission_denied", "Permission denied: {what}."),
    errno.EROFS: ("permission_denied", "The disk is read-only: {what}."),
    errno.ENOSPC: ("disk_full", "The disk is full: {what}."),
    errno.EDQUOT: ("disk_full", "The disk quota is used up: {what}."),
    errno.ENAMETOOLONG: ("path_too_long", "The path is too long: {what}."),
    errno.ENOENT: ("not_found", "No such file or folder: {what}."),
    errno.ENOTDIR: ("not_found", "No such folder: {what}."),
    errno.EISDIR: ("not_a_file", "That is a folder, not a file: {what}."),
    errno.ETXTBSY: ("in_use", "The file is in use by another program: {what}."),
    errno.EBUSY: ("in_use", "The file is in use by another program: {what}."),
    errno.ELOOP: ("permission_denied", "That name is a link, which is not followed: {what}."),
}
#: Windows: ERROR_SHARING_VIOLATION and ERROR_LOCK_VIOLATION.
_WINERROR_IN_USE = {32, 33}


def transfer_error(exc: OSError, what: str) -> TransferError:
    """``exc`` as a :class:`TransferError` whose message a person can act on."""
    if getattr(exc, "winerror", None) in _WINERROR_IN_USE:
        reason, text = "in_use", "The file is in use by another program: {what}."
    else:
        reason, text = _REASONS.get(exc.errno or 0, ("io_error", "{what} could not be used."))
        if reason == "io_error":
            text = f"{{what}}: {exc.strerror or 'input/output error'}."
    return TransferError(text.format(what=what), reason=reason)


class _Hashes:
    """SHA-256, and MD5 unless `md5` is False (then `md5` is "")."""

    def __init__(self, md5: bool = True) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None
        self._sha256 = hashlib.sha256()

    def update(self, data: bytes) -> None:
        if self._md5 is not None:
            self._md5.update(data)
        self._sha256.update(data)

    @property
    def md5(self) -> str:
        return "" if self._md5 is None else self._md5.hexdigest()

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


def _settle_soon(lock: threading.Lock | threading.RLock, settle: Callable[[], None]) -> None:
    """Runs `settle` (a stop asked for) under `lock` if it comes free within
    `STOP_WAIT`; otherwise the step holding it runs `settle` on its way out."""
    if lock.acquire(timeout=STOP_WAIT):
        try:
            settle()
        finally:
            lock.release()


class _Stopped(TransferError):
    """A step gave up because its end was closed meanwhile."""


def _never() -> bool:
    return False


def _hash_prefix(
    f: BinaryIO,
    length: int,
    chunk_size: int,
    hashes: _Hashes,
    stopping: Callable[[], bool] = _never,
) -> int:
    """Hashes up to ``length`` bytes from the start; returns how many there were.
    Raises `_Stopped` once `stopping()` says so (looked at before each chunk)."""
    f.seek(0)
    done = 0
    while done < length:
        if stopping():
            raise _Stopped("The transfer was stopped.", reason="cancelled")
        data = f.read(min(chunk_size, length - done))
        if not data:
            break
        hashes.update(data)
        done += len(data)
    return done


def prefix_sha256(path: Path, length: int, chunk_size: int = CHUNK_SIZE) -> str | None:
    """SHA-256 of the first ``length`` bytes of ``path``; None if it is shorter."""
    hashes = _Hashes()
    with path.open("rb") as f:
        if _hash_prefix(f, length, chunk_size, hashes) != length:
            return None
    return hashes.sha256


class FileSource:
    """The sending end: a regular file read in chunks, hashed as it goes (SHA-256, and
    MD5 unless `md5` is False: the applet leaves MD5 to the console, whose log has it)."""

    def __init__(self, path: Path, *, chunk_size: int = CHUNK_SIZE, md5: bool = True) -> None:
        self.path = path
        self.chunk_size = chunk_size
        self._with_md5 = md5
        try:
            fd = os.open(path, os.O_RDONLY | _BINARY)
        except OSError as exc:
            raise transfer_error(exc, path.name) from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise TransferError(f"{path.name} is not a regular file.", reason="not_a_file")
        self._file = os.fdopen(fd, "rb")
        self._drop = DropBehind(written=False)
        self._lock = threading.Lock()
        #: `close` was called; the file is closed once no step holds the lock.
        self._closed = False
        self.size = st.st_size
        self.mtime = st.st_mtime
        self.offset = 0
        self._hashes = _Hashes(md5)

    def start(self, offset: int = 0, expected_prefix: str | None = None) -> int:
        """Hashes the first ``offset`` bytes and continues after them, if they match
        ``expected_prefix`` (the receiver's SHA-256 of its partial file); otherwise starts
        at 0. Returns the offset the transfer really starts at."""
        if offset <= 0 or offset > self.size or expected_prefix is None:
            offset = 0
        with self._lock:
            self._require_open()
            try:
                hashes = _Hashes(self._with_md5)
                done = _hash_prefix(
                    self._file, offset, self.chunk_size, hashes, lambda: self._closed
                )
                if done != offset or hashes.sha256 != expected_prefix:
                    hashes, offset = _Hashes(self._with_md5), 0
                    self._file.seek(0)
                self._drop.passed(self._file.fileno(), offset)  # before a close meanwhile
            except OSError as exc:
                raise transfer_error(exc, self.path.name) from None
            finally:
                self._settle()
            self._hashes, self.offset = hashes, offset
        return offset

    def read_chunk(self) -> bytes:
        """The next chunk (hashed), or b"" at the end of the file."""
        with self._lock:
            self._require_open()
            try:
                data = self._file.read(self.chunk_size)
                # Before a close meanwhile (settled below), while the file is ours.
                if data:
                    self._drop.passed(self._file.fileno(), self.offset + len(data))
                else:
                    self._drop.done(self._file.fileno(), self.offset)
            except OSError as exc:
                raise transfer_error(exc, self.path.name) from None
            finally:
                self._settle()
            self._hashes.update(data)
            self.offset += len(data)
        return data

    @property
    def md5(self) -> str:
        return self._hashes.md5

    @property
    def sha256(self) -> str:
        return self._hashes.sha256

    def close(self) -> None:
        """Closes the file: after the step in progress, or as it ends if that takes
        longer than `STOP_WAIT`."""
        self._closed = True
        _settle_soon(self._lock, self._settle)

    def _settle(self) -> None:
        """With the lock held: carries out a close asked for meanwhile."""
        if self._closed:
            self._file.close()

    def _require_open(self) -> None:
        if self._closed:
            raise TransferError(f"{self.path.name}: the transfer was stopped.", reason="cancelled")


def hashes_match(md5: str, sha256: str, other_md5: str, other_sha256: str) -> bool:
    """Whether two ends' hashes of a file agree: SHA-256 always, MD5 when both have it."""
    return sha256 == other_sha256 and (not md5 or not other_md5 or md5 == other_md5)


def part_name(name: str) -> str:
    """Where the partial file of ``name`` lives, next to it: short, hidden, fixed."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f".lifeline-{digest}.part"


def _locked(
    method: Callable[Concatenate[PartialFile, P], R],
) -> Callable[Concatenate[PartialFile, P], R]:
    """A :class:`PartialFile` step that holds the file's lock, and carries out a stop
    asked for while it ran."""

    def step(self: PartialFile, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            finally:
                self._settle()  # a stop asked for meanwhile

    functools.update_wrapper(step, method)  # its name and docstring
    return step


class PartialFile:
    """The receiving end: chunks into a temporary file beside ``folder / name``, checked
    and renamed into place by :meth:`finish`. Hashed with SHA-256, and MD5 unless `md5`
    is False."""

    def __init__(
        self, folder: Path, name: str, *, chunk_size: int = CHUNK_SIZE, md5: bool = True
    ) -> None:
        self.folder = folder
        self.name = name
        self.final = folder / name
        self.temp = folder / part_name(name)
        self.chunk_size = chunk_size
        self.offset = 0
        self._file: BinaryIO | None = None
        self._drop = DropBehind(written=True)
        #: Held by every step that uses the file; re-entrant: a failing step aborts.
        self._lock = threading.RLock()
        #: A stop asked for while a step held the lock: close, and remove too; set and
        #: taken under `_flags`, since a stop sets them without the lock.
        self._stopping = self._remove = False
        self._flags = threading.Lock()
        self._with_md5 = md5
        self._hashes = _Hashes(md5)

    @_locked
    def open(self, *, resume: bool = True) -> int:
        """Opens (or creates) the partial file; returns the verified offset to resume
        from: the length of what an earlier attempt left, hashed again now, or 0. A link
        in its place is refused, never followed."""
        flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _BINARY
        if not resume:
            flags |= os.O_TRUNC
        try:
            fd = os.open(self.temp, flags, 0o600)
            # Unbuffered: what was acknowledged is in the file even if this process is
            # killed the next moment, so an attempt after a restart resumes from it.
            self._file = os.fdopen(fd, "r+b", buffering=0)
            self._drop.restart()
            self._hashes = _Hashes(self._with_md5)
            self.offset = _hash_prefix(
                self._file, 1 << 62, self.chunk_size, self._hashes, lambda: self._stopping
            )
            self._drop.passed(fd, self.offset)
        except OSError as exc:
            self.abort()
            raise transfer_error(exc, self.name) from None
        return self.offset

    @property
    def prefix_sha256(self) -> str | None:
        """SHA-256 of what is verified so far (for ``file_accept``), None when empty."""
        return self._hashes.sha256 if self.offset else None

    @_locked
    def restart(self) -> None:
        """The sender could not continue where we are: start again from 0."""
        f = self._require_open()
        try:
            f.seek(0)
            f.truncate()
        except OSError as exc:
            self.abort()
            raise transfer_error(exc, self.name) from None
        self._hashes, self.offset = _Hashes(self._with_md5), 0
        self._drop.restart()

    @_locked
    def write(self, offset: int, data: bytes) -> None:
        """Appends ``data``, which must start at the current end."""
        f = self._require_open()
        if offset != self.offset:
            self.abort()
            raise TransferError(
                f"{self.name}: a chunk arrived out of order.", reason="out_of_order"
            )
        try:
            f.seek(offset)
            view = memoryview(data)
            while view:  # a raw file may take part of a write
                written = f.write(view)
                if not written:
                    raise OSError(errno.EIO, "the file took no more data")
                view = view[written:]
        except OSError as exc:
            self.abort()
            raise transfer_error(exc, self.name) from None
        self._hashes.update(data)
        self.offset += len(data)
        self._drop.passed(f.fileno(), self.offset)

    @_locked
    def finish(self, size: int, md5: str, sha256: str) -> tuple[str, str]:
        """Checks the length and SHA-256, and MD5 when both ends have one (an empty `md5`
        is none), then renames into place atomically (replacing a file of that name).
        Returns (md5, sha256) as computed here. A mismatch removes the partial file and
        raises ``TransferError(reason="hash_mismatch")``."""
        f = self._require_open()
        if self.offset != size or not hashes_match(
            self._hashes.md5, self._hashes.sha256, md5, sha256
        ):
            self.abort()
            raise TransferError(
                f"{self.name} arrived damaged (its checksum does not match); "
                "the partial file was removed.",
                reason="hash_mismatch",
            )
        try:
            f.flush()
            os.fsync(f.fileno())
            if self._stopping and self._remove:  # cancelled while it was being synced
                raise _Stopped("The transfer was stopped.", reason="cancelled")
            self._drop.done(f.fileno(), self.offset)
            f.close()
            self._file = None
            os.replace(self.temp, self.final)
        except OSError as exc:
            self.abort()
            raise transfer_error(exc, self.name) from None
        return self._hashes.md5, self._hashes.sha256

    def close(self) -> None:
        """Stops, keeping what is verified for a later :meth:`open` to resume: after
        the step in progress, or as it ends if that takes longer than `STOP_WAIT`."""
        self._stop(remove=False)

    def abort(self) -> None:
        """Stops and removes the partial file, nothing half-written stays: after the
        step in progress, or as it ends if that takes longer than `STOP_WAIT`."""
        self._stop(remove=True)

    def _stop(self, *, remove: bool) -> None:
        with self._flags:
            self._remove |= remove
            self._stopping = True
        _settle_soon(self._lock, self._settle)

    def _settle(self) -> None:
        """With the lock held: carries out the stop asked for, if any."""
        with self._flags:
            stopping, remove = self._stopping, self._remove
            self._stopping = self._remove = False
        if not stopping:
            return
        if self._file is not None:
            self._file.close()
            self._file = None
        if remove:
            with contextlib.suppress(OSError):
                self.temp.unlink(missing_ok=True)

    def _require_open(self) -> BinaryIO:
        if self._stopping:
            raise _Stopped(f"{self.name}: the transfer was stopped.", reason="cancelled")
        if self._file is None:
            raise TransferError(f"{self.name}: the transfer is not open.", reason="io_error")
        return self._file
