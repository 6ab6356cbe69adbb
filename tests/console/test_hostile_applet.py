"""A hostile applet cannot grant itself rights, corrupt the picture or crash the tab."""

from __future__ import annotations

import asyncio

from broker.app import Broker
from common.protocol import Channel
from common.transport import BrokerClient, Login
from console.rights import RightChanged, RightState
from console.technician_session import (
    ChatLine,
    ConsoleEvent,
    MonitorsChanged,
    TechnicianSession,
)
from tests.conftest import address, paired_sessions


async def test_bad_messages_are_ignored_and_the_session_goes_on(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        events: asyncio.Queue[ConsoleEvent] = asyncio.Queue()
        tech = TechnicianSession(console, events.put_nowait)
        tech.start()
        try:
            for channel, bad in (
                (Channel.VIDEO, {"t": "screen_update", "monitor": 0, "data": b"\x00" * 50}),
                (Channel.VIDEO, {"t": "cursor_shape", "width": 4096, "height": 4096,
                                 "hot_x": 0, "hot_y": 0, "bgra": b""}),
                (Channel.VIDEO, {"t": "cursor_shape", "width": 2, "height": 2,
                                 "hot_x": 0, "hot_y": 0, "bgra": b"1234"}),
                (Channel.CONTROL, {"t": "permission", "action": "format_disk", "state": "granted"}),
                (Channel.CONTROL, {"t": "permission", "action": "remote_control",
                                   "state": "owned"}),
                (Channel.CONTROL, {"t": "clipboard", "text": "not granted"}),
                (Channel.CHAT, {"t": "launch_missiles"}),
                (Channel.CONTROL, {"t": "chat", "text": "wrong channel"}),
                (Channel.CONTROL, {"t": "monitors", "list": [{"index": 0}], "current": 0}),
                (Channel.CONTROL, {"t": "monitors", "current": 0, "list": [
                    {"index": 0, "left": 0, "top": 0, "width": 0, "height": 9}]}),
                (Channel.CONTROL, {"t": "monitors", "current": 0, "list": [
                    {"index": 0, "left": 0, "top": 0, "width": 9, "height": 9}] * 2}),
                (Channel.CONTROL, {"t": "monitors", "current": 3, "list": [
                    {"index": 0, "left": 0, "top": 0, "width": 9, "height": 9}]}),
                (Channel.CONTROL, {"t": "monitors", "current": 0, "list": [
                    {"index": i, "left": 0, "top": 0, "width": 9, "height": 9}
                    for i in range(40)]}),
            ):  # fmt: skip
                applet.send(channel, bad)
            applet.send(Channel.CHAT, {"t": "chat", "text": "still here"})
            async with asyncio.timeout(10):
                while True:
                    event = await events.get()
                    assert not isinstance(event, RightChanged | MonitorsChanged)
                    if isinstance(event, ChatLine):
                        break
            assert event.text == "still here"
            assert tech.rights.state("remote_control") == RightState.NONE
            assert tech.screen.cursor.width == 0
            assert tech.screen.decoder.framebuffer.size == 0
            assert tech.monitors == ()
        finally:
            await tech.close()
            await console.close()
            await applet.close()


async def test_a_fault_in_one_handler_does_not_deafen_the_console(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    """A bug that raises something unexpected while one message is handled (simulated
    here: the file manager's handler fails) is logged; later messages still arrive."""
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        events: asyncio.Queue[ConsoleEvent] = asyncio.Queue()
        tech = TechnicianSession(console, events.put_nowait)

        async def broken(message: dict[str, object]) -> None:
            raise ValueError("I/O operation on closed file")

        tech.files.handle = broken  # type: ignore[method-assign]
        tech.start()
        try:
            applet.send(Channel.FILE, {"t": "file_roots", "roots": []})
            applet.send(Channel.CHAT, {"t": "chat", "text": "still here"})
            async with asyncio.timeout(10):
                while not isinstance(event := await events.get(), ChatLine):
                    pass
            assert event.text == "still here"
        finally:
            await tech.close()
            await console.close()
            await applet.close()
