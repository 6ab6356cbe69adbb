"""The applet controller end to end: real broker over TLS, real Xvfb, real capture; the
test plays the console and the person."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from applet.capture import MssCapturer
from applet.consent import Action, Revoked
from applet.controller import (
    MAX_CLIPBOARD,
    AppletController,
    ChatReceived,
    ClipboardReceived,
    InactivityEnded,
    QuestionAsked,
    QuestionClosed,
    RightsChanged,
    policy_inactivity_timeout,
)
from broker import permissions
from broker.app import Broker
from common.codec import ScreenDecoder
from common.protocol import Channel
from common.transport import BrokerClient, Ended, Login
from tests.applet.sessions import control_reply, controller_session, ui_event
from tests.conftest import address, paired_sessions
from tests.x11 import running


@pytest.fixture
def display(display: str) -> Iterator[str]:
    """The applet's display with a terminal on it, so there is something to see."""
    with running(["xterm", "-geometry", "80x24+0+0"], display):
        yield display


async def test_view_needs_the_persons_yes_and_stops_on_revoke(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login) as (console, controller):
        console.send(Channel.CONTROL, {"t": "request", "action": "view_screen"})
        asked = await ui_event(controller, QuestionAsked)
        assert asked.question.text == "Alice wants to see your screen."
        assert not controller.streamer.running  # nothing before the answer
        await controller.answer(asked.question.id, True)
        assert await control_reply(console) == {
            "v": 1,
            "t": "permission",
            "action": "view_screen",
            "state": "granted",
        }
        decoder = ScreenDecoder()
        async with asyncio.timeout(10):
            while decoder.framebuffer.size == 0:
                event = await console.next_message()
                if event.message["t"] == "screen_update":
                    decoder.decode(event.message["data"])
        assert decoder.framebuffer.shape == (720, 1280, 3)
        await controller.revoke(Action.VIEW_SCREEN)
        assert not controller.streamer.running
        assert (await control_reply(console))["state"] == "revoked"


