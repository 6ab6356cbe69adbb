"""The screen codec on synthetic 1080p content, against libx264 on the same frames.

Workloads (1920×1080 BGRA with garbage alpha bytes, as X11 gives them): pseudo-text
scrolling 15 lines/s at 30 updates/s, typing (one glyph per frame), a static screen,
and random noise (the worst case). The reference is x264 through PyAV, preset
ultrafast, tune zerolatency, crf 23, 4:4:4 (what keeps coloured text sharp), fed the
same frames; its time includes the BGRA→YUV conversion, as any x264 screen path pays.
The real-screen comparison with x11vnc and ffmpeg's x11grab comes with the applet.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.report import Goal, Result
from benchmarks.synthetic_screens import LINE_HEIGHT, glyphs, noise, text_page, with_random_alpha
from common.codec import ScreenDecoder, ScreenEncoder

TITLE = "screen codec vs libx264 on synthetic 1080p content"
WIDTH, HEIGHT, FPS = 1920, 1080, 30
Frames = list[NDArray[np.uint8]]


def _scrolling(n: int) -> Frames:
    step = LINE_HEIGHT * 15 // FPS  # 15 lines a second
    page = text_page(WIDTH, (n * step + HEIGHT) // LINE_HEIGHT + 2)
    return [with_random_alpha(page[i * step : i * step + HEIGHT], seed=i) for i in range(n)]


def _typing(n: int) -> Frames:
    font = glyphs()
    frame = text_page(WIDTH, HEIGHT // LINE_HEIGHT)
    frames = [frame.copy()]
    for i in range(1, n):
        x, y = 8 * (10 + i % 200), LINE_HEIGHT * (5 + i // 200) + 2
        frame[y : y + 14, x : x + 8, :3] = np.where(font[i % 94 + 1][..., None], 20, 250)
        frames.append(frame.copy())
    return frames


def _ours(frames: Frames) -> dict[str, float]:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    for update in encoder.encode(frames[0]):
        decoder.decode(update)
    enc, dec, sizes = [], [], []
    for frame in frames[1:]:
        started = time.process_time()
        updates = encoder.encode(frame)
        enc.append(time.process_time() - started)
        started = time.process_time()
        for update in updates:
            decoder.decode(update)
        dec.append(time.process_time() - started)
        sizes.append(sum(map(len, updates)))
    if not np.array_equal(decoder.framebuffer, frames[-1][..., :3]):
        raise AssertionError("the codec was not pixel-exact")
    return {
        "encode_ms": 1000 * statistics.median(enc),
        "decode_ms": 1000 * statistics.median(dec),
        "kB_per_s": statistics.mean(sizes) * FPS / 1000,
    }


def _x264(frames: Frames) -> dict[str, float]:
    import av

    codec: Any = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv444p"
    codec.time_base = Fraction(1, FPS)
    codec.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "23"}
    enc, sizes = [], []
    for i, frame in enumerate(frames):
        started = time.process_time()
        video = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgra")
        video = video.reformat(format="yuv444p")
        video.pts = i
        packets = codec.encode(video)
        if i:
            enc.append(time.process_time() - started)
            sizes.append(sum(p.size for p in packets))
    return {
        "encode_ms": 1000 * statistics.median(enc),
        "decode_ms": float("nan"),
        "kB_per_s": statistics.mean(sizes) * FPS / 1000,
    }


def run(quick: bool) -> Result:
    n = 31 if quick else 151
    workloads: dict[str, Callable[[int], Frames]] = {
        "scrolling text": _scrolling,
        "typing": _typing,
        "static": lambda k: [with_random_alpha(text_page(WIDTH, 60), seed=i) for i in range(k)],
        "noise": lambda k: [noise(WIDTH, HEIGHT, seed=i) for i in range(min(k, 16))],
    }
    rows, figures = [], {}
    for name, make in workloads.items():
        frames = make(n)
        for coder, measure in (("lifeline", _ours), ("x264 ultrafast", _x264)):
            m = measure(frames)
            figures[(name, coder)] = m
            rows.append(
                {
                    "workload": name,
                    "codec": coder,
                    "encode CPU-ms/frame": m["encode_ms"],
                    "decode CPU-ms/frame": None if coder != "lifeline" else m["decode_ms"],
                    "kB/s at 30 fps": m["kB_per_s"],
                }
            )
    ours, ref = (
        figures[("scrolling text", "lifeline")],
        figures[("scrolling text", "x264 ultrafast")],
    )
    goals = [
        Goal(
            "scrolling text bytes vs x264",
            "fewer",
            f"{ours['kB_per_s'] / ref['kB_per_s']:.2f}×",
            ours["kB_per_s"] < ref["kB_per_s"],
        ),
        Goal(
            "scrolling text encode CPU vs x264",
            "≤ 0.5×",
            f"{ours['encode_ms'] / ref['encode_ms']:.2f}×",
            ours["encode_ms"] <= 0.5 * ref["encode_ms"],
        ),
        Goal(
            "static screen",
            "~0 bytes",
            f"{figures[('static', 'lifeline')]['kB_per_s']:.2f} kB/s",
            figures[("static", "lifeline")]["kB_per_s"] < 0.1,
        ),
    ]
    notes = [
        f"{n - 1} frames per workload after the first (noise: at most 15); medians of CPU time "
        "in this process; the lifeline decoder's picture is checked pixel-exact against the "
        "last frame.",
        "x264 is lossy (crf 23) and its time includes BGRA→YUV 4:4:4 conversion; ours is lossless.",
    ]
    return Result(TITLE, rows, goals, notes)
