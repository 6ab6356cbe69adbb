"""The screen service end to end: Xvfb → capture → codec → E2E session through the
real broker over TLS → a console-side decoder that matches the real screen."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from pytest import MonkeyPatch

from applet.capture import Monitor, MssCapturer
from applet.damage_x11 import X11DamageWatch
from applet.screen_service import ScreenStreamer, VideoLink
from benchmarks.synthetic_screens import text_page, video_frames
from broker.app import Broker
from common.codec import ScreenDecoder
from common.protocol import Channel
from common.transport import BrokerClient, Login, PeerSession
from tests.conftest import address, paired_sessions
from tests.x11 import running

PRINT_THEN_STOP = (
    'for i in $(seq 1 150); do echo "line $i of a scrolling log"; sleep 0.01; done; sleep 60'
)


async def drain_updates(console: PeerSession, decoder: ScreenDecoder, quiet: float) -> int:
    """Applies updates until none came for ``quiet`` seconds; returns how many."""
    count = 0
    while True:
        try:
            event = await console.next_message(quiet)
        except TimeoutError:
            return count
        if event.channel == Channel.VIDEO and event.message["t"] == "screen_update":
            decoder.decode(event.message["data"])
            count += 1


@dataclass
class Streaming:
    console: PeerSession
    applet: PeerSession
    streamer: ScreenStreamer
    monitor: Monitor


@contextlib.asynccontextmanager
async def streaming(
    broker: Broker,
    client: BrokerClient,
    login: Login,
    capturer: MssCapturer | None = None,
    damage: X11DamageWatch | None = None,
) -> AsyncIterator[Streaming]:
    """A paired session through the real broker, with a streamer on the applet side."""
    capturer = capturer or MssCapturer()
    (monitor,) = capturer.monitors()
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        streamer = ScreenStreamer(applet, capturer, monitor, damage=damage)
        try:
            yield Streaming(console, applet, streamer, monitor)
        finally:
            await streamer.stop()
            await console.end()
            await applet.close()
            capturer.close()


def screen_now(monitor: Monitor) -> np.ndarray:
    """A fresh grab with its own capturer (the streamer's grabs run in a thread)."""
    return MssCapturer().grab(monitor)[:, :, :3]


async def test_the_console_sees_exactly_what_is_on_the_screen(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    terminal = ["xterm", "-geometry", "100x40+20+20", "-e", "bash", "-c", PRINT_THEN_STOP]
    async with streaming(broker, client, login) as s:
        decoder = ScreenDecoder()
        with running(terminal, display):
            s.streamer.start()
            assert await drain_updates(s.console, decoder, quiet=1.5) >= 5  # keyframe + text
            assert np.array_equal(decoder.framebuffer, screen_now(s.monitor))


async def test_with_x_damage_grabs_are_compared_where_drawn_and_the_picture_stays_exact(
    display: str, broker: Broker, client: BrokerClient, login: Login, monkeypatch: MonkeyPatch
) -> None:
    terminal = ["xterm", "-geometry", "60x20+40+30", "-e", "bash", "-c", PRINT_THEN_STOP]
    damage = X11DamageWatch(display)
    async with streaming(broker, client, login, damage=damage) as s:
        told: list[tuple[int, int, int, int] | None] = []
        encode = s.streamer.encoder.encode

        def telling(frame: np.ndarray, **options: Any) -> list[bytes]:
            told.append(options.get("changed"))
            return encode(frame, **options)

        monkeypatch.setattr(s.streamer.encoder, "encode", telling)
        decoder = ScreenDecoder()
        with running(terminal, display):
            s.streamer.start()
            assert await drain_updates(s.console, decoder, quiet=1.5) >= 5
            assert np.array_equal(decoder.framebuffer, screen_now(s.monitor))
    damage.close()
    inside = [b for b in told if b and b[0] >= 40 and b[1] >= 30 and b[2] < 1280 and b[3] < 720]
    assert len(inside) >= 5, told
    assert None in told  # and now and then the whole frame


async def test_stopping_the_stream_stops_frames_within_200_ms(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    busy = [
        "xterm",
        "-geometry",
        "100x40+0+0",
        "-e",
        "bash",
        "-c",
        "while true; do echo busy $RANDOM; sleep 0.005; done",
    ]
    async with streaming(broker, client, login) as s:
        with running(busy, display):
            s.streamer.start()
            await s.console.next_message(10)  # frames are flowing
            started = time.monotonic()
            await s.streamer.stop()
            assert time.monotonic() - started < 0.2
            assert not s.streamer.running
            assert s.applet.conn is not None
            sent = s.applet.conn.counters.records_sent
            await asyncio.sleep(0.5)
            assert s.applet.conn.counters.records_sent == sent


async def test_a_keyframe_request_lets_a_new_decoder_join(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with streaming(broker, client, login) as s:
        with running(["xterm", "-geometry", "80x24+0+0"], display):
            s.streamer.start()
            await drain_updates(s.console, ScreenDecoder(), quiet=0.8)
            late = ScreenDecoder()  # joins after the first keyframe went by
            s.streamer.request_keyframe()
            assert await drain_updates(s.console, late, quiet=0.8) >= 1
            assert np.array_equal(late.framebuffer, screen_now(s.monitor))


class SlowCapturer(MssCapturer):
    """Real capture that takes a while, to catch a capture outliving stop()."""

    busy = 0

    def grab(self, monitor, area=None):  # type: ignore[no-untyped-def]
        SlowCapturer.busy += 1
        try:
            time.sleep(0.3)
            return super().grab(monitor, area)
        finally:
            SlowCapturer.busy -= 1


async def test_no_capture_outlives_stop(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with streaming(broker, client, login, SlowCapturer()) as s:
        s.streamer.start()
        await asyncio.sleep(0.1)  # a capture is under way
        assert SlowCapturer.busy == 1
        await s.streamer.stop()
        assert SlowCapturer.busy == 0  # so a restart can never share the encoder


async def test_a_still_screen_is_not_grabbed_until_something_is_drawn(
    display: str, broker: Broker, client: BrokerClient, login: Login
) -> None:
    damage = X11DamageWatch(display)
    async with streaming(broker, client, login, damage=damage) as s:
        decoder = ScreenDecoder()
        s.streamer.start()
        await drain_updates(s.console, decoder, quiet=1.0)
        before = s.streamer.grabs
        await asyncio.sleep(2.0)
        idle_grabs = s.streamer.grabs - before
        assert idle_grabs <= 2 / 0.25 + 2, idle_grabs  # a grab per IDLE_WAIT at most, not 60
        with running(["xterm", "-geometry", "40x10+50+50"], display, settle=0.0):
            started = time.monotonic()
            async with asyncio.timeout(5):
                while (event := await s.console.next_message()).message["t"] != "screen_update":
                    pass
            decoder.decode(event.message["data"])
            assert time.monotonic() - started < 2
            await drain_updates(s.console, decoder, quiet=1.0)
            assert np.array_equal(decoder.framebuffer, screen_now(s.monitor))
    damage.close()


class FramesCapturer:
    """Hands out prepared frames, for tests of what the streamer's encoder makes of them."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = iter(frames)

    def monitors(self) -> list[Monitor]:
        return [Monitor(0, 0, 0, 512, 320, True)]

    def grab(self, monitor: Monitor, area: tuple[int, int, int, int] | None = None) -> np.ndarray:
        return next(self.frames)

    def close(self) -> None:
        pass


def test_the_codec_options_reach_the_encoder() -> None:
    desktop = text_page(512, 18)[:320]
    frames = []
    for picture in video_frames(256, 192, 6):
        frame = desktop.copy()
        frame[64:256, 192:448] = picture
        frames.append(frame)
    video_bytes = {}
    options: dict[str, Any]
    for options in ({"video": False}, {"crf": 18}, {"crf": 40}):
        capturer = FramesCapturer(frames)
        (monitor,) = capturer.monitors()
        streamer = ScreenStreamer(cast(VideoLink, None), capturer, monitor, **options)
        for _ in frames:
            streamer.encoder.encode(capturer.grab(monitor))
        video_bytes[str(options)] = streamer.encoder.stats.video_bytes
    assert video_bytes["{'video': False}"] == 0
    assert 0 < video_bytes["{'crf': 40}"] < video_bytes["{'crf': 18}"]
