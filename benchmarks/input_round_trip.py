"""input_round_trip: a console mouse move → the pointer at that spot on the applet's display.

Real processes on one Xvfb (1920×1080) and 127.0.0.1: the broker
(:func:`~benchmarks.processes.broker_process`) and the applet
(:mod:`benchmarks.input_applet`: the real AppletController with the X11 injector, cursor
source and DAMAGE watch that ``applet/session_run.py`` gives it; every question answered
"allow"). The console is this process: a :class:`~console.technician_session.TechnicianSession`
over a :class:`~common.transport.PeerSession` paired with the applet through the broker
over TLS, which asks for ``remote_control`` and, once granted, sends each move with
:meth:`~console.technician_session.TechnicianSession.send_input` (docs/protocol.md §5.12).
As in a real session, the applet streams the screen and the pointer to the console,
which decodes them.

The clock starts before ``send_input`` and stops when this process reads the X server's
``MotionNotify`` for the root window (python-xlib, its own connection, read as soon as
the event loop sees the socket readable) whose root position is the target. Every trial
moves to a fresh random spot after a random pause, so no two trials overlap.

References, on the same display in the same run: the same move by XTEST called directly
from this process (:class:`~applet.inject_x11.X11Injector`: the floor of injecting and
seeing it), and the same msgpack ``input`` message over a plain TCP connection
(TCP_NODELAY, 4-byte length prefix) to a child that applies it with the same injector:
what a session path costs without broker, TLS, end-to-end encryption or consent checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from applet.inject_x11 import X11Injector
from benchmarks import links
from benchmarks.processes import (
    TECH_EMAIL,
    TECH_PASSWORD,
    BenchmarkError,
    child,
    describe_errors,
    temp_dir,
)
from benchmarks.report import Goal, Result
from benchmarks.screen_workloads import SCROLL_RATE, requirements, running
from benchmarks.x_display import xvfb
from common.transport import BrokerAddress, BrokerClient, PeerSession
from console.rights import RightChanged, RightState
from console.technician_session import ConsoleEvent, TechnicianSession

TITLE = "input round trip: console mouse move → pointer moved on the applet's display"

WIDTH, HEIGHT = 1920, 1080
GOAL_P50_MS = 15.0
TRIAL_TIMEOUT = 2.0
RAW_MOTION = 17  # XI_RawMotion
DIRECT = "XTEST called directly (reference)"
PLAIN = "plain TCP → injector child (reference)"
LIFELINE = "Lifeline: console → broker (TLS, E2E) → applet"
LIFELINE_SCROLLING = f"the same, terminal scrolling {SCROLL_RATE} lines/s"


@dataclass
class Settings:
    trials: int
    pause: tuple[float, float]
    settle: float


FULL = Settings(trials=400, pause=(0.02, 0.08), settle=1.5)
QUICK = Settings(trials=100, pause=(0.02, 0.06), settle=0.7)


@dataclass
class Condition:
    latencies_ms: list[float] = field(default_factory=list)
    misses: int = 0


class PointerWatch:
    """The pointer as the X server reports it: each XInput2 raw motion event (sent to
    the root window whatever window the pointer is over) is followed by a QueryPointer,
    read by the event loop as soon as the connection is readable."""

    def __init__(self, display: str) -> None:
        from Xlib import display as xdisplay
        from Xlib.ext import xinput

        self.display: Any = xdisplay.Display(display)
        if not self.display.has_extension("XInputExtension"):
            raise BenchmarkError("the X server has no XInput2: pointer moves cannot be seen")
        self._xi = self.display.query_extension("XInputExtension").major_opcode
        self._root = self.display.screen().root
        self._root.xinput_select_events([(xinput.AllDevices, 1 << RAW_MOTION)])
        self.position = self._query()
        self._want: tuple[int, int] | None = None
        self._seen: asyncio.Future[float] | None = None
        self.display.sync()

    def _query(self) -> tuple[int, int]:
        pointer = self._root.query_pointer()
        return int(pointer.root_x), int(pointer.root_y)

    def start(self) -> None:
        asyncio.get_running_loop().add_reader(self.display.fileno(), self._read)

    def expect(self, x: int, y: int) -> asyncio.Future[float]:
        """A future that gets the perf_counter() time the pointer is seen at (x, y)."""
        self._want = (x, y)
        self._seen = asyncio.get_running_loop().create_future()
        return self._seen

    def _read(self) -> None:
        moved = False
        while self.display.pending_events():
            event = self.display.next_event()
            if getattr(event, "extension", None) == self._xi and event.evtype == RAW_MOTION:
                moved = True
        if not moved:
            return
        self.position = self._query()
        now = time.perf_counter()
        if self._seen is not None and not self._seen.done() and self.position == self._want:
            self._seen.set_result(now)
        if self.display.pending_events():
            self._read()  # events that came in with the reply

    def close(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.display.fileno())
        self.display.close()


async def _trials(
    watch: PointerWatch, move: Callable[[int, int], Awaitable[None] | None], settings: Settings
) -> Condition:
    rng = random.Random(11)
    result = Condition()
    for _ in range(settings.trials):
        await asyncio.sleep(rng.uniform(*settings.pause))
        x, y = watch.position
        while (x, y) == watch.position:
            x, y = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        seen = watch.expect(x, y)
        t0 = time.perf_counter()
        pending = move(x, y)
        if pending is not None:
            await pending
        try:
            t1 = await asyncio.wait_for(seen, TRIAL_TIMEOUT)
        except TimeoutError:
            result.misses += 1
            continue
        result.latencies_ms.append(1000 * (t1 - t0))
    if not result.latencies_ms:
        raise BenchmarkError(f"none of {settings.trials} pointer moves reached the display")
    return result


async def _direct(watch: PointerWatch, display: str, settings: Settings) -> Condition:
    injector = X11Injector(display)
    try:
        return await _trials(watch, lambda x, y: injector.move(x, y), settings)
    finally:
        injector.close()


async def _plain(watch: PointerWatch, display: str, work: Path, settings: Settings) -> Condition:
    connected: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        links.set_nodelay(writer.transport)
        if not connected.done():
            connected.set_result(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        argv = ["-m", "benchmarks.input_applet", "--plain", str(port)]
        with child("plain-injector", argv, work, env={"DISPLAY": display}) as peer:
            writer = await asyncio.wait_for(connected, 30.0)
            await peer.ready("ready")

            def move(x: int, y: int) -> None:
                data = msgpack.packb({"v": 1, "t": "input", "kind": "move", "x": x, "y": y})
                writer.write(len(data).to_bytes(4, "big") + data)

            try:
                return await _trials(watch, move, settings)
            finally:
                writer.close()
    finally:
        server.close()


@contextlib.asynccontextmanager
async def _controlling(
    client: BrokerClient, token: str, url: str, ca: Path, display: str, work: Path
) -> AsyncIterator[tuple[TechnicianSession, list[str]]]:
    """A console session paired with an applet process that granted remote control."""
    session = await PeerSession.create(client, token)
    granted = asyncio.Event()
    errors: list[str] = []

    def report(event: ConsoleEvent) -> None:
        if (
            isinstance(event, RightChanged)
            and event.action == "remote_control"
            and event.state == RightState.GRANTED
        ):
            granted.set()

    argv = ["-m", "benchmarks.input_applet", "--url", url, "--ca", str(ca)]
    argv += ["--code", str(session.code)]
    technician = TechnicianSession(session, report)
    try:
        with child("applet", argv, work, env={"DISPLAY": display}) as applet:
            await session.wait_open(30.0)
            await applet.ready("ready")
            technician.start()
            try:
                technician.request("remote_control")
                await asyncio.wait_for(granted.wait(), 15.0)
                yield technician, errors
            finally:
                await technician.end()
                await technician.close()
            errors.append("")  # filled in below, once the applet has stopped
        errors[-1] = describe_errors("applet", applet.errors)
    finally:
        technician.screen.close()


async def _main(
    settings: Settings, work: Path, display: str
) -> tuple[dict[str, Condition], list[str]]:
    from benchmarks.processes import broker_process

    results: dict[str, Condition] = {}
    logs: list[str] = []
    watch = PointerWatch(display)
    watch.start()
    try:
        results[DIRECT] = await _direct(watch, display, settings)
        results[PLAIN] = await _plain(watch, display, work, settings)
        with broker_process(work) as broker:
            address = BrokerAddress(broker.url, ca_file=broker.ca_file)
            async with BrokerClient(address) as client:
                login = await client.login(TECH_EMAIL, TECH_PASSWORD)
                async with _controlling(
                    client, login.token, broker.url, broker.ca_file, display, work
                ) as (technician, errors):

                    def move(x: int, y: int) -> None:
                        if not technician.send_input({"kind": "move", "x": x, "y": y}):
                            raise BenchmarkError("remote control was taken back")

                    view = technician.screen
                    results[LIFELINE] = await _trials(watch, move, settings)
                    if requirements("scrolling") is None:
                        frames, started = view.frames, time.monotonic()
                        with running("scrolling", display, work, settings.settle):
                            results[LIFELINE_SCROLLING] = await _trials(watch, move, settings)
                        rate = (view.frames - frames) / (time.monotonic() - started)
                        logs.append(
                            f"Under the scrolling terminal the console decoded {rate:.0f} "
                            "screen updates/s during the moves."
                        )
                    else:
                        logs.append(f"scrolling condition skipped: {requirements('scrolling')}")
                    rtt = technician.session.rtt
                logs.extend(e for e in errors if e)
        logs.insert(0, describe_errors("broker", broker.proc.errors))
        if rtt is not None:
            logs.append(f"PeerSession's smoothed ping round trip at the end: {1000 * rtt:.1f} ms.")
    finally:
        watch.close()
    return results, logs


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    with temp_dir("input") as work, xvfb(WIDTH, HEIGHT, work) as display:
        results, logs = links.run(_main(settings, work, display))
    direct_p50 = statistics.median(results[DIRECT].latencies_ms)
    rows = []
    for name, c in results.items():
        p50 = statistics.median(c.latencies_ms)
        rows.append(
            {
                "path": name,
                "moves": len(c.latencies_ms),
                "missed": c.misses,
                "p50 ms": p50,
                "p95 ms": _percentile(c.latencies_ms, 95),
                "max ms": max(c.latencies_ms),
                "p50 - direct ms": p50 - direct_p50,
            }
        )
    goals = []
    for name in (LIFELINE, LIFELINE_SCROLLING):
        if name not in results:
            continue
        ours = results[name]
        p50 = statistics.median(ours.latencies_ms)
        goals.append(
            Goal(
                f"{name}: p50",
                f"≤ {GOAL_P50_MS:.0f} ms, none missed",
                f"{p50:.1f} ms, {ours.misses} missed",
                p50 <= GOAL_P50_MS and ours.misses == 0,
            )
        )
    notes = [
        f"{settings.trials} moves per path to random spots of the 1920×1080 screen, "
        f"{settings.pause[0] * 1000:.0f}–{settings.pause[1] * 1000:.0f} ms apart (random); "
        f"a move not seen within {TRIAL_TIMEOUT:.0f} s is missed.",
        "Clock: from just before the send call (send_input, the TCP write, or the XTEST "
        "call) to the reply of the QueryPointer that this process sends, on its own "
        "python-xlib connection, for each XInput2 raw motion event, showing the target "
        "(read as soon as the event loop sees the connection readable).",
        "Lifeline path: TechnicianSession.send_input → PeerSession (AES-GCM record) → TLS "
        "WebSocket → broker process → TLS WebSocket → applet PeerSession → "
        "AppletController (schema and consent checks) → X11Injector (XTEST + XSync), all on "
        "this 2-core machine, while the applet streams the screen and pointer to the "
        "console (which decodes them).",
        *logs,
    ]
    return Result(TITLE, rows, goals, notes)
