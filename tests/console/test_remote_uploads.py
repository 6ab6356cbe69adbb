"""The console's uploads against an applet the test plays: they run at most a window
ahead of the customer's disk, give way while the technician's input flows
(common/files/flow.py), and stop when the applet says it cannot go on."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from common.files.flow import INTERACTIVE_FOR, INTERACTIVE_WINDOW, WINDOW, Pace
from console.file_reports import TransferState, TransferStatus
from console.remote_files import RemoteFiles
from tests.conftest import stops_at


class Applet:
    """The console's RemoteFiles, with the test as the applet at the other end."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

        async def writable() -> None:
            await asyncio.sleep(0)

        self.files = RemoteFiles(self.sent.append, writable, lambda e: None, lambda *a, **k: None)

    def of(self, t: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["t"] == t]

    def chunks(self) -> int:
        return sum(len(m["data"]) for m in self.of("file_chunk"))

    async def accept(self, local: Path) -> tuple[int, int]:
        """Starts an upload of ``local`` and accepts it; returns its number and id."""
        status = self.files.upload(local, "/", ["tmp"])
        async with asyncio.timeout(10):
            while not self.of("file_put"):
                await asyncio.sleep(0.01)
        upload_id = self.of("file_put")[-1]["id"]
        await self.files.handle({"t": "file_accept", "id": upload_id, "offset": 0})
        return status.number, upload_id

    async def finished(self, number: int) -> TransferStatus:
        async with asyncio.timeout(10):
            while not (status := self._status(number)).finished:
                await asyncio.sleep(0.01)
        return status

    def _status(self, number: int) -> TransferStatus:
        return next(s for s in self.files.transfers() if s.number == number)


async def test_an_upload_gives_way_while_the_technician_uses_input(tmp_path: Path) -> None:
    applet = Applet()
    now = [0.0]
    applet.files.pace = Pace(lambda: now[0])
    applet.files.pace.input()
    local = tmp_path / "fix.bin"
    local.write_bytes(os.urandom(3 * WINDOW))
    number, upload_id = await applet.accept(local)
    await stops_at(applet.chunks, INTERACTIVE_WINDOW)  # and it waits there
    now[0] += INTERACTIVE_FOR  # the technician stopped
    first = len(applet.of("file_chunk")[0]["data"])
    await applet.files.handle({"t": "file_ack", "id": upload_id, "offset": first})
    await stops_at(applet.chunks, first + WINDOW)
    applet.files.cancel(number)
    assert (await applet.finished(number)).state == TransferState.CANCELLED


async def test_an_upload_the_applet_gives_up_on_stops_at_once(tmp_path: Path) -> None:
    """The customer's disk filled up while the console waited for an acknowledgement
    that will never come: the applet's file_error ends the upload there and then."""
    applet = Applet()
    local = tmp_path / "fix.bin"
    local.write_bytes(os.urandom(3 * WINDOW))
    number, upload_id = await applet.accept(local)
    await stops_at(applet.chunks, WINDOW)  # the sender waits for an acknowledgement
    await applet.files.handle({"t": "file_error", "id": upload_id, "reason": "disk_full",
                               "message": "The customer's disk is full."})  # fmt: skip
    done = await applet.finished(number)
    assert done.state == TransferState.FAILED and "disk is full" in done.error
    assert applet.chunks() == WINDOW  # nothing more went
