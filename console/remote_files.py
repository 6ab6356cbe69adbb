"""The console's side of the file manager, without Qt: browse the customer's computer
and move files both ways (docs/protocol.md, section 5.12, "Files").

Everything the applet sends is hostile. Names in a listing are shown only if they could
name something back (:func:`~common.files.names.check_component`); a download is written
only inside the folder the technician picked (:func:`~common.files.names.safe_child`,
links followed); a sender that sends more than it announced, out of order, or bytes whose
hashes do not match fails its transfer, and the partial file is removed.

Transfers queue and run :data:`PARALLEL` at a time each way. Their progress is reported
as :class:`~console.file_reports.TransferStatus` snapshots (at most every
:data:`PROGRESS_INTERVAL` seconds while bytes flow). A transfer whose session ends keeps
its verified partial file: the same download started again (in this session or a later
one) resumes from there.
Cancelling, a revoke of ``file_manager`` and every failure remove it.

Each finished transfer and each change on the customer's computer goes to the session's
log through ``log`` (kinds ``file_transfer`` and ``file_change``; section 3.4).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from common.errors import FileError, LifelineError, ProtocolError, TransferError
from common.files.flow import Pace, SendWindow
from common.files.messages import APPLET_FILE_MESSAGES, MAX_ID
from common.files.names import check_component, check_name, safe_child
from common.files.transfer import FileSource, PartialFile, hashes_match, transfer_error
from common.transport.disk_threads import ReadAhead, in_disk_thread
from common.transport.file_sending import send_chunks
from console.download_writer import DownloadWriter
from console.file_reports import (
    FileProblem,
    FilesEvent,
    RemoteFolder,
    RemoteRoot,
    RemoteRoots,
    TransferState,
    TransferStatus,
    display_path,
    entry_of,
    list_of,
    text_of,
    why_failed,
)
from console.local_files import free_name

log = logging.getLogger("lifeline.console.files")

#: Transfers running at once each way (the applet accepts 4).
PARALLEL = 2
#: Seconds between two progress reports of one transfer.
PROGRESS_INTERVAL = 0.1
#: How long the applet may take to answer a listing or a change.
ANSWER_TIMEOUT = 30.0


@dataclass
class _Transfer:
    status: TransferStatus
    root: str
    #: The file (download) or destination folder (upload) on the customer's computer.
    path: tuple[str, ...]
    #: Upload: folders to create below ``path`` (a folder transfer).
    dirs: tuple[str, ...] = ()
    id: int = 0
    part: PartialFile | None = None
    source: FileSource | None = None
    #: An upload's chunks, read ahead of the one being sent.
    chunks: ReadAhead | None = None
    started: bool = False
    task: asyncio.Task[None] | None = None
    answer: asyncio.Future[dict[str, Any]] | None = None
    last_report: float = 0.0
    window: deque[tuple[float, int]] = field(default_factory=deque)
    #: A download's writer, once it started.
    writer: DownloadWriter | None = None
    #: An upload's sending window (common/files/flow.py) and the event acks set.
    flow: SendWindow | None = None
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    #: It stopped keeping its partial file for a later resume (the session ended).
    kept: bool = False


class RemoteFiles:
    """The file manager of one session. Call its methods on the session's event loop;
    ``report`` gets :data:`FilesEvent`s there too."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        wait_writable: Callable[[], Any],
        report: Callable[[FilesEvent], None],
        log_event: Callable[..., None],
    ) -> None:
        self._send_message = send
        self._wait_writable = wait_writable
        self.report = report
        self._log = log_event
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self._transfers: dict[int, _Transfer] = {}  # by number
        self._by_id: dict[int, _Transfer] = {}  # running, by wire id
        self._queue: deque[_Transfer] = deque()
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._roots: asyncio.Future[dict[str, Any]] | None = None
        self.roots: tuple[RemoteRoot, ...] = ()
        #: Input marks it (the technician's session); uploads give way to input.
        self.pace = Pace()

    # ---- browsing ------------------------------------------------------------------

    async def list_roots(self) -> tuple[RemoteRoot, ...]:
        loop = asyncio.get_running_loop()
        if self._roots is None or self._roots.done():
            self._roots = loop.create_future()
            self._send({"t": "file_roots"})
        message = await asyncio.wait_for(asyncio.shield(self._roots), ANSWER_TIMEOUT)
        roots = []
        for item in message["roots"]:
            try:
                root = RemoteRoot(
                    text_of(item.get("root"), 260),
                    tuple(check_component(p) for p in list_of(item.get("path"), 64)),
                    text_of(item.get("label"), 100),
                )
            except (AttributeError, FileError, ProtocolError):
                log.warning("ignored a malformed root from the applet")
                continue
            roots.append(root)
        self.roots = tuple(roots)
        return self.roots

    async def open(self) -> None:
        """Reports the customer's roots, then the home folder's entries (or the first
        root's): what the file manager shows once it is allowed."""
        try:
            roots = await self.list_roots()
        except (FileError, TimeoutError, LifelineError) as exc:
            self.report(FileProblem(why_failed(exc, "The customer's computer")))
            return
        self.report(RemoteRoots(roots))
        if roots:
            home = next((r for r in roots if r.label == "Home"), roots[0])
            await self.browse(home.root, home.path)

    async def list_folder(self, root: str, path: Sequence[str]) -> RemoteFolder:
        """One folder's entries; raises :class:`FileError` with the
        applet's reason when it cannot be listed."""
        message = await self._ask({"t": "file_list", "root": root, "path": list(path)})
        entries, hidden = [], 0
        for item in message["entries"]:
            try:
                entries.append(entry_of(item))
            except (FileError, ProtocolError):
                hidden += 1
        return RemoteFolder(root, tuple(path), tuple(entries), bool(message["truncated"]), hidden)

    async def browse(self, root: str, path: Sequence[str]) -> None:
        """Reports the folder's entries (for the file manager to show), or what went
        wrong."""
        try:
            self.report(await self.list_folder(root, path))
        except (FileError, TimeoutError, LifelineError) as exc:
            self.report(FileProblem(why_failed(exc, display_path(root, path))))

    # ---- changes on the customer's computer ----------------------------------------

    async def make_folder(self, root: str, path: Sequence[str], name: str) -> bool:
        return await self._change("file_mkdir", root, path, name, f"created folder {name}")

    async def rename(self, root: str, path: Sequence[str], name: str, new_name: str) -> bool:
        return await self._change(
            "file_rename", root, path, name, f"renamed {name} to {new_name}", new_name=new_name
        )

    async def delete(self, root: str, path: Sequence[str], name: str) -> bool:
        return await self._change("file_delete", root, path, name, f"deleted {name}")

    async def _change(
        self, t: str, root: str, path: Sequence[str], name: str, what: str, **extra: str
    ) -> bool:
        where = display_path(root, [*path, name])
        try:
            await self._ask({"t": t, "root": root, "path": list(path), "name": name, **extra})
        except (FileError, TimeoutError, LifelineError) as exc:
            self.report(FileProblem(why_failed(exc, where)))
            return False
        self._log("file_change", change=what, path=where)
        await self.browse(root, path)
        return True

    # ---- transfers -----------------------------------------------------------------

    def download(
        self, root: str, path: Sequence[str], folder: Path, *, size: int = 0
    ) -> TransferStatus:
        """Queues the customer's file ``root`` + ``path`` to be saved in ``folder``
        (under the same name, made safe; if it exists, ``name (2)``…)."""
        name = path[-1] if path else ""
        local = folder / name
        try:
            local = free_name(safe_child(folder, check_name(name)))
        except FileError as exc:
            return self._refused("download", name, local, display_path(root, path), str(exc))
        return self._queue_transfer(
            _Transfer(self._status("download", local.name, local, root, path, size), root,
                      tuple(path))
        )  # fmt: skip

    def upload(
        self, local: Path, root: str, path: Sequence[str], dirs: Sequence[str] = ()
    ) -> TransferStatus:
        """Queues the technician's file ``local`` to go into the customer's folder
        ``root`` + ``path`` (+ ``dirs``, created as needed)."""
        where = display_path(root, [*path, *dirs, local.name])
        try:
            check_name(local.name)
            size = local.stat().st_size
        except FileError as exc:
            return self._refused("upload", local.name, local, where, str(exc))
        except OSError as exc:
            return self._refused(
                "upload", local.name, local, where, str(transfer_error(exc, local.name))
            )
        status = self._status("upload", local.name, local, root, [*path, *dirs, local.name], size)
        return self._queue_transfer(_Transfer(status, root, tuple(path), tuple(dirs)))

    async def ensure_folder(self, root: str, path: Sequence[str], name: str) -> None:
        """Creates the customer's folder ``name`` in ``root`` + ``path`` unless it is
        there already (a folder transfer's own folders: no log entry, no listing)."""
        with contextlib.suppress(FileError):  # it exists already
            await self._ask({"t": "file_mkdir", "root": root, "path": list(path), "name": name})

    def cancel(self, number: int) -> None:
        """Stops a transfer; its partial file is removed on both sides."""
        transfer = self._transfers.get(number)
        if transfer is None or transfer.status.finished:
            return
        if transfer in self._queue:
            self._queue.remove(transfer)
            self._finish(transfer, TransferState.CANCELLED, "Cancelled.")
            return
        with contextlib.suppress(LifelineError):
            self._send({"t": "file_cancel", "id": transfer.id})
        self._fail(transfer, TransferState.CANCELLED, "Cancelled.")

    def retry(self, number: int) -> TransferStatus | None:
        """Starts a failed or cancelled transfer again (a download resumes from what its
        partial file holds)."""
        transfer = self._transfers.get(number)
        if transfer is None or transfer.status.state not in (
            TransferState.FAILED, TransferState.CANCELLED
        ):  # fmt: skip
            return None
        status = replace(transfer.status, state=TransferState.QUEUED, done=0, speed=0.0,
                         error="", resumed_from=0)  # fmt: skip
        return self._queue_transfer(_Transfer(status, transfer.root, transfer.path, transfer.dirs))

    def transfers(self) -> list[TransferStatus]:
        return [t.status for t in self._transfers.values()]

    async def stop(self, reason: str, *, keep_partial: bool) -> None:
        """Every transfer stops: ``file_manager`` was revoked (``keep_partial`` False),
        or the session is over (True: a later download of the same file resumes)."""
        for transfer in list(self._queue):
            self._queue.remove(transfer)
            self._finish(transfer, TransferState.FAILED, reason)
        if keep_partial:  # what had arrived of each download is written first
            drains = [t.writer.drain() for t in self._by_id.values() if t.writer is not None]
            await asyncio.gather(*drains)
        for transfer in list(self._by_id.values()):
            self._fail(transfer, TransferState.FAILED, reason, keep_partial=keep_partial)
        for future in [*self._answers.values(), self._roots]:
            if future is not None and not future.done():
                future.set_exception(TransferError(reason, reason="cancelled"))
                future.exception()  # retrieved, whether or not anybody awaits it
        self._answers.clear()

    # ---- what the applet sends -----------------------------------------------------

    async def handle(self, message: dict[str, Any]) -> None:
        """One applet message on the FILE channel; :class:`ProtocolError` if it makes no
        sense (the session ignores it)."""
        message = APPLET_FILE_MESSAGES.check(message)
        t = message["t"]
        if t == "file_roots":
            if self._roots is not None and not self._roots.done():
                self._roots.set_result(message)
            return
        request_id = message["id"]
        answer = self._answers.pop(request_id, None)
        if answer is not None:
            if t in ("file_listing", "file_ok"):
                answer.set_result(message)
            elif t == "file_error":
                answer.set_exception(_applet_error(message))
            else:
                raise ProtocolError(f"{t!r} does not answer a listing.")
            return
        transfer = self._by_id.get(request_id)
        if transfer is None:
            if t in ("file_error", "file_cancel", "file_chunk", "file_end", "file_ack"):
                return  # a transfer we stopped already
            raise ProtocolError("That file message names no transfer in progress.")
        if transfer.status.direction == "upload":
            await self._upload_message(transfer, message)
        else:
            await self._download_message(transfer, message)

    # ---- downloads -----------------------------------------------------------------

    async def _start_download(self, transfer: _Transfer) -> None:
        local = transfer.status.local
        part = PartialFile(local.parent, local.name)
        transfer.part = part
        try:
            offset = await asyncio.to_thread(part.open, resume=True)
        except TransferError as exc:
            self._fail(transfer, TransferState.FAILED, str(exc))
            return
        if transfer.status.finished:  # stopped while the partial file was checked
            if transfer.kept:
                part.close()
            else:
                part.abort()
            return
        message: dict[str, Any] = {"t": "file_get", "id": transfer.id, "root": transfer.root,
                                   "path": list(transfer.path), "offset": offset}  # fmt: skip
        if part.prefix_sha256 is not None:
            message["prefix_sha256"] = part.prefix_sha256
        self._send(message)

    async def _download_message(self, transfer: _Transfer, message: dict[str, Any]) -> None:
        part, t = transfer.part, message["t"]
        if part is None:
            raise ProtocolError("A download message arrived before the download was asked.")
        try:
            if t == "file_start":
                size, offset = message["size"], message["offset"]
                if transfer.started or size < 0:
                    raise TransferError("The download started twice.", reason="out_of_order")
                if offset == 0 and part.offset:
                    await asyncio.to_thread(part.restart)
                elif offset != part.offset:
                    raise TransferError("The download did not resume here.", reason="out_of_order")
                if transfer.status.finished:
                    return  # cancelled while the partial file started again
                transfer.started = True
                self._progress(transfer, size=size, done=offset, resumed_from=offset, force=True)
                transfer.writer = DownloadWriter(
                    part, offset, size,
                    written=lambda done: self._written(transfer, done),
                    finished=lambda md5, sha256: self._downloaded(transfer, md5, sha256),
                    failed=lambda exc: self._download_failed(transfer, exc),
                )  # fmt: skip
            elif t == "file_chunk":
                if transfer.writer is None:
                    raise TransferError("More data arrived than announced.", reason="out_of_order")
                transfer.writer.chunk(message)
            elif t == "file_end":
                if transfer.writer is None or message["size"] != transfer.status.size:
                    raise TransferError("The file's size changed.", reason="out_of_order")
                transfer.writer.end(message)
            elif t in ("file_error", "file_cancel"):
                raise _applet_error(message)
            else:
                raise ProtocolError(f"{t!r} is not part of a download.")
        except TransferError as exc:
            self._download_failed(transfer, exc)

    def _written(self, transfer: _Transfer, offset: int) -> None:
        with contextlib.suppress(LifelineError):  # over: what arrived is still written
            self._send({"t": "file_ack", "id": transfer.id, "offset": offset})
        self._progress(transfer, done=offset)

    def _downloaded(self, transfer: _Transfer, md5: str, sha256: str) -> None:
        self._done(transfer, md5, sha256)
        with contextlib.suppress(LifelineError):  # the session may be over
            self._send({"t": "file_done", "id": transfer.id, "md5": md5, "sha256": sha256})

    def _download_failed(self, transfer: _Transfer, exc: TransferError) -> None:
        if transfer.status.finished:
            return  # cancelled while its chunk was being written: already said
        if not isinstance(exc, _AppletSaid):
            with contextlib.suppress(LifelineError):
                self._send({"t": "file_error", "id": transfer.id, "reason": exc.reason,
                            "message": str(exc)[:400]})  # fmt: skip
        self._fail(transfer, TransferState.FAILED, str(exc))

    # ---- uploads -------------------------------------------------------------------

    async def _start_upload(self, transfer: _Transfer) -> None:
        transfer.answer = asyncio.get_running_loop().create_future()
        transfer.task = asyncio.get_running_loop().create_task(self._run_upload(transfer))

    async def _run_upload(self, transfer: _Transfer) -> None:
        status = transfer.status
        try:
            source = await asyncio.to_thread(FileSource, status.local)
            transfer.source = source
            put: dict[str, Any] = {"t": "file_put", "id": transfer.id, "root": transfer.root,
                                   "path": list(transfer.path), "name": status.local.name,
                                   "size": source.size}  # fmt: skip
            if transfer.dirs:
                put["dirs"] = list(transfer.dirs)
            self._send(put)
            assert transfer.answer is not None
            accept = await transfer.answer
            offset = await in_disk_thread(
                source.start, accept["offset"], accept.get("prefix_sha256")
            )
            transfer.answer = asyncio.get_running_loop().create_future()
            flow = transfer.flow = SendWindow(offset, self.pace)
            self._send({"t": "file_start", "id": transfer.id, "size": source.size,
                        "offset": offset})  # fmt: skip
            self._progress(transfer, size=source.size, done=offset, resumed_from=offset, force=True)
            chunks = transfer.chunks = ReadAhead(source.read_chunk)

            def send(at: int, data: bytes) -> None:
                self._send({"t": "file_chunk", "id": transfer.id, "offset": at, "data": data})
                self._progress(transfer, done=at + len(data))

            await send_chunks(chunks, flow, transfer.acked, self._wait_writable, send)
            self._send({"t": "file_end", "id": transfer.id, "size": source.offset,
                        "md5": source.md5, "sha256": source.sha256})  # fmt: skip
            done = await transfer.answer
            if not hashes_match(source.md5, source.sha256, done["md5"], done["sha256"]):
                raise TransferError(
                    f"{status.name} arrived damaged on the customer's computer.",
                    reason="hash_mismatch",
                )
            self._done(transfer, source.md5, source.sha256)
        except TransferError as exc:
            if not isinstance(exc, _AppletSaid):  # the applet removes its partial file
                with contextlib.suppress(LifelineError):
                    self._send({"t": "file_cancel", "id": transfer.id})
            self._fail(transfer, TransferState.FAILED, str(exc))
        except LifelineError as exc:  # the session is over
            self._fail(transfer, TransferState.FAILED, str(exc))
        finally:
            if transfer.chunks is not None:
                transfer.chunks.close()
            if transfer.source is not None:
                transfer.source.close()

    async def _upload_message(self, transfer: _Transfer, message: dict[str, Any]) -> None:
        t, answer = message["t"], transfer.answer
        if t == "file_ack" and transfer.flow is not None:
            transfer.flow.ack(message["offset"])
            transfer.acked.set()
            return
        if t in ("file_error", "file_cancel"):
            # Whatever the sender waits for (an acknowledgement, an answer), it stops.
            self._fail(transfer, TransferState.FAILED, str(_applet_error(message)))
            return
        if answer is None or answer.done():
            raise ProtocolError(f"{t!r} arrived when nothing was awaited.")
        if t == "file_accept" and not transfer.started:
            transfer.started = True
            answer.set_result(message)
        elif t == "file_done" and transfer.started:
            answer.set_result(message)
        else:
            raise ProtocolError(f"{t!r} is not part of an upload now.")

    # ---- bookkeeping ---------------------------------------------------------------

    def _status(
        self, direction: str, name: str, local: Path, root: str, path: Sequence[str], size: int
    ) -> TransferStatus:
        return TransferStatus(
            next(self._numbers), direction, name, local, display_path(root, path), size
        )

    def _refused(
        self, direction: str, name: str, local: Path, remote: str, why: str
    ) -> TransferStatus:
        status = replace(
            self._status(direction, name, local, "/", [], 0),
            remote=remote, state=TransferState.FAILED, error=why,
        )  # fmt: skip
        self.report(status)
        return status

    def _queue_transfer(self, transfer: _Transfer) -> TransferStatus:
        self._transfers[transfer.status.number] = transfer
        self._queue.append(transfer)
        self.report(transfer.status)
        self._pump()
        return transfer.status

    def _pump(self) -> None:
        """Starts queued transfers while fewer than PARALLEL run in their direction."""
        for transfer in list(self._queue):
            direction = transfer.status.direction
            running = sum(1 for t in self._by_id.values() if t.status.direction == direction)
            if running >= PARALLEL:
                continue
            self._queue.remove(transfer)
            transfer.id = self._new_id()
            self._by_id[transfer.id] = transfer
            transfer.status = replace(transfer.status, state=TransferState.RUNNING)
            self.report(transfer.status)
            start = self._start_upload if direction == "upload" else self._start_download
            task = asyncio.get_running_loop().create_task(start(transfer))
            if direction == "download":
                transfer.task = task

    def _progress(self, transfer: _Transfer, *, force: bool = False, **changes: Any) -> None:
        now = time.monotonic()
        status = replace(transfer.status, **changes)
        window = transfer.window
        window.append((now, status.done))
        while len(window) > 2 and now - window[0][0] > 3.0:
            window.popleft()
        if now - window[0][0] > 0.2:
            status = replace(status, speed=(status.done - window[0][1]) / (now - window[0][0]))
        transfer.status = status
        if force or now - transfer.last_report >= PROGRESS_INTERVAL:
            transfer.last_report = now
            self.report(status)

    def _done(self, transfer: _Transfer, md5: str, sha256: str) -> None:
        status = transfer.status
        self._finish(transfer, TransferState.DONE, "", md5=md5, sha256=sha256, done=status.size)
        self._log(
            "file_transfer", direction=status.direction, name=status.remote,
            size=str(status.size), md5=md5, sha256=sha256,
        )  # fmt: skip

    def _fail(
        self, transfer: _Transfer, state: TransferState, why: str, *, keep_partial: bool = False
    ) -> None:
        if transfer.status.finished:
            return
        part, transfer.kept = transfer.part, keep_partial
        if part is not None:
            if keep_partial:
                part.close()
            else:
                part.abort()
        task = transfer.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if transfer.writer is not None:
            transfer.writer.stop()
        if transfer.answer is not None and not transfer.answer.done():
            transfer.answer.cancel()
        self._finish(transfer, state, why)

    def _finish(self, transfer: _Transfer, state: TransferState, why: str, **changes: Any) -> None:
        self._by_id.pop(transfer.id, None)
        transfer.status = replace(transfer.status, state=state, error=why, speed=0.0, **changes)
        self.report(transfer.status)
        self._pump()

    async def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        request_id = self._new_id()
        future = asyncio.get_running_loop().create_future()
        self._answers[request_id] = future
        try:
            self._send({**message, "id": request_id})
            return await asyncio.wait_for(future, ANSWER_TIMEOUT)
        finally:
            self._answers.pop(request_id, None)

    def _new_id(self) -> int:
        while True:
            request_id = next(self._ids) % MAX_ID or 1
            if request_id not in self._by_id and request_id not in self._answers:
                return request_id

    def _send(self, message: dict[str, Any]) -> None:
        self._send_message(message)


class _AppletSaid(TransferError):
    """The applet failed or stopped the transfer itself (it has cleaned up its side)."""


def _applet_error(message: dict[str, Any]) -> TransferError:
    if message["t"] == "file_cancel":
        return _AppletSaid("The customer's computer cancelled the transfer.", reason="cancelled")
    text = message["message"].strip() or "The customer's computer could not do it."
    if message["reason"] == "cancelled":
        text = "The customer stopped file transfers."
    return _AppletSaid(text, reason=message["reason"])
