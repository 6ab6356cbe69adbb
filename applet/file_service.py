"""The applet's file manager: the technician browses and moves files, within limits.

:class:`FileService` answers the console's ``file_*`` messages (docs/protocol.md,
section 5.12, "Files"), all on the ``FILE`` channel. It checks, itself and for every
message:

* ``file_manager`` is granted by the person (:class:`~applet.consent.Consent`); a revoke
  stops every transfer at once (the controller calls :meth:`FileService.stop`, and each
  chunk checks again);
* the signed policy allows the direction: ``receive_files`` for the technician to
  receive (a download from this computer), ``send_files`` for the technician to send (an
  upload to it);
* every name from the console: addressing an existing file needs only
  :func:`~common.files.names.check_component`; creating one needs
  :func:`~common.files.names.check_name` and must stay inside the chosen folder.

Disk work runs in worker threads (``asyncio.to_thread``; a transfer's chunks in the
low-priority ones of :mod:`common.transport.disk_threads`); a file is never read or held
whole. Roots: Linux and macOS list ``/`` and the home folder; Windows lists each drive
letter that exists (``os.listdrives`` on Python 3.12+, else probing ``A:\\`` … ``Z:\\``)
and the home folder.

The controller (:class:`~applet.controller.AppletController`) hands it every ``FILE``
message and calls :meth:`stop` when ``file_manager`` is revoked or the session ends.

:meth:`handle` raises :class:`~common.errors.ProtocolError` for a message it refuses as a
whole (the controller answers ``refused``); a problem with one listing or transfer is
answered with ``file_error`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shutil
import string
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from applet.consent import Action, Consent
from common.errors import FileError, LifelineError, ProtocolError, TransferError
from common.files.flow import Pace, ReceiveWindow, SendWindow
from common.files.messages import (
    CHUNK_SIZE,
    CONSOLE_FILE_MESSAGES,
    MAX_ENTRIES,
    MAX_ID,
    kept,
)
from common.files.names import check_component, check_name, inside, safe_child
from common.files.transfer import FileSource, PartialFile, transfer_error
from common.protocol import Channel
from common.transport.disk_threads import ReadAhead, in_disk_thread
from common.transport.file_sending import send_chunks

log = logging.getLogger("lifeline.applet.files")

#: Transfers at once, each way.
MAX_TRANSFERS = 4
#: The largest file the console may announce (and so send): 1 TiB.
MAX_FILE_SIZE = 1 << 40


class FileLink(Protocol):
    """What the service needs of the session (a :class:`~common.transport.PeerSession`)."""

    def send(self, channel: Channel, message: dict[str, Any]) -> None: ...

    async def wait_writable(self, channel: Channel) -> None: ...


@dataclass(frozen=True)
class Root:
    """A place to start browsing: ``root`` (``/``, ``C:\\``) and the folders below it."""

    root: str
    path: tuple[str, ...]
    label: str

    def as_message(self) -> dict[str, Any]:
        return {"root": self.root, "path": list(self.path), "label": self.label}


@dataclass(frozen=True)
class TransferRecord:
    """A transfer that ended, for the person's view and the log."""

    direction: str  # "download" (to the technician) or "upload" (to this computer)
    path: Path
    size: int
    #: The applet checks SHA-256; MD5, for the audit log, is the console's.
    sha256: str


def list_roots(home: Path | None = None, *, windows: bool = os.name == "nt") -> list[Root]:
    home = home if home is not None else Path.home()
    if windows:
        roots = [Root(d, (), d.rstrip("\\")) for d in _windows_drives()]
    else:
        roots = [Root("/", (), "/")]
    anchor = home.anchor
    if anchor and home != Path(anchor):
        roots.append(Root(anchor, home.parts[1:], "Home"))
    return roots


def _windows_drives() -> list[str]:  # pragma: no cover - Windows only
    if sys.version_info >= (3, 12) and hasattr(os, "listdrives"):
        return [str(d) for d in os.listdrives()]
    return [f"{letter}:\\" for letter in string.ascii_uppercase if os.path.exists(f"{letter}:\\")]


