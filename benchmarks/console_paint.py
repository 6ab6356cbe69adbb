"""console_paint: the technician console's decode + paint rate on a 1080p update stream.

The stream is made before anything is timed: 1920×1080 frames of synthetic screens
(:mod:`benchmarks.synthetic_screens`) encoded by the real
:class:`~common.codec.ScreenEncoder`. Then, in this process, the console's own pieces
play it: :class:`~console.screen_view.ScreenView` decodes each update on its worker
thread (awaited from an asyncio loop, as :class:`~console.technician_session.TechnicianSession`
does), and :class:`~console.ui.viewer.RemoteScreen`, shown on Qt's ``offscreen`` platform,
copies the picture (:meth:`~console.ui.viewer.RemoteScreen.screen_changed`) and paints it
(``repaint()``: a synchronous paint event into the window's backing store), in both of
its modes: fit to a 1280×720 window (smooth scaling) and 1:1 (a 1920×1080 widget).

The reference plays the same frames as one whole-frame H.264 stream: libx264 (the
preset and quality of our video regions, 4:4:4) encoded ahead of time, decoded by
libavcodec through PyAV with the same swscale conversion to BGR our decoder uses
(:class:`~common.codec.h264.H264Decoder`), on a worker thread as well, and painted by the
same widget: the ratio is what our codec's decode costs against ffmpeg's C decoder.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import dataclasses
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import msgpack
import numpy as np
from numpy.typing import NDArray

from benchmarks.processes import child, temp_dir
from benchmarks.report import Goal, Result
from benchmarks.screen_workloads import SCROLL_RATE
from benchmarks.synthetic_screens import LINE_HEIGHT, photo, text_page, with_random_alpha
from benchmarks.x_display import xvfb
from common.codec import ScreenEncoder
from common.codec.h264 import H264Decoder, H264Encoder
from console.screen_view import CursorView, ScreenView

TITLE = "console decode + paint at 1080p: ScreenView + RemoteScreen vs libavcodec H.264"

WIDTH, HEIGHT, FPS = 1920, 1080, 30
#: The console window's picture area in fit mode (the remote screen scaled down).
FIT_SIZE = (1280, 720)
#: Pixels a frame: the terminal of the other screen benchmarks, at 30 frames/s.
SCROLL_STEP = SCROLL_RATE * LINE_HEIGHT // FPS
VIDEO_BOX = (480, 270, 960, 540)  # x, y, width, height of the video window
GOAL_FPS = 30.0
SCROLLING = f"terminal scrolling {SCROLL_RATE} lines/s"
VIDEO_WINDOW = f"{VIDEO_BOX[2]}×{VIDEO_BOX[3]} video in a window"
FULL_VIDEO = "full-screen video"
FIT, ONE_TO_ONE = "fit", "1:1"
PLATFORMS = ("xcb", "offscreen")
PLAYER_TIMEOUT = 600.0
#: PySide6 6.12.0 on CPython 3.11 drops one reference to None on every call of a Qt
#: method that returns nothing (QPainter.fillRect, drawImage, QWidget.update…): None
#: starts with about 5,000 and the process aborts ("none_dealloc") when it reaches 0,
#: after about a thousand painted frames. The player holds this many extra references
#: so that it can measure; the console has no such reserve (the report's notes give the
#: loss per frame). From CPython 3.12 None is immortal and nothing is lost.
NONE_RESERVE = 2_000_000
_none_reserve: list[None] = []


@dataclass
class Settings:
    frames: int
    runs: int
    workloads: tuple[str, ...]


FULL = Settings(frames=150, runs=5, workloads=(SCROLLING, VIDEO_WINDOW, FULL_VIDEO))
QUICK = Settings(frames=30, runs=2, workloads=(SCROLLING, VIDEO_WINDOW))

Frame = NDArray[np.uint8]


# ---- the content ------------------------------------------------------------------------


def _scrolling(n: int) -> Iterator[Frame]:
    page = text_page(WIDTH, (n * SCROLL_STEP + HEIGHT) // LINE_HEIGHT + 2)
    for i in range(n):
        yield with_random_alpha(page[i * SCROLL_STEP : i * SCROLL_STEP + HEIGHT], seed=i)


def _moving_picture(width: int, height: int, n: int, seed: int = 13) -> Iterator[Frame]:
    """A photo panning one pixel a frame behind three bright discs that move fast, with
    fresh ±1 noise in every frame (video_frames' content, made one frame at a time so
    that 1080p does not need every frame in memory at once)."""
    rng = np.random.default_rng(seed)
    background = photo(width + n + 8, height + n + 8, seed)
    y, x = np.ogrid[0:height, 0:width]
    shapes = [
        (rng.uniform(0, width), rng.uniform(0, height), *rng.uniform(-12, 12, 2)) for _ in "abc"
    ]
    colours = rng.integers(30, 230, (3, 3)).astype(np.uint8)
    for i in range(n):
        frame = background[i : i + height, i // 2 : i // 2 + width].copy()
        for (cx, cy, vx, vy), colour in zip(shapes, colours, strict=True):
            inside = (x - (cx + vx * i) % width) ** 2 + (y - (cy + vy * i) % height) ** 2 < 1600
            frame[inside, :3] = colour
        noise = rng.integers(-1, 2, (height, width, 3), dtype=np.int16)
        frame[..., :3] = np.clip(frame[..., :3] + noise, 0, 255).astype(np.uint8)
        yield frame


def _video_window(n: int) -> Iterator[Frame]:
    desktop = text_page(WIDTH, HEIGHT // LINE_HEIGHT)
    x, y, width, height = VIDEO_BOX
    for i, picture in enumerate(_moving_picture(width, height, n)):
        frame = desktop.copy()
        frame[y : y + height, x : x + width] = picture
        yield with_random_alpha(frame, seed=i)


WORKLOADS: dict[str, Callable[[int], Iterator[Frame]]] = {
    SCROLLING: _scrolling,
    VIDEO_WINDOW: _video_window,
    FULL_VIDEO: lambda n: _moving_picture(WIDTH, HEIGHT, n),
}


@dataclass
class Stream:
    """One workload, encoded both ways: per frame, our updates and one H.264 access unit."""

    ours: list[list[bytes]] = field(default_factory=list)
    h264: list[bytes] = field(default_factory=list)

    @property
    def kb_per_frame(self) -> tuple[float, float]:
        ours = sum(len(u) for updates in self.ours[1:] for u in updates)
        h264 = sum(len(a) for a in self.h264[1:])
        frames = max(1, len(self.h264) - 1)
        return ours / frames / 1000, h264 / frames / 1000


def _encode(name: str, frames: int) -> Stream:
    stream = Stream()
    encoder, reference = ScreenEncoder(), H264Encoder(WIDTH, HEIGHT)
    for frame in WORKLOADS[name](frames):
        stream.ours.append(encoder.encode(frame))
        stream.h264.append(reference.encode(frame))
    return stream


# ---- the player --------------------------------------------------------------------------


class _ReferenceDecoder:
    """What RemoteScreen reads from a view's decoder: the last picture."""

    def __init__(self) -> None:
        self.framebuffer: Frame = np.zeros((0, 0, 3), np.uint8)


