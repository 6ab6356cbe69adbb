"""Our side of the screen benchmark, in its own process: the applet's capture loop.

``python -m benchmarks.screen_loop --seconds T [--warmup W] [--fps F] [--lossless]``
on ``$DISPLAY``: grabs the first monitor with :class:`~applet.capture.MssCapturer` at
up to ``F`` frames a second, paced as :class:`~applet.screen_service.ScreenStreamer`
paces it (a slow frame delays the next, none are queued), and encodes each grab with
:class:`~common.codec.ScreenEncoder`. After ``W`` seconds of warm-up (the keyframe and
whatever the workload draws first) it counts ``T`` seconds and prints one line,
``result {json}``.

The CPU figure is this process's CPU time in grab + encode only. Checking the stream
costs CPU too and is left out of it: every update is decoded by a
:class:`~common.codec.ScreenDecoder`, and every ``--check-every``-th frame (and the
last) the decoder's picture is compared with the grabbed frame, pixel for pixel,
outside the rectangles the encoder says it shows lossy (H.264 video regions, in a codec
that has them); the share of the screen shown lossy is reported too. ``--lossless``
turns the video regions off (``ScreenEncoder(video=False)``).

Like the streamer in the applet, the loop watches X DAMAGE
(:class:`~applet.damage_x11.X11DamageWatch`): after a frame that changed nothing it
sleeps until something is drawn (at most ``IDLE_WAIT``) instead of grabbing again, and
grabs and compares only where X says something was drawn (but the whole frame every
``WHOLE_COMPARE_EVERY`` grabs). The CPU spent waiting and asking is counted
with the grab's. ``--no-damage`` grabs at the full rate and compares whole frames.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from applet.capture import BgraFrame, MssCapturer
from applet.damage_x11 import X11DamageWatch
from applet.screen_service import IDLE_WAIT, ChangedAreas
from common.codec import ScreenDecoder, ScreenEncoder

Box = tuple[int, int, int, int]


@dataclass
class Counts:
    seconds: float = 0.0
    frames: int = 0
    updates: int = 0
    bytes: int = 0
    grab_cpu: float = 0.0
    #: Waiting for X DAMAGE after a frame that changed nothing.
    wait_cpu: float = 0.0
    encode_cpu: float = 0.0
    encode_ms: list[float] = field(default_factory=list)
    checked: int = 0
    mismatched: int = 0
    lossy_shares: list[float] = field(default_factory=list)
    width: int = 0
    height: int = 0


def lossy_boxes(encoder: ScreenEncoder) -> list[Box]:
    """(x, y, width, height) of what the decoder shows lossy; none in a lossless codec."""
    lossy_rects = getattr(encoder, "lossy_rects", None)
    if lossy_rects is None:
        return []
    return [(r.x, r.y, r.width, r.height) for r in lossy_rects()]


def check(decoder: ScreenDecoder, frame: BgraFrame, lossy: list[Box]) -> tuple[bool, float]:
    """Whether the decoder's picture equals ``frame`` outside ``lossy``, and the share
    of the screen ``lossy`` covers."""
    picture, pixels = decoder.framebuffer, frame[..., :3]
    if not lossy:
        return bool(np.array_equal(picture, pixels)), 0.0
    if picture.shape != pixels.shape:
        return False, 1.0
    differs = (picture != pixels).any(axis=2)
    covered = np.zeros(differs.shape, bool)
    for x, y, w, h in lossy:
        covered[y : y + h, x : x + w] = True
    return not bool((differs & ~covered).any()), float(covered.mean())


def measure(
    seconds: float, warmup: float, fps: float, check_every: int, lossless: bool, damage: bool
) -> Counts:
    options: dict[str, Any] = {"video": False} if lossless else {}
    encoder, decoder = ScreenEncoder(**options), ScreenDecoder()
    capturer = MssCapturer()
    watch = X11DamageWatch() if damage else None
    try:
        monitor = capturer.monitors()[0]
        counts = Counts(width=monitor.width, height=monitor.height)
        interval = 1.0 / fps
        started = next_tick = time.monotonic()
        counting_from: float | None = None
        frame = None
        areas = None if watch is None else ChangedAreas(watch)

        def checked(frame: BgraFrame) -> None:
            exact, lossy = check(decoder, frame, lossy_boxes(encoder))
            counts.checked += 1
            counts.mismatched += not exact
            counts.lossy_shares.append(lossy)

        while (now := time.monotonic()) < started + warmup + seconds:
            if counting_from is None and now >= started + warmup:
                counting_from = now
            t0 = time.process_time()
            changed = None if areas is None else areas.next(monitor)  # as the streamer does
            frame = capturer.grab(monitor, changed)
            t1 = time.process_time()
            # The first is a keyframe, in the warm-up.
            updates = encoder.encode(frame, changed=changed)
            t2 = time.process_time()
            for update in updates:
                decoder.decode(update)
            if counting_from is not None:
                counts.frames += 1
                counts.grab_cpu += t1 - t0
                counts.encode_cpu += t2 - t1
                counts.encode_ms.append(1000 * (t2 - t1))
                counts.updates += bool(updates)
                counts.bytes += sum(map(len, updates))
                if counts.frames % check_every == 0:
                    checked(frame)
            next_tick = max(next_tick + interval, time.monotonic())
            time.sleep(max(0.0, next_tick - time.monotonic()))
            if not updates and watch is not None:
                t3 = time.process_time()
                watch.wait_for_change(IDLE_WAIT)
                if counting_from is not None:
                    counts.wait_cpu += time.process_time() - t3
                next_tick = time.monotonic()
        counts.seconds = time.monotonic() - (counting_from or started)
        if frame is not None:
            checked(frame)
        return counts
    finally:
        capturer.close()
        if watch is not None:
            watch.close()


def summary(counts: Counts) -> dict[str, Any]:
    out = asdict(counts)
    out["encode_ms_p50"] = statistics.median(counts.encode_ms) if counts.encode_ms else 0.0
    out["lossy_share"] = statistics.median(counts.lossy_shares) if counts.lossy_shares else 0.0
    del out["encode_ms"], out["lossy_shares"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.screen_loop")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--check-every", type=int, default=10)
    parser.add_argument("--lossless", action="store_true", help="no H.264 video regions")
    parser.add_argument("--no-damage", action="store_true", help="grab at --fps, no X DAMAGE")
    args = parser.parse_args()
    counts = measure(
        args.seconds, args.warmup, args.fps, args.check_every, args.lossless, not args.no_damage
    )
    print("result " + json.dumps(summary(counts)), flush=True)


if __name__ == "__main__":
    main()
