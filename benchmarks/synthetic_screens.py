"""Synthetic screen content (BGRA frames): pseudo-text, scrolling, noise, photos, video
and a web page with both. Shared by the codec tests and `python -m benchmarks codec`, so
both measure the same pictures."""

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


def photo(width: int, height: int, seed: int = 11) -> NDArray[np.uint8]:
    """A photo-like BGRA picture: smooth colour gradients, a few sharp-edged soft-shaded
    shapes, fine texture and a little sensor noise (σ = 2). Thousands of colours in every
    64×64 tile, like a real photo; none of it is predictable by zstd."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.full((height, width, 3), 120.0, np.float32)
    for channel in range(3):
        for _ in range(5):
            fx, fy = rng.uniform(-0.02, 0.02, 2)
            img[..., channel] += rng.uniform(8, 30) * np.sin(fx * x + fy * y + rng.uniform(0, 6.3))
        fx, fy = rng.uniform(0.1, 0.3, 2)
        img[..., channel] += 4 * np.sin(fx * x) * np.sin(fy * y)  # texture
    for _ in range(max(1, width * height // 40000)):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(10, 60)
        inside = (x - cx) ** 2 + (y - cy) ** 2 < radius**2
        shade = 1 - 0.4 * ((y - cy) / radius)
        img[inside] = (rng.uniform(20, 235, 3) * shade[inside, None]).astype(np.float32)
    img += rng.normal(0, 2, img.shape).astype(np.float32)
    out = np.empty((height, width, 4), np.uint8)
    out[..., :3] = np.clip(img, 0, 255)
    out[..., 3] = 255
    return out


def video_frames(width: int, height: int, count: int, seed: int = 13) -> list[NDArray[np.uint8]]:
    """`count` frames of a moving picture: a photo panning slowly behind three bright
    shapes that move fast, with fresh noise (±1) in every frame, like a decoder's
    dithering."""
    rng = np.random.default_rng(seed)
    margin = count + 8
    background = photo(width + margin, height + margin, seed)
    y, x = np.mgrid[0:height, 0:width]
    shapes = [
        (rng.uniform(0, width), rng.uniform(0, height), *rng.uniform(-6, 6, 2)) for _ in "abc"
    ]
    colours = rng.integers(30, 230, (3, 3))
    frames = []
    for i in range(count):
        frame = background[i : i + height, i // 2 : i // 2 + width].copy()
        for (cx, cy, vx, vy), colour in zip(shapes, colours, strict=True):
            inside = (x - (cx + vx * i) % width) ** 2 + (y - (cy + vy * i) % height) ** 2 < 400
            frame[inside, :3] = colour
        noise = rng.integers(-1, 2, (height, width, 3))
        frame[..., :3] = np.clip(frame[..., :3].astype(np.int16) + noise, 0, 255).astype(np.uint8)
        frames.append(frame)
    return frames


def web_page(width: int, lines: int, seed: int = 17) -> NDArray[np.uint8]:
    """A tall web page: paragraphs of pseudo-text with a photo every 30 lines, each
    half the page's width, in the middle of the text column."""
    page = text_page(width, lines, seed)
    photo_height = 14 * LINE_HEIGHT
    for index, top in enumerate(
        range(8 * LINE_HEIGHT, page.shape[0] - photo_height, 30 * LINE_HEIGHT)
    ):
        left = width // 4
        page[top : top + photo_height, left : left + width // 2] = photo(
            width // 2, photo_height, seed + index
        )
    return page


TERMINAL_BACKGROUND = (0, 0, 0)
#: xterm's default foreground (grey85) and the inks of its log levels, B G R.
TERMINAL_INKS = ((217, 217, 217), (0, 205, 0), (205, 205, 0), (0, 205, 205), (0, 0, 205))


def terminal_page(width: int, lines: int, seed: int = 19) -> NDArray[np.uint8]:
    """A tall BGRA image of a terminal's log: light grey text on black with a coloured
    word on most lines, antialiased the way a terminal's fonts are (each glyph blurred
    and placed at a fraction of a pixel, blended towards its ink): a hundred or more
    colours in a 64×64 tile, several hundred in a whole line, like a real xterm."""
    rng = np.random.default_rng(seed)
    font = glyphs().astype(np.float32)
    # Blur every glyph once, then four sub-pixel placements of each.
    kernel = np.array([0.2, 0.6, 0.2], np.float32)
    padded = np.pad(font, ((0, 0), (1, 1), (2, 2)))
    tall = sum(k * padded[:, i : i + GLYPH_HEIGHT, :] for i, k in enumerate(kernel))
    blurred = sum(k * tall[:, :, i : i + GLYPH_WIDTH + 2] for i, k in enumerate(kernel))
    placements = []
    for fraction in np.arange(8) / 8:
        shifted = (1 - fraction) * blurred[:, :, 1:-1] + fraction * blurred[:, :, :-2]
        for rise in (0.0, 0.3):  # and a fraction of a row
            risen = shifted.copy()
            risen[:, 1:] = (1 - rise) * shifted[:, 1:] + rise * shifted[:, :-1]
            placements.append(np.clip(1.2 * risen, 0, 1))
    coverage = np.stack(placements)  # placement × glyph × rows × columns
    page = np.empty((lines * LINE_HEIGHT, width, 4), np.uint8)
    page[..., :3] = TERMINAL_BACKGROUND
    page[..., 3] = 255
    background = np.array(TERMINAL_BACKGROUND, np.float32)
    inks = np.array(TERMINAL_INKS, np.float32)
    columns = (width - 2 * GLYPH_WIDTH) // GLYPH_WIDTH
    for line in range(lines):
        length = int(rng.integers(20, columns))
        text = rng.integers(1, 95, length)
        text[rng.random(length) < 0.18] = 0
        ink_of = np.zeros(length, np.intp)
        level = int(rng.integers(0, len(TERMINAL_INKS)))
        ink_of[13:18] = level  # the log level, after a time stamp
        start = int(rng.integers(20, max(21, length - 8)))
        ink_of[start : start + 8] = int(rng.integers(0, len(TERMINAL_INKS)))  # a path
        top = line * LINE_HEIGHT + 2
        for col, g in enumerate(text):
            if g == 0:
                continue
            x = GLYPH_WIDTH + col * GLYPH_WIDTH
            cover = coverage[int(rng.integers(0, len(coverage))), g][..., None]
            ink = inks[ink_of[col]]
            cell = page[top : top + GLYPH_HEIGHT, x : x + GLYPH_WIDTH, :3]
            cell[:] = np.rint(background + cover * (ink - background)).astype(np.uint8)
    return page