class ReferenceView:
    """A ScreenView whose updates are H.264 access units, decoded by libavcodec on a
    worker thread like ScreenView's; RemoteScreen paints it unchanged."""

    def __init__(self) -> None:
        self.decoder = _ReferenceDecoder()
        self.cursor = CursorView()
        self.lock = threading.Lock()
        self._h264 = H264Decoder(WIDTH, HEIGHT)
        self._started = False
        self._worker = concurrent.futures.ThreadPoolExecutor(1, "reference-decode")

    async def update(self, data: bytes) -> None:
        await asyncio.get_running_loop().run_in_executor(self._worker, self._decode, data)

    def _decode(self, data: bytes) -> None:
        with self.lock:
            self.decoder.framebuffer = self._h264.decode(data, start=not self._started)
            self._started = True

    def close(self) -> None:
        self._worker.shutdown(wait=True)


@dataclass
class Run:
    seconds: float = 0.0
    frames: int = 0
    decode_ms: list[float] = field(default_factory=list)
    paint_ms: list[float] = field(default_factory=list)
    #: References to None that the timed frames took away (see :data:`NONE_RESERVE`).
    none_lost: int = 0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds


def _application() -> Any:
    """The player process's QApplication, on the platform $QT_QPA_PLATFORM names."""
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _screen(view: ScreenView | ReferenceView, mode: str) -> Any:
    from console.ui.viewer import RemoteScreen

    class CountingScreen(RemoteScreen):
        """RemoteScreen, counting its paint events (to check that each frame painted)."""

        paints = 0

        def paintEvent(self, event: Any) -> None:
            super().paintEvent(event)
            self.paints += 1

    screen = CountingScreen(cast(ScreenView, view))
    screen.resize(*FIT_SIZE)
    screen.set_fit(mode == FIT)
    screen.show()
    deadline = time.monotonic() + 5.0
    while not (screen.windowHandle() and screen.windowHandle().isExposed()):
        if time.monotonic() > deadline:
            raise RuntimeError("the window was never shown")
        _application().processEvents()
        time.sleep(0.005)
    return screen


