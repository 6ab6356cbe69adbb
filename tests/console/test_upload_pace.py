"""The console's uploads run at most a window ahead of the customer's disk, and give
way while the technician's input flows (common/files/flow.py). The applet here is the
test: it accepts the upload and acknowledges what it chooses."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from common.files.flow import INTERACTIVE_FOR, INTERACTIVE_WINDOW, WINDOW, Pace
from console.file_reports import TransferState
from console.remote_files import RemoteFiles
from tests.conftest import stops_at


async def test_an_upload_gives_way_while_the_technician_uses_input(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []

    async def writable() -> None:
        await asyncio.sleep(0)

    files = RemoteFiles(sent.append, writable, lambda event: None, lambda *a, **k: None)
    now = [0.0]
    files.pace = Pace(lambda: now[0])
    files.pace.input()
    local = tmp_path / "fix.bin"
    local.write_bytes(os.urandom(3 * WINDOW))

    def of(t: str) -> list[dict[str, Any]]:
        return [m for m in sent if m["t"] == t]

    def chunks() -> int:
        return sum(len(m["data"]) for m in of("file_chunk"))

    status = files.upload(local, "/", ["tmp"])
    while not of("file_put"):
        await asyncio.sleep(0.01)
    upload_id = of("file_put")[0]["id"]
    await files.handle({"t": "file_accept", "id": upload_id, "offset": 0})
    await stops_at(chunks, INTERACTIVE_WINDOW)  # and it waits there
    now[0] += INTERACTIVE_FOR  # the technician stopped
    first = len(of("file_chunk")[0]["data"])
    await files.handle({"t": "file_ack", "id": upload_id, "offset": first})
    await stops_at(chunks, first + WINDOW)
    files.cancel(status.number)
    while not next(s for s in files.transfers() if s.number == status.number).finished:
        await asyncio.sleep(0.01)
    assert files.transfers()[0].state == TransferState.CANCELLED
