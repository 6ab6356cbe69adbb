"""Streams one monitor to the console: capture → screen codec → VIDEO channel.

Runs only while the person has allowed the screen to be seen (the caller starts it on
the grant and stops it on the revoke). Capture and encoding run in a worker thread, so
the event loop stays free for input and chat. Frames are never queued behind a slow
link: when the VIDEO channel is full the loop waits, and the next capture carries
everything that changed meanwhile (codec updates themselves are never dropped: each
refers to the picture before it).

Messages (docs/protocol.md, "Application messages"):
    applet → console, VIDEO:   {"t": "screen_update", "monitor": i, "data": bytes}
    console → applet, CONTROL: {"t": "screen_keyframe", "monitor": i}
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

from applet.capture import Capturer, Monitor
from common.codec import ScreenEncoder
from common.protocol import Channel

DEFAULT_FPS = 30.0


class VideoLink(Protocol):
    """What the streamer needs of a session (PeerSession provides it)."""

    def send(self, channel: Channel, message: dict[str, object]) -> None: ...
    def writable(self, channel: Channel) -> bool: ...
    async def wait_writable(self, channel: Channel) -> None: ...


class ScreenStreamer:
    def __init__(
        self, link: VideoLink, capturer: Capturer, monitor: Monitor, *, fps: float = DEFAULT_FPS
    ) -> None:
        self.link = link
        self.capturer = capturer
        self.monitor = monitor
        self.interval = 1.0 / fps
        self.encoder = ScreenEncoder()
        self._keyframe = True
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._keyframe = True  # a (re)started stream begins with a full picture
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stops capturing at once; returns when no more frame will be sent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def request_keyframe(self) -> None:
        """A new viewer, a recorder starting, or a decoder that lost its way."""
        self._keyframe = True

    def _capture_and_encode(self, keyframe: bool) -> list[bytes]:
        frame = self.capturer.grab(self.monitor)
        return self.encoder.encode(frame, force_keyframe=keyframe)

    async def _run(self) -> None:
        next_tick = time.monotonic()
        while True:
            if not self.link.writable(Channel.VIDEO):
                await self.link.wait_writable(Channel.VIDEO)
            keyframe, self._keyframe = self._keyframe, False
            updates = await asyncio.to_thread(self._capture_and_encode, keyframe)
            for update in updates:
                self.link.send(
                    Channel.VIDEO,
                    {"t": "screen_update", "monitor": self.monitor.index, "data": update},
                )
            next_tick = max(next_tick + self.interval, time.monotonic())
            await asyncio.sleep(next_tick - time.monotonic())
