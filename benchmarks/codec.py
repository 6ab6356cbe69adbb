"""The screen codec on synthetic 1080p content, against libx264 on the same frames.

Workloads (1920×1080 BGRA with garbage alpha bytes, as X11 gives them):

* lossless content: pseudo-text scrolling 15 lines/s at 30 updates/s, typing (one glyph
  per frame), a static screen, and random noise (the worst case, now sent as H.264);
* colourful content: a web page of text and photos scrolling at the same speed, a photo
  viewer scrolling a photo taller than the screen, and a 640×360 video playing in a
  window on a text desktop.

The reference is x264 through PyAV on the whole frame: preset ultrafast, tune
zerolatency, crf 23, 4:4:4 (what keeps coloured text sharp), fed the same frames through
the same reused-frame swscale conversion our video regions use; its time includes that
conversion, as any x264 screen path pays. On colourful content x264 with our video
regions' settings (superfast without three tools, `common/codec/h264.py`) is measured
too. Quality is PSNR over every pixel of every frame after the first (infinite where a
codec was exact); both decoders' pictures are compared with the frames.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benchmarks.report import Goal, Result
from benchmarks.synthetic_screens import (
    LINE_HEIGHT,
    glyphs,
    noise,
    photo,
    terminal_page,
    text_page,
    video_frames,
    web_page,
    with_random_alpha,
)
from common.codec import ScreenDecoder, ScreenEncoder
from common.codec.h264 import H264Decoder, H264Encoder

TITLE = "screen codec vs libx264 on synthetic 1080p content"
WIDTH, HEIGHT, FPS = 1920, 1080, 30
STEP = LINE_HEIGHT * 15 // FPS  # 15 lines a second, 9 pixels an update
VIDEO_BOX = (640, 360, 640, 360)  # x, y, width, height of the video window
#: Unchanged frames sent after a colourful workload, to measure the lossless refresh.
SETTLE_FRAMES = 120
Frames = list[NDArray[np.uint8]]


@dataclass
class Figures:
    encode_cpu_ms: float
    encode_wall_ms: float
    decode_cpu_ms: float
    decode_wall_ms: float
    kb_per_s: float
    psnr_db: float
    #: Share of pixels shown lossy at the end (ours only).
    lossy_share: float = 0.0
    #: Bytes and updates the lossless refresh took once the screen stopped (ours only).
    refresh_kb: float = 0.0
    refresh_updates: int = 0


def _scrolling(n: int) -> Frames:
    page = text_page(WIDTH, (n * STEP + HEIGHT) // LINE_HEIGHT + 2)
    return [with_random_alpha(page[i * STEP : i * STEP + HEIGHT], seed=i) for i in range(n)]


def _typing(n: int) -> Frames:
    font = glyphs()
    frame = text_page(WIDTH, HEIGHT // LINE_HEIGHT)
    frames = [frame.copy()]
    for i in range(1, n):
        x, y = 8 * (10 + i % 200), LINE_HEIGHT * (5 + i // 200) + 2
        frame[y : y + 14, x : x + 8, :3] = np.where(font[i % 94 + 1][..., None], 20, 250)
        frames.append(frame.copy())
    return frames


def _terminal(n: int) -> Frames:
    """A terminal's coloured, antialiased log scrolling 3 lines an update (90 lines a
    second): hundreds of colours per line, text all the same."""
    step = 3 * LINE_HEIGHT
    page = terminal_page(WIDTH, (n * step + HEIGHT) // LINE_HEIGHT + 2)
    return [with_random_alpha(page[i * step : i * step + HEIGHT], seed=i) for i in range(n)]


def _web_page(n: int) -> Frames:
    page = web_page(WIDTH, (n * STEP + HEIGHT) // LINE_HEIGHT + 2)
    return [with_random_alpha(page[i * STEP : i * STEP + HEIGHT], seed=i) for i in range(n)]


def _photo_viewer(n: int) -> Frames:
    picture = photo(WIDTH, n * STEP + HEIGHT)
    return [with_random_alpha(picture[i * STEP : i * STEP + HEIGHT], seed=i) for i in range(n)]


def _video_window(n: int) -> Frames:
    desktop = text_page(WIDTH, HEIGHT // LINE_HEIGHT)
    x, y, width, height = VIDEO_BOX
    frames = []
    for i, picture in enumerate(video_frames(width, height, n)):
        frame = desktop.copy()
        frame[y : y + height, x : x + width] = picture
        frames.append(with_random_alpha(frame, seed=i))
    return frames


def _squared_error(picture: NDArray[np.uint8], frame: NDArray[np.uint8]) -> float:
    diff = picture.astype(np.int32) - frame[..., :3]
    return float(np.einsum("ijk,ijk->", diff, diff, dtype=np.int64))


def _psnr(squared_error: float, pixels: int) -> float:
    if squared_error == 0:
        return math.inf
    return 10 * math.log10(255**2 * pixels * 3 / squared_error)


def _ours(frames: Frames) -> Figures:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    for update in encoder.encode(frames[0]):
        decoder.decode(update)
    enc, enc_wall, dec, dec_wall, sizes = [], [], [], [], []
    error = 0.0
    for frame in frames[1:]:
        cpu, wall = time.process_time(), time.perf_counter()
        updates = encoder.encode(frame)
        enc.append(time.process_time() - cpu)
        enc_wall.append(time.perf_counter() - wall)
        cpu, wall = time.process_time(), time.perf_counter()
        for update in updates:
            decoder.decode(update)
        dec.append(time.process_time() - cpu)
        dec_wall.append(time.perf_counter() - wall)
        sizes.append(sum(map(len, updates)))
        error += _squared_error(decoder.framebuffer, frame)
    _check_exact_outside_lossy(encoder, decoder, frames[-1])
    lossy = sum(r.width * r.height for r in encoder.lossy_rects()) / (WIDTH * HEIGHT)
    refresh, updates_sent = 0, 0
    for _ in range(SETTLE_FRAMES):
        if not encoder.lossy_rects():
            break
        updates = encoder.encode(frames[-1])
        for update in updates:
            decoder.decode(update)
        refresh += sum(map(len, updates))
        updates_sent += len(updates)
    if not np.array_equal(decoder.framebuffer, frames[-1][..., :3]):
        raise AssertionError("the lossless refresh did not make the picture exact")
    return Figures(
        1000 * statistics.median(enc),
        1000 * statistics.median(enc_wall),
        1000 * statistics.median(dec),
        1000 * statistics.median(dec_wall),
        statistics.mean(sizes) * FPS / 1000,
        _psnr(error, len(sizes) * WIDTH * HEIGHT),
        lossy,
        refresh / 1000,
        updates_sent,
    )


def _check_exact_outside_lossy(
    encoder: ScreenEncoder, decoder: ScreenDecoder, frame: NDArray[np.uint8]
) -> None:
    exact = np.ones((HEIGHT, WIDTH), np.bool_)
    for r in encoder.lossy_rects():
        exact[r.y : r.y + r.height, r.x : r.x + r.width] = False
    if not np.array_equal(decoder.framebuffer[exact], frame[..., :3][exact]):
        raise AssertionError("the codec was not pixel-exact outside its H.264 regions")


def _x264(frames: Frames, preset: str | None = "ultrafast") -> Figures:
    encoder = H264Encoder(WIDTH, HEIGHT, crf=23, preset=preset)
    decoder = H264Decoder(WIDTH, HEIGHT)
    enc, enc_wall, dec, dec_wall, sizes = [], [], [], [], []
    error = 0.0
    for i, frame in enumerate(frames):
        cpu, wall = time.process_time(), time.perf_counter()
        packet = encoder.encode(frame)
        enc_cpu, enc_time = time.process_time() - cpu, time.perf_counter() - wall
        cpu, wall = time.process_time(), time.perf_counter()
        picture = decoder.decode(packet, start=i == 0)
        dec_cpu, dec_time = time.process_time() - cpu, time.perf_counter() - wall
        if i:
            enc.append(enc_cpu)
            enc_wall.append(enc_time)
            dec.append(dec_cpu)
            dec_wall.append(dec_time)
            sizes.append(len(packet))
            error += _squared_error(picture, frame)
    return Figures(
        1000 * statistics.median(enc),
        1000 * statistics.median(enc_wall),
        1000 * statistics.median(dec),
        1000 * statistics.median(dec_wall),
        statistics.mean(sizes) * FPS / 1000,
        _psnr(error, len(sizes) * WIDTH * HEIGHT),
    )


LOSSLESS: dict[str, Callable[[int], Frames]] = {
    "scrolling text": _scrolling,
    "coloured terminal scrolling": _terminal,
    "typing": _typing,
    "static": lambda k: [with_random_alpha(text_page(WIDTH, 60), seed=i) for i in range(k)],
    "noise": lambda k: [noise(WIDTH, HEIGHT, seed=i) for i in range(min(k, 16))],
}
COLOURFUL: dict[str, Callable[[int], Frames]] = {
    "web page scrolling": _web_page,
    "photo viewer scrolling": _photo_viewer,
    "video in a window": _video_window,
}


BASELINE = "x264 ultrafast crf 23"
#: Our video regions' x264 settings, on the whole frame: how much of the gain is the
#: settings.
SAME_PRESET = "x264 regions' settings crf 23"


def run(quick: bool) -> Result:
    n = 31 if quick else 151
    rows, figures = [], {}
    for name, make in {**LOSSLESS, **COLOURFUL}.items():
        frames = make(n)
        coders: list[tuple[str, Callable[[Frames], Figures]]] = [
            ("lifeline", _ours),
            (BASELINE, _x264),
        ]
        if name in COLOURFUL:
            coders.append((SAME_PRESET, lambda f: _x264(f, None)))
        for coder, measure in coders:
            m = measure(frames)
            figures[name, coder] = m
            ours = coder == "lifeline"
            rows.append(
                {
                    "workload": name,
                    "codec": coder,
                    "encode CPU-ms": m.encode_cpu_ms,
                    "decode CPU-ms": m.decode_cpu_ms,
                    "enc+dec wall-ms": m.encode_wall_ms + m.decode_wall_ms,
                    "kB/s at 30 fps": m.kb_per_s,
                    "PSNR dB": "exact" if math.isinf(m.psnr_db) else m.psnr_db,
                    "lossy at end": f"{100 * m.lossy_share:.0f}%" if ours else None,
                    "refresh kB": m.refresh_kb if ours and name in COLOURFUL else None,
                }
            )
    return Result(TITLE, rows, _goals(figures), _notes(n, figures))


def _goals(figures: dict[tuple[str, str], Figures]) -> list[Goal]:
    def ours(name: str) -> Figures:
        return figures[name, "lifeline"]

    def x264(name: str) -> Figures:
        return figures[name, BASELINE]

    goals = [
        Goal(
            "scrolling text bytes vs x264",
            "fewer",
            f"{ours('scrolling text').kb_per_s / x264('scrolling text').kb_per_s:.2f}×",
            ours("scrolling text").kb_per_s < x264("scrolling text").kb_per_s,
        ),
        Goal(
            "scrolling text encode CPU vs x264",
            "≤ 0.5×",
            f"{ours('scrolling text').encode_cpu_ms / x264('scrolling text').encode_cpu_ms:.2f}×",
            ours("scrolling text").encode_cpu_ms <= 0.5 * x264("scrolling text").encode_cpu_ms,
        ),
        Goal(
            "coloured antialiased terminal scrolling: pixel-exact, no H.264",
            "exact, nothing lossy",
            f"PSNR {ours('coloured terminal scrolling').psnr_db:.1f} dB, "
            f"{100 * ours('coloured terminal scrolling').lossy_share:.0f}% lossy at the end",
            math.isinf(ours("coloured terminal scrolling").psnr_db),
        ),
        Goal(
            "static screen",
            "~0 bytes",
            f"{ours('static').kb_per_s:.2f} kB/s",
            ours("static").kb_per_s < 0.1,
        ),
    ]
    for name in COLOURFUL:
        a, b = ours(name), x264(name)
        goals.append(
            Goal(
                f"{name}: bytes and PSNR vs x264 ultrafast",
                "fewer bytes, PSNR ≥ x264's",
                f"{a.kb_per_s / b.kb_per_s:.2f}× the bytes, {a.psnr_db:.1f} vs {b.psnr_db:.1f} dB",
                a.kb_per_s < b.kb_per_s and a.psnr_db >= b.psnr_db,
            )
        )
    video = ours("video in a window")
    fps = 1000 / (video.encode_wall_ms + video.decode_wall_ms)
    goals.append(
        Goal(
            "640×360 video region in 1080p, encode + decode on one machine",
            "≥ 25 fps",
            f"{fps:.0f} fps",
            fps >= 25,
        )
    )
    return goals


def _notes(n: int, figures: dict[tuple[str, str], Figures]) -> list[str]:
    refresh = ", ".join(
        f"{name} {figures[name, 'lifeline'].refresh_kb:.0f} kB in "
        f"{figures[name, 'lifeline'].refresh_updates} updates"
        for name in COLOURFUL
    )
    return [
        f"{n - 1} frames per workload after the first (noise: at most 15); medians of CPU "
        "time in this process (x264's threads included) and of wall time; kB/s is the "
        "mean update size × 30.",
        "PSNR over all pixels of all frames after the first; 'exact' where the decoder's "
        "picture equalled every frame. Our decoder's last picture is checked pixel-exact "
        "outside the tiles the encoder reports lossy.",
        "'lossy at end': share of the screen shown through H.264 after the last frame. "
        f"Then the screen stops and the lossless refresh makes it exact: {refresh}; "
        "those bytes are not in kB/s.",
        f"Goals compare with {BASELINE}; {SAME_PRESET} (the x264 settings of our video "
        "regions, on the whole frame) shows how much of the difference is the settings.",
    ]