async def _play(stream: Stream, mode: str, reference: bool) -> Run:
    """Plays every frame: its updates decoded (awaited), then one synchronous paint. The
    first frame (the keyframe, a new viewer's cost) is played untimed."""
    app = _application()
    view: ScreenView | ReferenceView = ReferenceView() if reference else ScreenView()
    screen = _screen(view, mode)
    run = Run()
    none_before = sys.getrefcount(None)
    try:
        frames: list[list[bytes]] = [[unit] for unit in stream.h264] if reference else stream.ours
        for index, updates in enumerate(frames):
            if not updates:
                continue  # nothing changed: the console does nothing either
            t0 = time.perf_counter()
            for data in updates:
                if isinstance(view, ScreenView):
                    if await view.update(data) is None:
                        raise RuntimeError("the console could not decode its own stream")
                else:
                    await view.update(data)
            t1 = time.perf_counter()
            screen.screen_changed()
            screen.repaint()
            t2 = time.perf_counter()
            app.processEvents()  # what the event loop would do between frames (untimed)
            if index == 0:
                continue
            run.decode_ms.append(1000 * (t1 - t0))
            run.paint_ms.append(1000 * (t2 - t1))
            run.seconds += t2 - t0
            run.frames += 1
        run.none_lost = none_before - sys.getrefcount(None)
        if screen.paints < run.frames:
            raise RuntimeError(f"{run.frames} frames but only {screen.paints} paint events")
    finally:
        screen.close()
        screen.deleteLater()
        app.processEvents()
        view.close()
    return run


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _summary(runs: list[Run]) -> dict[str, float]:
    decode = [ms for r in runs for ms in r.decode_ms]
    paint = [ms for r in runs for ms in r.paint_ms]
    return {
        "fps": statistics.median(r.fps for r in runs),
        "decode p50": statistics.median(decode),
        "decode p95": _percentile(decode, 95),
        "paint p50": statistics.median(paint),
        "paint p95": _percentile(paint, 95),
        "none lost/frame": statistics.median(r.none_lost / r.frames for r in runs),
    }


def _play_all(streams: list[Path], runs: int) -> dict[str, dict[str, dict[str, float]]]:
    """In the player process: every stream in both modes, ours then the reference;
    figures by "stream index/mode/ours|ref"."""
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for index, path in enumerate(streams):
        stream = Stream(**msgpack.unpackb(path.read_bytes()))
        for mode in (FIT, ONE_TO_ONE):
            figures[f"{index}/{mode}"] = {
                kind: _summary(
                    [asyncio.run(_play(stream, mode, kind == "ref")) for _ in range(runs)]
                )
                for kind in ("ours", "ref")
            }
    return figures


