"""Recording a real session: the applet streams a real Xvfb screen with its real cursor
through the real broker; the console records what it receives to RCREC, the converter
makes an AVI of it, and the AVI shows the screen as it was, cursor included."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np

from applet.capture import MssCapturer
from applet.consent import Action
from applet.controller import QuestionAsked
from applet.cursor_x11 import X11CursorSource
from applet.session_run import recorded_by_policy
from broker.app import Broker
from common.recording import Kind, RecordingReader
from common.transport import BrokerClient, Login
from console.converter import main as convert
from console.technician_session import ConsoleEvent, RecordingChanged, TechnicianSession
from tests.applet.sessions import controller_session, ui_event
from tests.x11 import running, xdotool


async def wait_for(condition: Any, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def last_frame(path: Path) -> np.ndarray[Any, Any]:
    with av.open(str(path)) as video:
        frames = [f.to_ndarray(format="bgr24") for f in video.decode(video=0)]
    return frames[-1]


def psnr(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else float(10 * np.log10(255**2 / mse))


async def test_a_recorded_session_converts_to_what_was_on_screen(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    events: list[ConsoleEvent] = []
    path = tmp_path / "videos" / "session.rcrec"
    terminal = ["xterm", "-geometry", "80x20+40+40", "-e", "sh", "-c", "ls -l /usr/bin; sleep 600"]
    with running(terminal, display, settle=1.0):
        async with controller_session(broker, client, login, cursor=X11CursorSource(display)) as (
            console,
            controller,
        ):
            tech = TechnicianSession(console, events.append)
            tech.start()
            try:
                tech.request("view_screen")
                await controller.answer(
                    (await ui_event(controller, QuestionAsked)).question.id, True
                )
                await wait_for(lambda: tech.screen.frames > 0)
                tech.start_recording(path, {"technician": "Alice", "customer": {"name": "Bob"}})
                assert RecordingChanged(path) in events
                await asyncio.to_thread(xdotool, display, "mousemove", "400", "300")
                await asyncio.sleep(1.5)
                tech.say("recorded line")
                await asyncio.sleep(0.5)
                real = MssCapturer().grab(controller.monitor)[..., :3].copy()
                await tech.stop_recording()
                # The broker's session log says when the recording started and stopped.
                session_id = console.session_id
                assert session_id is not None

                def logged() -> list[tuple[str, dict[str, str]]]:
                    return [
                        (e.kind, broker.audit.open(e))
                        for e in broker.storage.list_session_events(session_id)
                        if e.kind.startswith("recording")
                    ]

                await wait_for(lambda: len(logged()) == 2)
                assert logged() == [
                    ("recording_start", {"file": "session.rcrec"}),
                    ("recording_stop", {"reason": "stopped by the technician"}),
                ]
            finally:
                await tech.close()
    assert RecordingChanged(None) in events

    # The file: a keyframe first, the cursor, the chat line, properly closed.
    with path.open("rb") as file:
        reader = RecordingReader(file)
        records = list(reader.records())
    assert reader.complete and reader.meta["technician"] == "Alice"
    kinds = [r.kind for r in records]
    assert Kind.SCREEN in kinds and Kind.CURSOR_SHAPE in kinds and Kind.CURSOR in kinds
    events_recorded = [r.payload for r in records if r.kind == Kind.EVENT]
    assert {"kind": "chat", "by": "technician", "text": "recorded line"} in events_recorded
    assert events_recorded[0]["kind"] == "recording_start"

    # The video: the screen as it was at the end, and the pointer drawn at 400, 300.
    assert convert([str(path), "-d", str(tmp_path / "out")]) == 0
    video = tmp_path / "out" / "session.avi"
    info = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "json",
             str(video)],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert (info["streams"][0]["width"], info["streams"][0]["height"]) == (1280, 720)
    frame = last_frame(video)
    around = np.s_[290:330, 390:430]
    without = frame.copy()
    without[around] = real[around]
    assert psnr(without, real) >= 35
    assert psnr(frame[around], real[around]) < 30  # the cursor is drawn in there


async def test_forced_recording_cannot_be_stopped_while_the_screen_is_seen(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    group = broker.storage.get_group(login.group)
    assert group is not None
    broker.storage.put_group(replace(group, permissions=[*group.permissions, "forced_recording"]))
    events: list[ConsoleEvent] = []
    path = tmp_path / "forced.rcrec"
    async with controller_session(broker, client, login) as (console, controller):
        # Both sides read it from the broker's signed policy.
        assert recorded_by_policy(controller.session)
        tech = TechnicianSession(console, events.append)
        tech.start()
        try:
            assert tech.forced_recording and tech.may_record
            tech.request("view_screen")
            await controller.answer((await ui_event(controller, QuestionAsked)).question.id, True)
            await wait_for(lambda: tech.rights.granted("view_screen"))
            tech.start_recording(path, {"technician": "Alice"})
            await tech.stop_recording()  # what the console's API offers: refused
            assert tech.recorder is not None
            assert events[-1] == RecordingChanged(
                path, "Your group records every session: the recording cannot be stopped."
            )
            # The person takes the view back: the recording ends with it.
            await controller.revoke(Action.VIEW_SCREEN)
            await wait_for(lambda: RecordingChanged(None) in events)
            assert tech.recorder is None
        finally:
            await tech.close()
    with path.open("rb") as file:
        reader = RecordingReader(file)
        stops = [r.payload for r in reader.records() if r.kind == Kind.EVENT]
    assert reader.complete
    assert stops[-1] == {"kind": "recording_stop", "reason": "the customer took the view back"}


async def test_a_group_without_recording_cannot_record(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    group = broker.storage.get_group(login.group)
    assert group is not None
    allowed = [p for p in group.permissions if p != "record_sessions"]
    broker.storage.put_group(replace(group, permissions=allowed))
    events: list[ConsoleEvent] = []
    async with controller_session(broker, client, login) as (console, _):
        tech = TechnicianSession(console, events.append)
        tech.start_recording(tmp_path / "no.rcrec", {})
        await tech.close()
    assert events == [RecordingChanged(None, "Your group does not allow recording sessions.")]
    assert not (tmp_path / "no.rcrec").exists()


async def test_a_recording_made_as_avi_encrypted_meanwhile(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    """AVI chosen: the session is recorded to an encrypted RCREC (nothing readable
    on disk meanwhile), converted when the recording stops, and the RCREC removed."""
    events: list[ConsoleEvent] = []
    path = tmp_path / "session.rcrec"
    key = bytes(range(32))
    with running(["xterm", "-geometry", "80x20+40+40"], display, settle=1.0):
        async with controller_session(broker, client, login) as (console, controller):
            tech = TechnicianSession(console, events.append)
            tech.start()
            try:
                tech.request("view_screen")
                await controller.answer(
                    (await ui_event(controller, QuestionAsked)).question.id, True
                )
                await wait_for(lambda: tech.screen.frames > 0)
                tech.start_recording(path, {"technician": "Alice"}, key, as_avi=True)
                tech.say("a line that must not be readable on disk")
                await asyncio.sleep(1.0)
                with path.open("rb") as file:
                    assert b"must not be readable" not in file.read()
                await tech.stop_recording()
                await wait_for(
                    lambda: any(e.saved for e in events if isinstance(e, RecordingChanged))
                )
            finally:
                await tech.close()
    saved = next(e.saved for e in events if isinstance(e, RecordingChanged) and e.saved)
    assert saved == tmp_path / "session.avi" and not path.exists()
    assert sorted(p.name for p in tmp_path.glob("*session*")) == ["session.avi"]
    assert last_frame(saved).shape == (720, 1280, 3)
