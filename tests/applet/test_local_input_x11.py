"""The take-back hotkey and the local-activity pause on a real X display."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Iterator

import pytest

from applet.inject_x11 import X11Injector
from applet.local_input import ActivityPause
from applet.local_input_x11 import X11LocalInput
from broker.app import Broker
from common.protocol import Channel
from common.transport import BrokerClient, Login
from tests.applet.sessions import control_reply, controller_session
from tests.x11 import Hardware, pointer, xdotool


@pytest.fixture
def watch(display: str) -> Iterator[tuple[X11LocalInput, queue.Queue[object]]]:
    events: queue.Queue[object] = queue.Queue()
    local = X11LocalInput(display)
    local.start(lambda: events.put("hotkey"), events.put)
    yield local, events
    local.stop()


def next_event(events: queue.Queue[object], timeout: float = 3) -> object:
    return events.get(timeout=timeout)


def test_the_hotkey_is_seen_whatever_has_focus(
    display: str, watch: tuple[X11LocalInput, queue.Queue[object]]
) -> None:
    _, events = watch
    xdotool(display, "key", "ctrl+alt+Pause")
    assert next_event(events) == "hotkey"


def test_the_hotkey_works_while_the_technician_holds_a_key(
    display: str, watch: tuple[X11LocalInput, queue.Queue[object]]
) -> None:
    _, events = watch
    xdotool(display, "keydown", "shift")  # injected, like the technician's Shift
    try:
        xdotool(display, "key", "ctrl+alt+Pause")
        assert next_event(events) == "hotkey"
    finally:
        xdotool(display, "keyup", "shift")


def test_only_the_hotkey_is_grabbed(
    display: str, watch: tuple[X11LocalInput, queue.Queue[object]]
) -> None:
    _, events = watch
    xdotool(display, "key", "Pause", "ctrl+alt+p")
    with pytest.raises(queue.Empty):
        next_event(events, timeout=0.5)


def test_the_persons_own_input_pauses_until_they_stop(
    display: str, watch: tuple[X11LocalInput, queue.Queue[object]]
) -> None:
    local, events = watch
    assert local.can_tell_local_input
    hardware = Hardware(display)
    try:
        hardware.move(100, 100)
        assert next_event(events) is True
        started = time.monotonic()
        hardware.tap(38)  # still active: no second "paused"
        assert next_event(events) is False
        assert time.monotonic() - started >= 0.8
    finally:
        hardware.close()


def test_injected_input_is_not_the_persons(
    display: str, watch: tuple[X11LocalInput, queue.Queue[object]]
) -> None:
    _, events = watch
    injector = X11Injector()
    try:
        injector.move(10, 10)
        injector.type_text("abc")
        xdotool(display, "mousemove", "300", "300")
        with pytest.raises(queue.Empty):
            next_event(events, timeout=0.5)
    finally:
        injector.close()


def test_activity_pause_waits_for_quiet() -> None:
    pause = ActivityPause(quiet_after=1.0)
    assert pause.saw_local(10.0) and not pause.saw_local(10.5)
    assert not pause.tick(11.2)
    assert pause.tick(11.6) and not pause.paused
    assert not pause.tick(20.0)


async def test_remote_input_waits_while_the_person_uses_the_mouse(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    injector = X11Injector()
    async with controller_session(broker, client, login, injector) as (console, controller):
        loop = asyncio.get_running_loop()
        local = X11LocalInput(display)
        local.start(
            lambda: None,
            lambda paused: loop.call_soon_threadsafe(controller.pause_input, paused),
        )
        hardware = Hardware(display)
        try:
            console.send(Channel.CONTROL, {"t": "request", "action": "remote_control"})
            question = await controller.events.get()
            await controller.answer(question.question.id, True)  # type: ignore[union-attr]
            assert (await control_reply(console))["state"] == "granted"

            hardware.move(700, 500)
            async with asyncio.timeout(3):
                while not controller.input_paused:
                    await asyncio.sleep(0.02)
            dropped = controller.input_dropped
            console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 40, "y": 30})
            async with asyncio.timeout(3):
                while controller.input_dropped == dropped:
                    await asyncio.sleep(0.02)
            assert await asyncio.to_thread(pointer, display) == (700, 500)

            async with asyncio.timeout(3):  # the person stops: input flows again
                while controller.input_paused:
                    await asyncio.sleep(0.05)
            console.send(Channel.CONTROL, {"t": "input", "kind": "move", "x": 40, "y": 30})
            async with asyncio.timeout(3):
                while await asyncio.to_thread(pointer, display) != (40, 30):
                    await asyncio.sleep(0.05)
        finally:
            hardware.close()
            local.stop()