def _player(platform: str, streams: list[Path], runs: int, work: Path, display: str) -> Any:
    out = work / f"figures-{platform}.json"
    argv = ["-m", "benchmarks.console_paint", "--runs", str(runs), "--out", str(out)]
    env = {"QT_QPA_PLATFORM": platform, "DISPLAY": display}
    with child(f"player-{platform}", [*argv, *map(str, streams)], work, env=env) as player:
        player.wait_for_line("^done$", timeout=PLAYER_TIMEOUT)
    return json.loads(out.read_text())


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    rows: list[dict[str, Any]] = []
    goals: list[Goal] = []
    notes: list[str] = []
    with temp_dir("paint") as work, xvfb(WIDTH, HEIGHT, work) as display:
        streams = []
        for index, name in enumerate(settings.workloads):
            stream = _encode(name, settings.frames)
            ours_kb, h264_kb = stream.kb_per_frame
            notes.append(f"{name}: {ours_kb:.0f} kB/frame ours, {h264_kb:.0f} kB/frame H.264")
            streams.append(work / f"stream-{index}.msgpack")
            streams[-1].write_bytes(msgpack.packb(dataclasses.asdict(stream)))
        figures = {p: _player(p, streams, settings.runs, work, display) for p in PLATFORMS}
    for index, name in enumerate(settings.workloads):
        for platform in PLATFORMS:
            for mode in (FIT, ONE_TO_ONE):
                ours, ref = (figures[platform][f"{index}/{mode}"][k] for k in ("ours", "ref"))
                rows.append(
                    {
                        "content": name,
                        "Qt": platform,
                        "mode": mode,
                        "frames/s": ours["fps"],
                        "decode p50 ms": ours["decode p50"],
                        "decode p95 ms": ours["decode p95"],
                        "paint p50 ms": ours["paint p50"],
                        "paint p95 ms": ours["paint p95"],
                        "ref frames/s": ref["fps"],
                        "ref decode p50 ms": ref["decode p50"],
                        "ref paint p50 ms": ref["paint p50"],
                        "ours/ref fps": f"{ours['fps'] / ref['fps']:.2f}x",
                    }
                )
                goals.append(
                    Goal(
                        f"{name}, {platform}, {mode}: decoded and painted",
                        f"≥ {GOAL_FPS:.0f} frames/s",
                        f"{ours['fps']:.0f} frames/s",
                        ours["fps"] >= GOAL_FPS,
                    )
                )
    # repaint() and processEvents() are the player's own calls, one reference each.
    lost = max(f["ours"]["none lost/frame"] for p in figures.values() for f in p.values()) - 2
    if lost > 0.5:
        notes.append(
            f"RemoteScreen loses about {lost:.0f} references to None per painted frame "
            f"(PySide6 on Python {sys.version_info.major}.{sys.version_info.minor}: a "
            "refcount bug in its bindings of methods that return nothing); None has about "
            "5,000 in a fresh Qt process, so the console aborts ('Fatal Python error: "
            f"none_dealloc') after roughly {5000 / lost:.0f} frames; "
            f"the player holds {NONE_RESERVE:,} extra references to None to finish the run."
        )
    notes[:0] = [
        f"{settings.frames} frames of 1920×1080 per content, encoded before timing and "
        f"played in a separate process per Qt platform; {settings.runs} runs per row "
        "(frames/s: median of the runs; ms: over all frames of all runs); the first frame "
        "(keyframe) is played but not timed.",
        "decode: awaiting ScreenView.update for each of the frame's updates (codec on "
        "the view's worker thread, plus the hop to it); paint: RemoteScreen.screen_changed "
        "(copy of the framebuffer into a QImage under the lock) + repaint() (one paint "
        "event, QPainter.drawImage into the backing store, and on xcb its flush to the X "
        "server). Decode and paint do not overlap here, so frames/s = 1000 / (decode + "
        "paint); the console overlaps them (decode on its worker, paint on the GUI thread).",
        "Qt platforms: 'xcb' on Xvfb 1920×1080 (the real console on Linux: the backing "
        "store goes to the X server, which shares the 2 cores) and 'offscreen' (no display: "
        f"paint into memory only); fit = a {FIT_SIZE[0]}×{FIT_SIZE[1]} window with smooth "
        "scaling, 1:1 = the widget at 1920×1080 (what its scroll area paints when the "
        "window is that large).",
        "Reference: the same frames as one libx264 stream (our video regions' settings: "
        "superfast without sub-pixel refinement, weighted prediction and 8×8 transforms, "
        "crf 23, 4:4:4, zerolatency) decoded by libavcodec (one thread, as "
        "ours) and converted to BGR by swscale, on a worker thread, painted by the same "
        "RemoteScreen.",
    ]
    return Result(TITLE, rows, goals, notes)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.console_paint")
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("streams", type=Path, nargs="+")
    args = parser.parse_args()
    if sys.version_info < (3, 12):
        _none_reserve.extend([None] * NONE_RESERVE)
    args.out.write_text(json.dumps(_play_all(args.streams, args.runs)))
    print("done", flush=True)


if __name__ == "__main__":
    main()
