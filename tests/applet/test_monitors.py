"""The console picks which of the customer's screens it sees: each one, or all at once.

Xvfb has a single RandR output, so two monitors cannot exist here for real: the
capturer below describes the left and right halves of the real screen as two monitors
(mss grabs any rectangle the same way). Capture, codec, broker, input injection and the
pointer are all real; only the monitor layout is made up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from applet.capture import Monitor, MssCapturer
from applet.consent import Action
from applet.controller import AppletController, QuestionAsked
from applet.inject_x11 import X11Injector
from broker.app import Broker
from common.codec import ScreenDecoder
from common.protocol import Channel
from common.transport import BrokerClient, Login, PeerSession
from tests.applet.sessions import control_reply, controller_session, ui_event
from tests.x11 import pointer, running

LEFT = Monitor(0, 0, 0, 640, 720, primary=False)
RIGHT = Monitor(1, 640, 0, 640, 720, primary=True)


class TwoMonitors(MssCapturer):
    def monitors(self) -> list[Monitor]:
        return [LEFT, RIGHT]


@pytest.fixture
def display(display: str) -> Iterator[str]:
    """A terminal on each half, so the two screens differ."""
    with (
        running(["xterm", "-geometry", "40x10+20+20", "-bg", "white"], display),
        running(["xterm", "-geometry", "40x10+700+300", "-bg", "yellow"], display),
    ):
        yield display


async def allow(console: PeerSession, controller: AppletController, action: str) -> None:
    console.send(Channel.CONTROL, {"t": "request", "action": action})
    await controller.answer((await ui_event(controller, QuestionAsked)).question.id, True)


async def picture(console: PeerSession, decoder: ScreenDecoder) -> np.ndarray[Any, Any]:
    """The picture once a keyframe (a new stream) has been decoded."""
    async with asyncio.timeout(10):
        while True:
            event = await console.next_message()
            if event.message["t"] == "screen_update":
                decoder.decode(event.message["data"])
                if decoder.framebuffer.size and not decoder.needs_keyframe:
                    return decoder.framebuffer


def shows(frame: np.ndarray[Any, Any], monitor: Monitor) -> bool:
    real = MssCapturer().grab(monitor)[..., :3]
    return frame.shape == real.shape and float(np.mean(np.all(frame == real, axis=2))) > 0.99


async def test_the_console_picks_a_screen_or_all(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(
        broker, client, login, X11Injector(display), capturer=TwoMonitors()
    ) as (console, controller):
        await allow(console, controller, "view_screen")
        listed = await control_reply(console, "monitors")
        # The main screen first and shown first; then "all of them".
        assert [m["index"] for m in listed["list"]] == [1, 0, -1] and listed["current"] == 1
        assert listed["list"][2] == {
            "index": -1, "left": 0, "top": 0, "width": 1280, "height": 720, "primary": False
        }  # fmt: skip
        decoder = ScreenDecoder()
        frame = await picture(console, decoder)
        assert shows(frame, RIGHT) and not shows(frame, LEFT)

        console.send(Channel.CONTROL, {"t": "screen_select", "monitor": 0})
        assert (await control_reply(console, "monitors"))["current"] == 0
        async with asyncio.timeout(10):
            while not shows(frame := await picture(console, decoder), LEFT):
                pass

        # Input lands on the screen being shown.
        await allow(console, controller, "remote_control")
        console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 600, "y": 10})
        async with asyncio.timeout(5):
            while await asyncio.to_thread(pointer, display) != (600, 10):
                await asyncio.sleep(0.05)
        console.send(Channel.CONTROL, {"t": "screen_select", "monitor": 1})
        assert (await control_reply(console, "monitors"))["current"] == 1
        console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 600, "y": 10})
        async with asyncio.timeout(5):
            while await asyncio.to_thread(pointer, display) != (1240, 10):
                await asyncio.sleep(0.05)

        console.send(Channel.CONTROL, {"t": "screen_select", "monitor": -1})
        assert (await control_reply(console, "monitors"))["current"] == -1
        async with asyncio.timeout(10):
            while (await picture(console, decoder)).shape != (720, 1280, 3):
                pass

        # A screen that does not exist, and a choice without the view: refused.
        console.send(Channel.CONTROL, {"t": "screen_select", "monitor": 7})
        refused = await control_reply(console, "refused")
        assert refused["what"] == "screen_select" and "no such screen" in refused["reason"]
        await controller.revoke(Action.VIEW_SCREEN)
        console.send(Channel.CONTROL, {"t": "screen_select", "monitor": 0})
        refused = await control_reply(console, "refused")
        assert "not been allowed" in refused["reason"] and controller.monitor.index == -1