async def test_a_no_and_a_policy_refusal_reach_the_console(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    broker.accounts.add_group("Support", ["desktop_view", "system_info"])
    async with controller_session(broker, client, login) as (console, controller):
        console.send(Channel.CONTROL, {"t": "request", "action": "remote_control"})
        reply = await control_reply(console)
        assert (reply["state"], reply["reason"]) == ("denied", "policy")
        console.send(Channel.CONTROL, {"t": "request", "action": "system_info"})
        asked = await ui_event(controller, QuestionAsked)
        await controller.answer(asked.question.id, False)
        reply = await control_reply(console)
        assert (reply["action"], reply["state"], reply["reason"]) == (
            "system_info",
            "denied",
            "person",
        )


async def test_chat_both_ways(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login) as (console, controller):
        console.send(Channel.CHAT, {"t": "chat", "text": "Hello, I'm Alice from support."})
        assert (await ui_event(controller, ChatReceived)).text == "Hello, I'm Alice from support."
        controller.say("Hi Alice, my printer is broken.")
        assert (await control_reply(console, "chat", Channel.CHAT))[
            "text"
        ] == "Hi Alice, my printer is broken."


async def test_a_hostile_console_is_refused_and_changes_nothing(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login) as (console, controller):
        for bad in (
            {"t": "request", "action": "format_disk"},
            {"t": "request"},
            {"t": "grant_myself", "action": "remote_control"},
            {"t": "chat", "text": "x" * 10_000},
            {"t": "screen_keyframe", "monitor": "zero"},
        ):
            console.send(Channel.CONTROL, bad)
        refusals = [await control_reply(console, "refused") for _ in range(5)]
        assert [r["what"] for r in refusals] == [
            "request",
            "request",
            "grant_myself",
            "chat",
            "screen_keyframe",
        ]
        assert "format_disk" in refusals[0]["reason"] and "too long" in refusals[3]["reason"]
        console.send(Channel.CONTROL, {"t": "request", "action": "system_info"})
        asked = await ui_event(controller, QuestionAsked)  # still serving, nothing granted
        assert asked.question.actions == (Action.SYSTEM_INFO,)
        assert not any(controller.consent.granted(a) for a in Action)
        assert not controller.streamer.running


async def test_the_session_ending_takes_every_right_back(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login) as (console, controller):
        console.send(Channel.CONTROL, {"t": "request", "action": "view_screen"})
        asked = await ui_event(controller, QuestionAsked)
        await controller.answer(asked.question.id, True)
        assert controller.streamer.running
        await console.end()
        async with asyncio.timeout(10):
            while True:
                event = await controller.events.get()
                if (
                    isinstance(event, RightsChanged)
                    and Revoked(Action.VIEW_SCREEN) in event.changes
                ):
                    break
        assert not controller.streamer.running
        assert not controller.consent.granted(Action.VIEW_SCREEN)


class FailingCapturer(MssCapturer):
    """Real capture that breaks after a few frames, as when a monitor is unplugged."""

    def __init__(self, frames: int) -> None:
        super().__init__()
        self.left = frames

    def grab(self, monitor, area=None):  # type: ignore[no-untyped-def]
        self.left -= 1
        if self.left < 0:
            raise OSError("the monitor went away")
        return super().grab(monitor, area)


async def test_a_capture_failure_revokes_the_view_and_keeps_serving(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        controller = AppletController(applet, FailingCapturer(frames=3))
        controller.start()
        console.send(Channel.CONTROL, {"t": "request", "action": "view_screen"})
        asked = await ui_event(controller, QuestionAsked)
        await controller.answer(asked.question.id, True)
        assert (await control_reply(console))["state"] == "granted"
        assert (await control_reply(console))["state"] == "revoked"  # told, not silent
        await controller.revoke(Action.VIEW_SCREEN)  # no exception from the dead stream
        controller.say("still here")
        assert (await control_reply(console, "chat", Channel.CHAT))["text"] == "still here"
        await console.end()
        async with asyncio.timeout(10):
            while not isinstance(await controller.events.get(), Ended):
                pass
        await controller.stop()
        await applet.close()


async def test_an_unanswered_question_leaves_the_screen(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login) as (console, controller):
        controller.consent.answer_timeout = 0.2
        console.send(Channel.CONTROL, {"t": "request", "action": "system_info"})
        asked = await ui_event(controller, QuestionAsked)
        closed = await ui_event(controller, QuestionClosed)
        assert closed.question_id == asked.question.id
        assert (await control_reply(console))["reason"] == "timeout"


async def test_system_information_only_once_allowed(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login) as (console, controller):
        console.send(Channel.CONTROL, {"t": "sysinfo_request"})
        refused = await control_reply(console, "refused")
        assert refused["what"] == "sysinfo_request" and "not been allowed" in refused["reason"]
        console.send(Channel.CONTROL, {"t": "request", "action": "system_info"})
        asked = await ui_event(controller, QuestionAsked)
        await controller.answer(asked.question.id, True)
        console.send(Channel.CONTROL, {"t": "sysinfo_request"})
        info = (await control_reply(console, "sysinfo"))["info"]
        assert info["os"].startswith("Linux") and info["memory"]["total"] > 0
        assert info["cpu"]["cores"] >= 1 and info["top_processes"] and info["uptime_seconds"] >= 0


async def test_the_clipboard_flows_only_while_shared(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login) as (console, controller):
        console.send(Channel.CONTROL, {"t": "clipboard", "text": "before the yes"})
        refused = await control_reply(console, "refused")
        assert refused["what"] == "clipboard" and "not been allowed" in refused["reason"]
        controller.share_clipboard("the person's secret")  # not shared: nothing goes

        console.send(Channel.CONTROL, {"t": "request", "action": "clipboard_sync"})
        asked = await ui_event(controller, QuestionAsked)
        await controller.answer(asked.question.id, True)
        assert (await control_reply(console))["state"] == "granted"
        console.send(Channel.CONTROL, {"t": "clipboard", "text": "ipconfig /all"})
        assert (await ui_event(controller, ClipboardReceived)).text == "ipconfig /all"
        controller.share_clipboard("error 0x80070005")
        assert (await control_reply(console, "clipboard"))["text"] == "error 0x80070005"

        # Oversized text is refused and changes nothing.
        console.send(Channel.CONTROL, {"t": "clipboard", "text": "x" * (MAX_CLIPBOARD + 1)})
        assert "too long" in (await control_reply(console, "refused"))["reason"]
        controller.share_clipboard("y" * (MAX_CLIPBOARD + 1))  # too big: stays here

        await controller.revoke(Action.CLIPBOARD_SYNC)
        assert (await control_reply(console))["state"] == "revoked"
        controller.share_clipboard("after the revoke")
        console.send(Channel.CHAT, {"t": "chat", "text": "marker"})
        await ui_event(controller, ChatReceived)
        controller.say("end marker")
        # Nothing but the chat marker arrived after the revoke: no clipboard message.
        async with asyncio.timeout(5):
            while True:
                event = await console.next_message()
                assert event.message["t"] != "clipboard"
                if event.message["t"] == "chat":
                    break


async def ended_event(controller: AppletController, timeout: float = 10) -> Ended:
    async with asyncio.timeout(timeout):
        while not isinstance(event := await controller.events.get(), Ended):
            pass
    return event


async def test_a_session_without_activity_ends_and_takes_every_right_back(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login, inactivity_timeout=0.6) as (
        console,
        controller,
    ):
        console.send(Channel.CONTROL, {"t": "request", "action": "system_info"})
        asked = await ui_event(controller, QuestionAsked)
        await controller.answer(asked.question.id, True)
        assert (await control_reply(console))["state"] == "granted"
        for _ in range(3):  # what the applet refuses is not activity
            console.send(Channel.CONTROL, {"t": "grant_myself", "action": "remote_control"})
            assert (await control_reply(console, "refused"))["what"] == "grant_myself"
            await asyncio.sleep(0.1)
        ended = await ended_event(controller)
        assert isinstance(ended, InactivityEnded)
        assert (ended.reason, ended.after) == ("inactive", 0.6)
        assert not controller.consent.granted(Action.SYSTEM_INFO)
        # The technician is told the right went, then gets the usual end.
        revoked = await control_reply(console)
        assert (revoked["action"], revoked["state"]) == ("system_info", "revoked")
        async with asyncio.timeout(10):
            while not isinstance(event := await console.next_event(), Ended):
                pass
        assert event.reason == "ended"
        assert controller.session.ended is not None


async def test_activity_on_either_side_keeps_the_session_alive(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with controller_session(broker, client, login, inactivity_timeout=0.8) as (
        console,
        controller,
    ):
        started = asyncio.get_running_loop().time()
        for n in range(8):  # 2.4 s: three times the timeout
            if n % 2:
                console.send(Channel.CHAT, {"t": "chat", "text": f"still there? {n}"})
            else:
                controller.say(f"yes {n}")
            await asyncio.sleep(0.3)
        assert controller.session.ended is None
        assert not any(isinstance(e, Ended) for e in _drain(controller))
        # Then silence: it ends, about one timeout after the last message.
        ended = await ended_event(controller)
        assert isinstance(ended, InactivityEnded)
        assert asyncio.get_running_loop().time() - started >= 2.4


async def test_screen_updates_sent_while_viewed_are_activity(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    clock = "while :; do date +%N; sleep 0.05; done"  # the screen changes all the time
    ticking = ["xterm", "-geometry", "40x5+0+400", "-e", "sh", "-c", clock]
    with running(ticking, display):
        async with controller_session(broker, client, login, inactivity_timeout=0.8) as (
            console,
            controller,
        ):
            console.send(Channel.CONTROL, {"t": "request", "action": "view_screen"})
            asked = await ui_event(controller, QuestionAsked)
            await controller.answer(asked.question.id, True)
            updates = 0
            async with asyncio.timeout(10):
                deadline = asyncio.get_running_loop().time() + 2.4
                while asyncio.get_running_loop().time() < deadline:
                    event = await console.next_message()
                    updates += event.message["t"] == "screen_update"
            assert updates > 10
            assert controller.session.ended is None
            assert not any(isinstance(e, Ended) for e in _drain(controller))
            # Once the view is taken back, nothing is sent: the session ends.
            await controller.revoke(Action.VIEW_SCREEN)
            assert isinstance(await ended_event(controller), InactivityEnded)


def _drain(controller: AppletController) -> list[object]:
    events = []
    while not controller.events.empty():
        events.append(controller.events.get_nowait())
    return events


async def test_the_signed_policy_sets_its_own_timeout(
    display: str,
    broker: Broker,
    client: BrokerClient,
    login: Login,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A broker whose group policy carries inactivity_timeout (this one has no setting
    # for it yet): the value travels signed, and the applet honours it over its own.
    encode = permissions.messages.encode

    def with_timeout(message: dict[str, Any]) -> bytes:
        return encode(
            {**message, "inactivity_timeout": 0.5} if message["t"] == "policy" else message
        )

    monkeypatch.setattr(permissions, "messages", SimpleNamespace(encode=with_timeout))
    async with controller_session(broker, client, login) as (_console, controller):
        assert controller.inactivity_timeout == 0.5
        ended = await ended_event(controller)
        assert isinstance(ended, InactivityEnded) and ended.after == 0.5


def test_the_policy_may_set_the_timeout() -> None:
    assert policy_inactivity_timeout({}, 900.0) == 900.0
    assert policy_inactivity_timeout({"inactivity_timeout": 300}, 900.0) == 300.0
    for bad in (0, -5, "600", True, None, [60]):
        assert policy_inactivity_timeout({"inactivity_timeout": bad}, 900.0) == 900.0
