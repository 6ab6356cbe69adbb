"""What the encoder tests share: one frame through an encoder and a decoder, checked,
and a desktop with a video playing in a window."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from benchmarks.synthetic_screens import (
    bgr,
    text_page,
    video_frames,
)
from common.codec import ScreenDecoder, ScreenEncoder

Frame = NDArray[np.uint8]


def send(encoder: ScreenEncoder, decoder: ScreenDecoder, frame: Frame, **kw: bool) -> int:
    """Encodes and decodes one frame, checks the picture, returns the bytes sent."""
    updates = encoder.encode(frame, **kw)
    for update in updates:
        decoder.decode(update)
    assert np.array_equal(decoder.framebuffer, bgr(frame))
    return sum(len(u) for u in updates)


def send_video(
    encoder: ScreenEncoder, decoder: ScreenDecoder, frame: Frame, *, min_psnr: float | None = 35
) -> NDArray[np.bool_]:
    """Encodes and decodes one frame; checks the picture is exact outside the tiles the
    encoder reports lossy and, with `min_psnr`, good enough inside. Returns the lossy
    pixels."""
    for update in encoder.encode(frame):
        decoder.decode(update)
    lossy = np.zeros(frame.shape[:2], np.bool_)
    for r in encoder.lossy_rects():
        lossy[r.y : r.y + r.height, r.x : r.x + r.width] = True
    picture, wanted = decoder.framebuffer, bgr(frame)
    assert np.array_equal(picture[~lossy], wanted[~lossy])
    if min_psnr is not None and lossy.any():
        assert psnr(picture[lossy], wanted[lossy]) >= min_psnr
    return lossy


def psnr(picture: NDArray[np.uint8], wanted: NDArray[np.uint8]) -> float:
    mse = float(np.mean((picture.astype(np.float64) - wanted) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def video_in_a_window(count: int, *, seed: int = 13) -> list[Frame]:
    """A 512×320 text screen with a 256×192 video at (192, 64): tiles 3…6 × 1…3."""
    desktop = text_page(512, 18)[:320]
    frames = []
    for picture in video_frames(256, 192, count, seed):
        frame = desktop.copy()
        frame[64:256, 192:448] = picture
        frames.append(frame)
    return frames
