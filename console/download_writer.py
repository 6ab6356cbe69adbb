"""A download's bytes on the technician's disk (docs/protocol.md §5.12, ``file_ack``).

Each chunk is checked as it arrives (:class:`~common.files.flow.ReceiveWindow`) and
queued; a task of its own writes the chunks in order, then checks and renames the file
at its end. So the session's other messages (the screen, chat) never wait for this
disk, and an applet that sends on without waiting for ``file_ack`` is stopped instead
of queued for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from common.errors import TransferError
from common.files.flow import ReceiveWindow
from common.files.messages import kept
from common.files.transfer import PartialFile
from common.transport.disk_threads import in_disk_thread

log = logging.getLogger("lifeline.console.files")

#: How long a writer may take, once the session is over, to write what had arrived.
DRAIN_TIMEOUT = 5.0


class DownloadWriter:
    """Writes one download from ``offset`` of ``size`` bytes into ``part``; reports each
    chunk written (``written(offset)``), the file in place (``finished(md5, sha256)``)
    or why it failed (``failed(error)``), on the event loop."""

    def __init__(
        self,
        part: PartialFile,
        offset: int,
        size: int,
        *,
        written: Callable[[int], None],
        finished: Callable[[str, str], None],
        failed: Callable[[TransferError], None],
    ) -> None:
        self.part = part
        self._arrivals = ReceiveWindow("The customer's computer")
        self._arrivals.begin(offset, size)
        self._incoming: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._written, self._finished, self._failed = written, finished, failed
        self._stopped = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    def chunk(self, message: dict[str, Any]) -> None:
        """A checked ``file_chunk``; raises :class:`TransferError` when it may not come."""
        length, offset = len(message["data"]), message["offset"]
        self._arrivals.arrived(self.part.name, offset, length, self.part.offset)
        self._incoming.put_nowait(kept(message))

    def end(self, message: dict[str, Any]) -> None:
        """A checked ``file_end``: the file is finished once the chunks before it are
        written."""
        self._arrivals.end_arrived()
        self._incoming.put_nowait(kept(message))

    async def drain(self) -> None:
        """The session is over: writes what had arrived, and finishes the file if its
        end had arrived, for at most :data:`DRAIN_TIMEOUT`; a later download resumes
        from there."""
        self._incoming.put_nowait(None)
        await asyncio.wait([self._task], timeout=DRAIN_TIMEOUT)

    def stop(self) -> None:
        """Stops after the step in progress; the chunks waiting are dropped."""
        self._stopped = True
        if self._task is not asyncio.current_task():
            self._task.cancel()
        self._incoming = asyncio.Queue()

    async def _run(self) -> None:
        part = self.part
        try:
            while (message := await self._incoming.get()) is not None:
                if message["t"] == "file_end":
                    md5, sha256 = await in_disk_thread(
                        part.finish, message["size"], message["md5"], message["sha256"]
                    )
                    self._finished(md5, sha256)
                    return
                await in_disk_thread(part.write, message["offset"], message["data"])
                if self._stopped:
                    return
                self._written(part.offset)
        except TransferError as exc:
            self._failed(exc)
        except Exception:  # never a download left running with nobody writing it
            log.exception("writing %s failed", part.name)
            self._failed(TransferError(f"{part.name} could not be written.", reason="io_error"))
