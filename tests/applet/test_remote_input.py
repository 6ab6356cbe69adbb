"""Remote control end to end: the console's input moves the real pointer and types into
a real terminal on the applet's display, only while the person allows it."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

from applet.consent import Action
from applet.controller import AppletController, QuestionAsked
from applet.inject_x11 import X11Injector
from broker.app import Broker
from common.protocol import Channel
from common.transport import BrokerClient, Login, PeerSession
from tests.applet.sessions import control_reply, controller_session, ui_event
from tests.x11 import pointer, running


async def grant_control(console: PeerSession, controller: AppletController) -> None:
    console.send(Channel.CONTROL, {"t": "request", "action": "remote_control"})
    asked = await ui_event(controller, QuestionAsked)
    await controller.answer(asked.question.id, True)
    while (await control_reply(console))["action"] != "remote_control":
        pass


async def settle() -> None:
    await asyncio.sleep(0.3)


async def test_input_before_the_grant_is_dropped_then_moves_the_pointer(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login, X11Injector(display)) as (
        console,
        controller,
    ):
        start = pointer(display)
        console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 400, "y": 300})
        await settle()
        assert pointer(display) == start and controller.input_dropped == 1
        assert controller.files.pace.last_input == -math.inf  # transfers go on at full speed
        await grant_control(console, controller)
        before = time.monotonic()
        console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 400, "y": 300})
        await settle()
        assert pointer(display) == (400, 300)
        # Downloads give way to the technician's input (common/files/flow.py).
        assert before < controller.files.pace.last_input < time.monotonic()


async def test_input_while_a_prompt_shows_or_after_a_revoke_is_dropped(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login, X11Injector(display)) as (
        console,
        controller,
    ):
        await grant_control(console, controller)
        console.send(Channel.CONTROL, {"t": "request", "action": "file_manager"})
        await ui_event(controller, QuestionAsked)  # a prompt is on screen now
        console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 10, "y": 10})
        await settle()
        assert pointer(display) != (10, 10)  # the technician cannot reach "Allow"
        await controller.revoke(Action.REMOTE_CONTROL)
        console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 20, "y": 20})
        await settle()
        assert pointer(display) != (20, 20) and controller.input_dropped == 2


async def test_typed_text_arrives_in_a_real_terminal(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    target = tmp_path / "typed.txt"
    with running(
        ["xterm", "-geometry", "80x24+0+0", "-e", "bash", "-c", f"cat > {target}"],
        display,
        settle=1.0,
    ):
        async with controller_session(broker, client, login, X11Injector(display)) as (
            console,
            controller,
        ):
            await grant_control(console, controller)
            console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 50, "y": 50})
            console.send(
                Channel.CONTROL, {"t": "input", "kind": "text", "text": "Printer fixed? Yes!\n"}
            )
            for _ in range(30):
                await settle()
                if target.exists() and target.read_text():
                    break
    assert target.read_text() == "Printer fixed? Yes!\n"


async def test_named_keys_and_shortcuts_arrive_in_a_real_terminal(
    display: str, broker: Broker, client: BrokerClient, login: Login, tmp_path: Path
) -> None:
    target = tmp_path / "typed.txt"
    done = tmp_path / "done"
    with running(
        ["xterm", "-geometry", "80x24+0+0", "-e", "bash", "-c", f"cat > {target}; touch {done}"],
        display,
        settle=1.0,
    ):
        async with controller_session(broker, client, login, X11Injector(display)) as (
            console,
            controller,
        ):
            await grant_control(console, controller)

            def key(name: str, down: bool) -> None:
                console.send(
                    Channel.CONTROL, {"t": "input", "kind": "key", "key": name, "down": down}
                )

            console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 50, "y": 50})
            console.send(Channel.CONTROL, {"t": "input", "kind": "text", "text": "abc"})
            for name in ("Backspace", "Enter"):
                key(name, True)
                key(name, False)
            # Ctrl+D: end of input for cat, so the terminal's command finishes.
            key("Control", True)
            key("d", True)
            key("d", False)
            key("Control", False)
            for _ in range(30):
                await settle()
                if done.exists():
                    break
    assert target.read_text() == "ab\n"


async def test_hostile_input_is_refused(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login, X11Injector(display)) as (
        console,
        controller,
    ):
        await grant_control(console, controller)
        for bad in (
            {"t": "input", "kind": "move", "x": 99999, "y": 5},
            {"t": "input", "kind": "button", "button": "self_destruct", "down": True},
            {"t": "input", "kind": "teleport"},
            {"t": "input", "kind": "text", "text": "x" * 1000},
            {"t": "input", "kind": "key", "key": "Pause", "down": True},
            {"t": "input", "kind": "key", "key": "x" * 100, "down": True},
        ):
            console.send(Channel.CONTROL, bad)
        refusals = [await control_reply(console, "refused") for _ in range(6)]
        assert all(r["what"] == "input" for r in refusals)
        assert "outside the shared screen" in refusals[0]["reason"]
