"""The console's uploads through the real broker, against an applet the test plays
(tests/console/scripted_applet.py): they run at most a window ahead of the customer's
disk, give way while the technician's input flows (common/files/flow.py), and stop when
the applet says it cannot go on."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from common.files.flow import INTERACTIVE_FOR, INTERACTIVE_WINDOW, WINDOW, Pace
from console.file_reports import TransferState
from console.technician_session import TechnicianSession
from tests.conftest import stops_at
from tests.console.console_events import Events
from tests.console.scripted_applet import ScriptedApplet

Scripted = tuple[TechnicianSession, ScriptedApplet, Events]


async def accept(tech: TechnicianSession, applet: ScriptedApplet, local: Path) -> tuple[int, int]:
    """Starts an upload of ``local``; the applet accepts it. Returns its number and id."""
    status = tech.files.upload(local, "/", ["tmp"])
    async with asyncio.timeout(10):
        while not applet.of("file_put"):
            await asyncio.sleep(0.01)
    upload_id = applet.of("file_put")[-1]["id"]
    applet.send({"t": "file_accept", "id": upload_id, "offset": 0})
    return status.number, upload_id


def chunks(applet: ScriptedApplet) -> int:
    return sum(len(m["data"]) for m in applet.of("file_chunk"))


async def test_an_upload_gives_way_while_the_technician_uses_input(
    scripted: Scripted, tmp_path: Path
) -> None:
    tech, applet, events = scripted
    now = [0.0]
    tech.files.pace = Pace(lambda: now[0])
    tech.files.pace.input()
    local = tmp_path / "fix.bin"
    local.write_bytes(os.urandom(3 * WINDOW))
    number, upload_id = await accept(tech, applet, local)
    await stops_at(lambda: chunks(applet), INTERACTIVE_WINDOW)  # and it waits there
    now[0] += INTERACTIVE_FOR  # the technician stopped
    first = len(applet.of("file_chunk")[0]["data"])
    applet.send({"t": "file_ack", "id": upload_id, "offset": first})
    await stops_at(lambda: chunks(applet), first + WINDOW)
    tech.files.cancel(number)
    assert (await events.finished(number)).state == TransferState.CANCELLED


async def test_an_upload_the_applet_gives_up_on_stops_at_once(
    scripted: Scripted, tmp_path: Path
) -> None:
    """The customer's disk filled up while the console waited for an acknowledgement
    that will never come: the applet's file_error ends the upload there and then."""
    tech, applet, events = scripted
    local = tmp_path / "fix.bin"
    local.write_bytes(os.urandom(3 * WINDOW))
    number, upload_id = await accept(tech, applet, local)
    await stops_at(lambda: chunks(applet), WINDOW)  # the sender waits for an acknowledgement
    applet.send({"t": "file_error", "id": upload_id, "reason": "disk_full",
                 "message": "The customer's disk is full."})  # fmt: skip
    done = await events.finished(number)
    assert done.state == TransferState.FAILED and "disk is full" in done.error
    await asyncio.sleep(0.1)
    assert chunks(applet) == WINDOW  # nothing more went
