"""Streams one monitor to the console: capture → screen codec → VIDEO channel.

Runs only while the person has allowed the screen to be seen (the caller starts it on
the grant and stops it on the revoke). Capture and encoding run in a worker thread, so
the event loop stays free for input and chat. Frames are never queued behind a slow
link: when the VIDEO channel is full the loop waits, and the next capture carries
everything that changed meanwhile (codec updates themselves are never dropped: each
refers to the picture before it). Where the OS reports damage (X DAMAGE), a still
screen is not grabbed, and only where something was drawn is the screen read and
compared with the last frame.

Messages (docs/protocol.md, "Application messages"):
    applet → console, VIDEO:   {"t": "screen_update", "monitor": i, "data": bytes}
    console → applet, CONTROL: {"t": "screen_keyframe", "monitor": i}
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from applet.capture import Box, Capturer, Monitor
from common.protocol import Channel

log = logging.getLogger("lifeline.applet")
DEFAULT_FPS = 30.0


#: While the screen is still, wait this long at most for damage before grabbing anyway
#: (so a keyframe request is served within it).
IDLE_WAIT = 0.25
#: Where the OS says where the screen was drawn on, only there is it read and compared
#: with the last frame, except every this many grabs (half a second at 30 a second): a
#: program that draws without the OS seeing it (some GL or compositor paths) shows
#: within that.
WHOLE_COMPARE_EVERY = 15

NOTHING: Box = (0, 0, 0, 0)


class DamageWatch(Protocol):
    def wait_for_change(self, timeout: float) -> bool:
        """Blocks until the screen was drawn on, or ``timeout``; True when it was."""
        ...

    def changed_area(self) -> Box | None:
        """The bounding box (root window pixels) of what was drawn since the last call,
        None when nothing was."""
        ...


class VideoLink(Protocol):
    """What the streamer needs of a session (PeerSession provides it)."""

    def send(self, channel: Channel, message: dict[str, object]) -> None: ...
    def writable(self, channel: Channel) -> bool: ...
    async def wait_writable(self, channel: Channel) -> None: ...


class ScreenStreamer:
    def __init__(
        self,
        link: VideoLink,
        capturer: Capturer,
        monitor: Monitor,
        *,
        fps: float = DEFAULT_FPS,
        on_failure: Callable[[Exception], None] | None = None,
        damage: DamageWatch | None = None,
        video: bool = True,
        crf: int | None = None,
    ) -> None:
        """``video`` and ``crf`` are the codec's (`ScreenEncoder`): ``video=False`` sends
        every pixel losslessly, never H.264; ``crf`` is the quality of its video regions
        (the codec's default when None)."""
        # Imported here, once a technician has joined: the codec and PyAV take a few
        # tenths of a second to load, which the applet's first windows need not wait for.
        from common.codec import ScreenEncoder
        from common.codec.h264 import CRF

        self.link = link
        #: Where the OS says when the screen changes, an idle screen is not grabbed.
        self.damage = damage
        #: Frames grabbed (for tests and benchmarks).
        self.grabs = 0
        self.capturer = capturer
        self.monitor = monitor
        self.interval = 1.0 / fps
        self.encoder = ScreenEncoder(video=video, crf=CRF if crf is None else crf)
        #: Called when capturing fails for good (monitor gone, session over).
        self.on_failure = on_failure
        self._keyframe = True
        self._task: asyncio.Task[None] | None = None
        # One worker: a capture still running when we stop finishes before the next
        # one starts, so one encoder is never used by two threads at once.
        self._worker = concurrent.futures.ThreadPoolExecutor(1, "lifeline-capture")
        self._pending: asyncio.Future[list[bytes]] | None = None
        self._areas = None if damage is None else ChangedAreas(damage)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._keyframe = True  # a (re)started stream begins with a full picture
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stops at once: no frame is sent after this is called, and when it returns
        no capture is running any more."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # a stream that already failed was reported by _run
        if self._pending is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait([self._pending])

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def request_keyframe(self) -> None:
        """A new viewer, a recorder starting, or a decoder that lost its way."""
        self._keyframe = True

    def _capture_and_encode(self, keyframe: bool) -> list[bytes]:
        self.grabs += 1
        # Asked before the grab: what is drawn after it waits for the next one.
        changed = None if self._areas is None else self._areas.next(self.monitor)
        frame = self.capturer.grab(self.monitor, changed)
        return self.encoder.encode(frame, force_keyframe=keyframe, changed=changed)

    async def _run(self) -> None:
        try:
            await self._stream()
        except Exception as exc:  # mss, the codec, a session that ended: all final
            log.warning("screen streaming stopped: %s", exc)
            if self.on_failure is not None:
                self.on_failure(exc)

    async def _stream(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = time.monotonic()
        while True:
            if not self.link.writable(Channel.VIDEO):
                await self.link.wait_writable(Channel.VIDEO)
            keyframe, self._keyframe = self._keyframe, False
            self._pending = loop.run_in_executor(self._worker, self._capture_and_encode, keyframe)
            updates = await asyncio.shield(self._pending)
            for update in updates:
                self.link.send(
                    Channel.VIDEO,
                    {"t": "screen_update", "monitor": self.monitor.index, "data": update},
                )
            next_tick = max(next_tick + self.interval, time.monotonic())
            await asyncio.sleep(next_tick - time.monotonic())
            if not updates and self.damage is not None and not self._keyframe:
                # Nothing changed: sleep until something is drawn (XDamage), not 30/s.
                await loop.run_in_executor(self._worker, self.damage.wait_for_change, IDLE_WAIT)
                next_tick = time.monotonic()


class ChangedAreas:
    """For each grab, where the monitor was drawn on since the last one (its own
    pixels), as the capturer and the encoder take it: None ("anywhere") every
    `WHOLE_COMPARE_EVERY` grabs."""

    def __init__(self, watch: DamageWatch) -> None:
        self._watch = watch
        self._grabs = 0

    def next(self, monitor: Monitor) -> Box | None:
        area = self._watch.changed_area()
        self._grabs += 1
        if self._grabs >= WHOLE_COMPARE_EVERY:
            self._grabs = 0
            return None
        return on_monitor(area, monitor)


def on_monitor(area: Box | None, monitor: Monitor) -> Box:
    """A damaged area of the root window (None: nothing) in `monitor`'s own pixels; the
    encoder clips it to the frame."""
    if area is None:
        return NOTHING
    left, top = monitor.left, monitor.top
    return area[0] - left, area[1] - top, area[2] - left, area[3] - top
