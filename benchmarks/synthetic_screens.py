"""Synthetic screen content (BGRA frames): pseudo-text, scrolling, noise. Shared by the
codec tests and `python -m benchmarks codec`, so both measure the same pictures."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

GLYPH_WIDTH = 8
GLYPH_HEIGHT = 14
LINE_HEIGHT = 18
PAPER = (250, 250, 250)
INKS = ((20, 20, 20), (180, 40, 40), (30, 120, 30), (40, 60, 200))


def glyphs(seed: int = 7) -> NDArray[np.bool_]:
    """95 glyph-ish bitmaps: a few random strokes each, glyph 0 is a space."""
    rng = np.random.default_rng(seed)
    out = np.zeros((95, GLYPH_HEIGHT, GLYPH_WIDTH), np.bool_)
    for g in range(1, 95):
        for _ in range(rng.integers(2, 5)):
            if rng.random() < 0.5:
                y = rng.integers(2, GLYPH_HEIGHT - 2)
                x0, x1 = sorted(rng.integers(1, GLYPH_WIDTH - 1, 2))
                out[g, y, x0 : x1 + 1] = True
            else:
                x = rng.integers(1, GLYPH_WIDTH - 1)
                y0, y1 = sorted(rng.integers(2, GLYPH_HEIGHT - 1, 2))
                out[g, y0 : y1 + 1, x] = True
    return out


def text_page(width: int, lines: int, seed: int = 1) -> NDArray[np.uint8]:
    """A tall BGRA image of `lines` lines of pseudo-text in a few colours on paper."""
    rng = np.random.default_rng(seed)
    font = glyphs()
    page = np.empty((lines * LINE_HEIGHT, width, 4), np.uint8)
    page[..., :3] = PAPER
    page[..., 3] = 255
    columns = (width - 2 * GLYPH_WIDTH) // GLYPH_WIDTH
    for line in range(lines):
        length = int(rng.integers(0, columns))
        text = rng.integers(1, 95, length)
        text[rng.random(length) < 0.18] = 0  # spaces between words
        ink = INKS[int(rng.integers(0, len(INKS)))]
        top = line * LINE_HEIGHT + 2
        for col, g in enumerate(text):
            if g == 0:
                continue
            x = GLYPH_WIDTH + col * GLYPH_WIDTH
            cell = page[top : top + GLYPH_HEIGHT, x : x + GLYPH_WIDTH, :3]
            cell[font[g]] = ink
    return page


def noise(width: int, height: int, seed: int = 3) -> NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, 4), dtype=np.uint8)


def with_random_alpha(frame: NDArray[np.uint8], seed: int = 5) -> NDArray[np.uint8]:
    """The same picture with the garbage alpha bytes X11 leaves behind."""
    out = frame.copy()
    out[..., 3] = np.random.default_rng(seed).integers(0, 256, frame.shape[:2], dtype=np.uint8)
    return out


def bgr(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """What a decoder's framebuffer must hold for this frame."""
    return np.ascontiguousarray(frame[..., :3])
