"""The whole applet program on a real display, joined by a console through the real
broker; the person's hands are xdotool."""

from __future__ import annotations

import asyncio
from pathlib import Path

from broker.app import Broker
from common.codec import ScreenDecoder
from common.protocol import Channel, MessageReceived
from common.transport import BrokerClient, Ended, Login, PeerSession
from tests.applet.applet_process import applet_process, leftovers
from tests.applet.sessions import control_reply
from tests.x11 import pointer, press_in_window, xdotool


async def test_a_session_from_code_to_end(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    console = await PeerSession.create(client, login.token)
    home = tmp_path / "home"
    async with applet_process(broker, display, home, "--code", str(console.code)) as proc:
        await console.wait_open(30)

        # The person allows the view in the prompt; updates of the real screen follow.
        console.send(Channel.CONTROL, {"t": "request", "action": "view_screen"})
        await asyncio.to_thread(press_in_window, display, "permission request", "alt+a")
        reply = await control_reply(console)
        assert (reply["action"], reply["state"]) == ("view_screen", "granted")
        decoder = ScreenDecoder()
        async with asyncio.timeout(10):
            while decoder.needs_keyframe:
                event = await console.next_message()
                if event.message["t"] == "screen_update":
                    decoder.decode(event.message["data"])

        # Control: input moves the real pointer.
        console.send(Channel.CONTROL, {"t": "request", "action": "remote_control"})
        await asyncio.to_thread(press_in_window, display, "permission request", "alt+a")
        reply = await control_reply(console)
        assert (reply["action"], reply["state"]) == ("remote_control", "granted")
        console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 321, "y": 234})
        async with asyncio.timeout(5):
            while await asyncio.to_thread(pointer, display) != (321, 234):
                await asyncio.sleep(0.05)

        # The take-back hotkey revokes control at once.
        await asyncio.to_thread(xdotool, display, "key", "ctrl+alt+Pause")
        reply = await control_reply(console)
        assert (reply["action"], reply["state"]) == ("remote_control", "revoked")

        # The technician ends the session: the applet exits 0 and leaves nothing.
        await console.end()
        async with asyncio.timeout(15):
            assert await proc.wait() == 0
    assert leftovers(home) == []


async def test_the_person_ends_the_session(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    console = await PeerSession.create(client, login.token)
    async with applet_process(broker, display, tmp_path, "--code", str(console.code)) as proc:
        await console.wait_open(30)
        await asyncio.to_thread(press_in_window, display, "Lifeline remote support", "alt+e")
        async with asyncio.timeout(10):
            while not isinstance(await console.next_event(), Ended):
                pass
        async with asyncio.timeout(15):
            assert await proc.wait() == 0


async def test_sigterm_ends_the_session_properly(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    """A logout or shutdown sends SIGTERM: the technician is told and the exit is clean."""
    console = await PeerSession.create(client, login.token)
    async with applet_process(broker, display, tmp_path, "--code", str(console.code)) as proc:
        await console.wait_open(30)
        await asyncio.sleep(1.0)  # the window is up
        proc.terminate()
        async with asyncio.timeout(10):
            while not isinstance(await console.next_event(), Ended):
                pass
        async with asyncio.timeout(15):
            assert await proc.wait() == 0


async def test_an_idle_session_ends_and_the_applet_says_why_then_exits(
    display: str,
    broker: Broker,
    client: BrokerClient,
    login: Login,
    tmp_path: Path,
) -> None:
    # The group's settings, hence its signed policy, set a short inactivity timeout (2 s;
    # the admin command takes minutes).
    group = broker.storage.get_group("Support")
    assert group is not None
    group.settings["inactivity_timeout"] = 2
    broker.storage.put_group(group)
    console = await PeerSession.create(client, login.token)
    home = tmp_path / "home"
    async with applet_process(broker, display, home, "--code", str(console.code)) as proc:
        await console.wait_open(30)
        console.send(Channel.CONTROL, {"t": "request", "action": "view_screen"})
        await asyncio.to_thread(press_in_window, display, "permission request", "alt+a")
        assert (await control_reply(console))["state"] == "granted"
        # Nothing happens (the screen is still): the right goes, then the session.
        states = []
        async with asyncio.timeout(20):
            while not isinstance(event := await console.next_event(), Ended):
                if isinstance(event, MessageReceived) and event.message["t"] == "permission":
                    states.append(event.message["state"])
        assert states == ["revoked"] and event.reason == "ended"
        # The person finds why on screen; the applet goes once they have read it.
        assert proc.returncode is None
        await asyncio.to_thread(press_in_window, display, "^Lifeline$", "Return")
        async with asyncio.timeout(15):
            assert await proc.wait() == 0
    assert leftovers(home) == []
