"""The pointer travels apart from the picture, only while the screen may be seen."""

from __future__ import annotations

import asyncio
import time

from applet.consent import Action
from applet.controller import QuestionAsked
from applet.cursor import MAX_CURSOR_SIDE
from applet.cursor_x11 import X11CursorSource
from applet.inject_x11 import X11Injector
from broker.app import Broker
from common.protocol import Channel
from common.transport import BrokerClient, Login
from tests.applet.sessions import control_reply, controller_session, ui_event
from tests.x11 import running


def test_the_x11_source_reads_position_and_shape(display: str) -> None:
    injector = X11Injector(display)
    injector.move(123, 45)
    injector.close()
    source = X11CursorSource(display)
    try:
        deadline = time.monotonic() + 3
        while (state := source.read()).x != 123 and time.monotonic() < deadline:
            time.sleep(0.02)  # the server applies the move asynchronously
        assert (state.x, state.y) == (123, 45)
        shape = state.shape
        assert 0 < shape.width <= MAX_CURSOR_SIDE and 0 < shape.height <= MAX_CURSOR_SIDE
        assert len(shape.bgra) == shape.width * shape.height * 4
        assert any(shape.bgra[3::4])  # some pixel is not transparent
        assert source.read().shape is shape  # same serial: not read again
    finally:
        source.close()


async def test_the_pointer_streams_while_viewed_and_stops_on_revoke(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    cursor = X11CursorSource(display)
    async with controller_session(broker, client, login, cursor=cursor) as (console, controller):
        assert controller.cursor is not None and not controller.cursor.running
        console.send(Channel.CONTROL, {"t": "request", "action": "view_screen"})
        asked = await ui_event(controller, QuestionAsked)
        await controller.answer(asked.question.id, True)
        shape = await control_reply(console, "cursor_shape", Channel.VIDEO)
        assert shape["width"] > 0 and len(shape["bgra"]) == shape["width"] * shape["height"] * 4
        injector = X11Injector(display)
        injector.move(300, 200)
        injector.close()
        async with asyncio.timeout(5):
            while (await control_reply(console, "cursor", Channel.VIDEO))["x"] != 300:
                pass
        await controller.revoke(Action.VIEW_SCREEN)
        assert not controller.cursor.running
    cursor.close()


def test_the_x11_source_sees_the_shape_change_over_another_window(display: str) -> None:
    """The shape is read again when the server says it changed: xterm's I-beam."""
    injector = X11Injector(display)
    injector.move(1900, 1060)
    source = X11CursorSource(display)
    try:
        first = source.read().shape
        with running(["xterm", "-geometry", "80x24+0+0"], display):
            injector.move(100, 100)  # over the terminal's text
            deadline = time.monotonic() + 5
            while (shape := source.read().shape) is first and time.monotonic() < deadline:
                time.sleep(0.02)
            assert shape.serial != first.serial and shape.bgra != first.bgra
            injector.move(1900, 1060)  # back over the root window
            deadline = time.monotonic() + 5
            while (back := source.read().shape) is shape and time.monotonic() < deadline:
                time.sleep(0.02)
            assert back.bgra == first.bgra
    finally:
        source.close()
        injector.close()