@dataclass
class _Upload:
    """An upload being received: chunks are checked as they arrive and written by a
    task of their own, so the session's messages (input first) never wait for a disk."""

    part: PartialFile
    size: int
    started: bool = False
    #: What arrived so far (written or waiting for the writer).
    arrivals: ReceiveWindow = field(
        default_factory=lambda: ReceiveWindow("The technician's computer")
    )
    chunks: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None
    stopped: bool = False

    async def halt(self) -> None:
        """Stops the writer after the chunk it is writing (within one chunk's time)."""
        self.stopped = True
        self.chunks.put_nowait(None)
        if self.writer is not None and self.writer is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.writer


@dataclass
class _Flow:
    """A download's sending window and the event its acknowledgements set."""

    window: SendWindow
    acked: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _State:
    downloads: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    uploads: dict[int, _Upload] = field(default_factory=dict)
    flows: dict[int, _Flow] = field(default_factory=dict)


class FileService:
    def __init__(
        self,
        link: FileLink,
        consent: Consent,
        permissions: set[str],
        *,
        home: Path | None = None,
        chunk_size: int = CHUNK_SIZE,
        on_transfer: Callable[[TransferRecord], None] | None = None,
        on_change: Callable[[str, Path, Path | None], None] | None = None,
    ) -> None:
        self.link = link
        self.consent = consent
        self.may_send = "send_files" in permissions  # the technician sends: uploads
        self.may_receive = "receive_files" in permissions  # the technician receives
        self.roots = list_roots(home)
        self.chunk_size = chunk_size
        self.on_transfer = on_transfer
        self.on_change = on_change
        #: Input marks it (the controller); downloads give way to input while it flows.
        self.pace = Pace()
        self._state = _State()

    # ---- the console's messages ----------------------------------------------------

    async def handle(self, message: dict[str, Any]) -> None:
        """One console message on the FILE channel. Raises :class:`ProtocolError` when
        the message is refused as a whole (answer ``refused``)."""
        message = CONSOLE_FILE_MESSAGES.check(message)
        if not self.consent.granted(Action.FILE_MANAGER):
            raise ProtocolError("Browsing and transferring files has not been allowed.")
        t = message["t"]
        if t == "file_roots":
            roots = [r.as_message() for r in self.roots]
            self._send({"t": "file_roots", "roots": roots})
            return
        transfer_id = _check_id(message["id"])
        try:
            if t == "file_list":
                await self._list(transfer_id, message)
            elif t == "file_get":
                await self._get(transfer_id, message)
            elif t == "file_put":
                await self._put(transfer_id, message)
            elif t in ("file_start", "file_chunk", "file_end"):
                await self._receive(transfer_id, message)
            elif t == "file_cancel":
                await self._cancel(transfer_id)
            elif t == "file_error":
                log.info("the console stopped transfer %d: %s", transfer_id, message["reason"])
                await self._cancel(transfer_id)
            elif t == "file_done":
                log.info("the console verified download %d", transfer_id)
            elif t == "file_ack":
                flow = self._state.flows.get(transfer_id)
                if flow is not None:  # else: a download that ended meanwhile
                    flow.window.ack(message["offset"])
                    flow.acked.set()
            elif t in ("file_mkdir", "file_rename", "file_delete"):
                await self._change(transfer_id, message)
            else:
                raise ProtocolError(f"{t!r} is not expected from the console.")
        except FileError as exc:
            reason = exc.reason if isinstance(exc, TransferError) else exc.code
            self._send_error(transfer_id, reason, str(exc))

    async def stop(self) -> None:
        """Stops every transfer (``file_manager`` was revoked, or the session ends): the
        console is told, partial uploads are removed."""
        state, self._state = self._state, _State()
        for transfer_id, task in list(state.downloads.items()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            self._send_error(transfer_id, "cancelled", "File transfers were stopped.")
        for transfer_id, upload in list(state.uploads.items()):
            await upload.halt()
            await asyncio.to_thread(upload.part.abort)
            self._send_error(transfer_id, "cancelled", "File transfers were stopped.")

    # ---- browsing ------------------------------------------------------------------

    def _location(self, message: dict[str, Any]) -> Path:
        """``root`` + ``path`` from the console: a listed root, components that cannot
        climb out of their folder."""
        root = message["root"]
        if root not in {r.root for r in self.roots}:
            raise ProtocolError("That is not one of the roots this computer listed.")
        return Path(root).joinpath(*(check_component(p) for p in message["path"]))

    async def _list(self, transfer_id: int, message: dict[str, Any]) -> None:
        folder = self._location(message)
        entries, truncated = await asyncio.to_thread(_read_folder, folder)
        self._send(
            {
                "t": "file_listing",
                "id": transfer_id,
                "root": message["root"],
                "path": message["path"],
                "entries": entries,
                "truncated": truncated,
            }
        )

    # ---- downloads: this computer → the technician ---------------------------------

    async def _get(self, transfer_id: int, message: dict[str, Any]) -> None:
        if not self.may_receive:
            raise TransferError(
                "Your technician's group may not receive files from this computer.",
                reason="policy",
            )
        self._check_new(transfer_id)
        path = self._location(message)
        offset = message.get("offset") or 0
        if not 0 <= offset <= MAX_FILE_SIZE:
            raise ProtocolError("A resume offset is out of range.")
        source = await asyncio.to_thread(FileSource, path, chunk_size=self.chunk_size, md5=False)
        try:
            start = await in_disk_thread(source.start, offset, message.get("prefix_sha256"))
        except BaseException:
            source.close()
            raise
        self._send({"t": "file_start", "id": transfer_id, "size": source.size, "offset": start})
        self._state.flows[transfer_id] = _Flow(SendWindow(start, self.pace))
        task = asyncio.get_running_loop().create_task(self._stream(transfer_id, source))
        self._state.downloads[transfer_id] = task

    async def _stream(self, transfer_id: int, source: FileSource) -> None:
        state = self._state
        flow = state.flows[transfer_id]
        chunks = ReadAhead(source.read_chunk)

        def send(offset: int, data: bytes) -> None:
            if not self.consent.granted(Action.FILE_MANAGER):
                raise TransferError("File transfers were stopped.", reason="cancelled")
            self._send({"t": "file_chunk", "id": transfer_id, "offset": offset, "data": data})

        try:
            writable = functools.partial(self.link.wait_writable, Channel.FILE)
            await send_chunks(chunks, flow.window, flow.acked, writable, send)
            end = {
                "t": "file_end",
                "id": transfer_id,
                "size": source.offset,
                "md5": source.md5,
                "sha256": source.sha256,
            }
            self._send(end)
            self._record("download", source.path, source.offset, source.sha256)
        except TransferError as exc:
            self._send_error(transfer_id, exc.reason, str(exc))
        except LifelineError:
            log.info("download %d stopped: the session is over", transfer_id)
        except Exception:
            log.exception("download %d failed", transfer_id)
            self._send_error(transfer_id, "io_error", f"{source.path.name} could not be sent.")
        finally:
            chunks.close()
            source.close()
            state.downloads.pop(transfer_id, None)
            state.flows.pop(transfer_id, None)

    # ---- uploads: the technician → this computer -----------------------------------

    async def _put(self, transfer_id: int, message: dict[str, Any]) -> None:
        if not self.may_send:
            raise TransferError(
                "Your technician's group may not send files to this computer.",
                reason="policy",
            )
        self._check_new(transfer_id)
        size = message["size"]
        if not 0 <= size <= MAX_FILE_SIZE:
            raise ProtocolError("A file size is out of range.")
        folder = self._location(message)
        dirs = [check_name(d) for d in message.get("dirs") or []]
        name = check_name(message["name"])
        dest = await asyncio.to_thread(_prepare, folder, dirs, name, bool(message.get("overwrite")))
        part = PartialFile(dest.parent, dest.name, chunk_size=self.chunk_size, md5=False)
        offset = await asyncio.to_thread(part.open, resume=True)
        if offset > size:
            await asyncio.to_thread(part.restart)
            offset = 0
        self._state.uploads[transfer_id] = _Upload(part, size)
        accept: dict[str, Any] = {"t": "file_accept", "id": transfer_id, "offset": offset}
        if part.prefix_sha256 is not None:
            accept["prefix_sha256"] = part.prefix_sha256
        self._send(accept)

    async def _receive(self, transfer_id: int, message: dict[str, Any]) -> None:
        upload = self._state.uploads.get(transfer_id)
        if upload is None:
            raise ProtocolError("There is no such upload.")
        part, t = upload.part, message["t"]
        try:
            if t == "file_start":
                if upload.started or message["size"] != upload.size:
                    raise TransferError("The file size changed.", reason="out_of_order")
                if message["offset"] == 0 and part.offset:
                    await asyncio.to_thread(part.restart)
                elif message["offset"] != part.offset:
                    raise TransferError("The upload did not resume here.", reason="out_of_order")
                upload.started = True
                upload.arrivals.begin(part.offset, upload.size)
                upload.writer = asyncio.get_running_loop().create_task(
                    self._write_upload(transfer_id, upload)
                )
            elif t == "file_chunk":
                if not upload.started:
                    raise TransferError("More data arrived than announced.", reason="out_of_order")
                length, offset = len(message["data"]), message["offset"]
                upload.arrivals.arrived(part.name, offset, length, part.offset)
                upload.chunks.put_nowait(kept(message))
            else:  # file_end
                if not upload.started:
                    raise TransferError(
                        "The upload ended before it started.", reason="out_of_order"
                    )
                upload.arrivals.end_arrived()
                upload.chunks.put_nowait(kept(message))
        except TransferError:
            self._state.uploads.pop(transfer_id, None)
            await upload.halt()
            await asyncio.to_thread(part.abort)
            raise

    async def _write_upload(self, transfer_id: int, upload: _Upload) -> None:
        """Writes an upload's chunks as they come, acknowledging each, and puts the file
        in place at its end; a failure removes the partial file and tells the console."""
        part = upload.part
        try:
            while (message := await upload.chunks.get()) is not None and not upload.stopped:
                if message["t"] == "file_chunk":
                    await in_disk_thread(part.write, message["offset"], message["data"])
                    if not upload.stopped:
                        self._send({"t": "file_ack", "id": transfer_id, "offset": part.offset})
                    continue
                md5, sha256 = await in_disk_thread(
                    part.finish, message["size"], message["md5"], message["sha256"]
                )  # md5 is "": the applet does not compute it
                self._state.uploads.pop(transfer_id, None)
                self._send({"t": "file_done", "id": transfer_id, "md5": md5, "sha256": sha256})
                self._record("upload", part.final, message["size"], sha256)
                return
        except TransferError as exc:
            if self._state.uploads.pop(transfer_id, None) is not None:
                await asyncio.to_thread(part.abort)
                self._send_error(transfer_id, exc.reason, str(exc))
        except LifelineError:
            log.info("upload %d stopped: the session is over", transfer_id)

    # ---- new folders, renames, deletions -------------------------------------------

    async def _change(self, request_id: int, message: dict[str, Any]) -> None:
        """``file_mkdir``, ``file_rename`` or ``file_delete`` of ``name`` in the folder
        ``root`` + ``path``: they change the person's files, so they need the policy's
        ``send_files`` like an upload. Answered ``file_ok`` or ``file_error``."""
        if not self.may_send:
            raise TransferError(
                "Your technician's group may not change files on this computer.",
                reason="policy",
            )
        folder = self._location(message)
        t, name = message["t"], message["name"]
        if t == "file_mkdir":
            await asyncio.to_thread(_make_folder, folder, check_name(name))
            self._changed("created folder", folder / name)
        elif t == "file_rename":
            target = check_name(message["new_name"])
            await asyncio.to_thread(_rename, folder, check_component(name), target)
            self._changed("renamed", folder / name, folder / target)
        else:
            await asyncio.to_thread(_delete, folder, check_component(name))
            self._changed("deleted", folder / name)
        self._send({"t": "file_ok", "id": request_id})

    def _changed(self, what: str, path: Path, to: Path | None = None) -> None:
        log.info("%s %s%s", what, path, f" to {to.name}" if to else "")
        if self.on_change is not None:
            self.on_change(what, path, to)

    async def _cancel(self, transfer_id: int) -> None:
        task = self._state.downloads.pop(transfer_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        upload = self._state.uploads.pop(transfer_id, None)
        if upload is not None:
            await upload.halt()
            await asyncio.to_thread(upload.part.abort)

    # ---- helpers -------------------------------------------------------------------

    def _check_new(self, transfer_id: int) -> None:
        state = self._state
        if transfer_id in state.downloads or transfer_id in state.uploads:
            raise ProtocolError("That transfer id is already in use.")
        if len(state.downloads) >= MAX_TRANSFERS or len(state.uploads) >= MAX_TRANSFERS:
            raise TransferError("Too many transfers at once; wait for one to end.", reason="busy")

    def _send(self, message: dict[str, Any]) -> None:
        self.link.send(Channel.FILE, message)

    def _send_error(self, transfer_id: int, reason: str, text: str) -> None:
        with contextlib.suppress(LifelineError):  # the session may be over already
            self._send(
                {"t": "file_error", "id": transfer_id, "reason": reason[:32], "message": text[:400]}
            )

    def _record(self, direction: str, path: Path, size: int, sha256: str) -> None:
        log.info("%s %s (%d bytes, sha256 %s)", direction, path, size, sha256)
        if self.on_transfer is not None:
            self.on_transfer(TransferRecord(direction, path, size, sha256))


def _check_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise ProtocolError("A file message id is out of range.")
    return value


def _prepare(folder: Path, dirs: list[str], name: str, overwrite: bool) -> Path:
    """Creates the folders of a folder transfer inside ``folder`` and returns where the
    file goes, refusing links that lead out and (unless ``overwrite``) existing files."""
    if not folder.is_dir():
        raise TransferError(
            f"The folder {folder.name or folder} does not exist.", reason="not_found"
        )
    dest = safe_child(folder, [*dirs, name])
    current = folder
    try:
        for d in dirs:
            current = current / d
            current.mkdir(exist_ok=True)
            inside(folder, current)
    except OSError as exc:
        raise transfer_error(exc, current.name) from None
    if not overwrite and os.path.lexists(dest):
        raise TransferError(f"{name} already exists there.", reason="exists")
    return dest


def _make_folder(folder: Path, name: str) -> None:
    path = safe_child(folder, name)
    try:
        path.mkdir()
    except FileExistsError:
        raise TransferError(f"{name} already exists there.", reason="exists") from None
    except OSError as exc:
        raise transfer_error(exc, name) from None


def _rename(folder: Path, name: str, new_name: str) -> None:
    source, target = folder / name, safe_child(folder, new_name)
    if not os.path.lexists(source):
        raise TransferError(f"{name} is not there any more.", reason="not_found")
    if os.path.lexists(target):
        raise TransferError(f"{new_name} already exists there.", reason="exists")
    try:
        source.rename(target)
    except OSError as exc:
        raise transfer_error(exc, name) from None


def _delete(folder: Path, name: str) -> None:
    """Removes a file, a link (never what it points to) or a whole folder."""
    path = folder / name
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        raise TransferError(f"{name} is not there any more.", reason="not_found") from None
    except OSError as exc:
        raise transfer_error(exc, name) from None


def _read_folder(folder: Path) -> tuple[list[dict[str, Any]], bool]:
    """The entries of ``folder``: folders first, then by name; at most MAX_ENTRIES."""
    entries: list[dict[str, Any]] = []
    truncated = False
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if len(entries) >= MAX_ENTRIES:
                    truncated = True
                    break
                try:
                    entry.name.encode("utf-8")
                except UnicodeEncodeError:
                    continue  # not valid text: the console could not name it back
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone meanwhile
                if entry.is_symlink():
                    kind = "link"
                elif entry.is_dir(follow_symlinks=False):
                    kind = "folder"
                elif entry.is_file(follow_symlinks=False):
                    kind = "file"
                else:
                    kind = "other"
                entries.append(
                    {"name": entry.name, "kind": kind, "size": st.st_size, "mtime": st.st_mtime}
                )
    except OSError as exc:
        raise transfer_error(exc, folder.name or str(folder)) from None
    entries.sort(key=lambda e: (e["kind"] != "folder", e["name"].casefold(), e["name"]))
    return entries, truncated
