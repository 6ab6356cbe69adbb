"""The console's side of a session against the real applet controller, through the real
broker, with real capture on Xvfb."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import mss
import numpy as np
import pytest

from applet.consent import Action
from applet.controller import QuestionAsked
from applet.cursor_x11 import X11CursorSource
from applet.inject_x11 import X11Injector
from broker.app import Broker
from common.transport import BrokerClient, Ended, Login
from console.rights import RightChanged, RightState
from console.technician_session import (
    ChatLine,
    ConsoleEvent,
    ScreenChanged,
    SystemInfo,
    TechnicianSession,
)
from tests.applet.sessions import controller_session, ui_event
from tests.x11 import pointer, running


@pytest.fixture
def display(display: str) -> Iterator[str]:
    with running(["xterm", "-geometry", "80x24+0+0"], display):
        yield display


class Events:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[ConsoleEvent] = asyncio.Queue()

    async def next(self, kind: type, where: Any = lambda e: True) -> Any:
        async with asyncio.timeout(10):
            while True:
                event = await self.queue.get()
                if isinstance(event, kind) and where(event):
                    return event


@pytest.fixture
async def pair(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> AsyncIterator[tuple[TechnicianSession, Any, Events]]:
    cursor = X11CursorSource(display)
    async with controller_session(broker, client, login, X11Injector(display), cursor) as (
        console,
        controller,
    ):
        events = Events()
        tech = TechnicianSession(console, events.queue.put_nowait)
        tech.start()
        yield tech, controller, events
        await tech.close()
    cursor.close()


async def allow(controller: Any) -> None:
    asked = await ui_event(controller, QuestionAsked)
    await controller.answer(asked.question.id, True)


async def test_the_decoded_screen_is_the_applets_screen(
    display: str, pair: tuple[TechnicianSession, Any, Events]
) -> None:
    tech, controller, events = pair
    tech.request("view_screen")
    assert (await events.next(RightChanged)).state == RightState.PENDING
    await allow(controller)
    granted = await events.next(RightChanged)
    assert (granted.action, granted.state) == ("view_screen", RightState.GRANTED)
    await events.next(ScreenChanged)
    await asyncio.sleep(0.5)  # let the stream catch up with a still screen
    with mss.MSS(display=display) as grabber:
        shot = np.asarray(grabber.grab(grabber.monitors[1]))[:, :, :3]
    async with asyncio.timeout(10):
        while True:
            with tech.screen.lock:
                same = np.array_equal(tech.screen.decoder.framebuffer, shot)
            if same:
                break
            await events.next(ScreenChanged)
    assert tech.screen.cursor.width > 0  # the shape came with the first picture


async def test_input_goes_only_while_control_is_granted(
    display: str, pair: tuple[TechnicianSession, Any, Events]
) -> None:
    tech, controller, events = pair
    assert not tech.send_input({"kind": "move", "x": 10, "y": 10})
    assert tech.input_withheld == 1
    assert tech.files.pace.last_input == -math.inf  # uploads go on at full speed
    tech.request("remote_control")
    await allow(controller)
    await events.next(RightChanged, lambda e: e.action == "remote_control" and e.state == "granted")
    before = time.monotonic()
    assert tech.send_input({"kind": "move", "x": 222, "y": 111})
    # Uploads give way to the technician's input (common/files/flow.py).
    assert before <= tech.files.pace.last_input <= time.monotonic()
    async with asyncio.timeout(5):
        while await asyncio.to_thread(pointer, display) != (222, 111):
            await asyncio.sleep(0.05)
    assert before < controller.files.pace.last_input  # and the customer's downloads
    await controller.revoke(Action.REMOTE_CONTROL)
    await events.next(RightChanged, lambda e: e.action == "remote_control" and e.state == "revoked")
    assert not tech.send_input({"kind": "move", "x": 5, "y": 5})


async def test_chat_sysinfo_and_the_end(
    display: str, pair: tuple[TechnicianSession, Any, Events]
) -> None:
    tech, controller, events = pair
    tech.say("Hello Bob")
    assert (await events.next(ChatLine)).sender == "technician"
    controller.say("Hi!")
    line = await events.next(ChatLine)
    assert (line.sender, line.text) == ("customer", "Hi!") and line.when > 0
    async with asyncio.timeout(5):  # the applet's session answers the console's pings
        while tech.session.rtt is None:
            await asyncio.sleep(0.05)
    assert 0 < tech.session.rtt < 1
    tech.request("system_info")
    await allow(controller)
    await events.next(RightChanged, lambda e: e.state == "granted")
    tech.request_sysinfo()
    info = (await events.next(SystemInfo)).info
    assert info["cpu"]["cores"] >= 1
    tech.save_note("Customer's printer driver reinstalled.")
    await controller.end()
    revoked = await events.next(RightChanged)
    assert (revoked.action, revoked.state) == ("system_info", RightState.REVOKED)
    await events.next(Ended)


async def test_the_broker_keeps_the_sessions_log(
    display: str, broker: Broker, pair: tuple[TechnicianSession, Any, Events]
) -> None:
    tech, controller, events = pair
    tech.say("Hello Bob")
    controller.say("Hi!")
    await events.next(ChatLine, lambda e: e.sender == "customer")
    tech.request("remote_control")
    await allow(controller)
    await events.next(RightChanged, lambda e: e.state == "granted")
    await controller.revoke(Action.REMOTE_CONTROL)
    await events.next(RightChanged, lambda e: e.state == "revoked")
    tech.request("file_manager")
    asked = await ui_event(controller, QuestionAsked)
    await controller.answer(asked.question.id, False)
    await events.next(RightChanged, lambda e: e.state == "denied")
    tech.save_note("Reinstalled the printer driver.")
    # A hostile or buggy console cannot write what the broker does not know.
    tech.session.log_event("session_end", by="customer")
    tech.session.log_event("chat", by="technician", text="x" * 5000)
    await tech.end()
    await events.next(Ended)
    session_id = tech.session.session_id
    assert session_id is not None

    def logged() -> list[tuple[str, dict[str, str]]]:
        return [
            (e.kind, broker.audit.open(e)) for e in broker.storage.list_session_events(session_id)
        ]

    async with asyncio.timeout(5):
        while not logged() or logged()[-1][0] != "session_end":
            await asyncio.sleep(0.05)
    assert logged() == [
        ("code_claim", {"result": "claimed"}),
        ("session_start", {"name": "Bob", "host": "bob-pc"}),
        ("chat", {"by": "technician", "text": "Hello Bob"}),
        ("chat", {"by": "customer", "text": "Hi!"}),
        ("permission", {"action": "remote_control", "state": "asked"}),
        ("permission", {"action": "remote_control", "state": "granted"}),
        ("control_start", {}),
        ("permission", {"action": "view_screen", "state": "granted"}),  # control shows it
        ("permission", {"action": "remote_control", "state": "revoked"}),
        ("control_end", {"reason": "revoked"}),
        ("permission", {"action": "file_manager", "state": "asked"}),
        ("permission", {"action": "file_manager", "state": "denied", "reason": "person"}),
        ("note", {"text": "Reinstalled the printer driver."}),
        ("session_end", {"reason": "ended", "by": "technician"}),
    ]
    assert {e.technician for e in broker.storage.list_session_events(session_id)} == {
        "alice@example.test"
    }
    # Chat, notes and the customer's details are sealed: the database files alone
    # (with the write-ahead log) hold none of them.
    raw = b"".join(p.read_bytes() for p in broker.config.data_dir.glob("broker.sqlite3*"))
    for secret in ("Hello Bob", "Hi!", "Reinstalled the printer", "bob-pc"):
        assert secret.encode() not in raw, secret
