"""Finding one vertical scroll between the reference picture and a new frame.

Each row of the damaged region is hashed per 64-pixel stripe (an integer dot product of
its pixels with fixed random weights, wrapping at 2³², alpha bytes left out by the
weights themselves: see `_WEIGHTS`). Rows whose hash is unique in both pictures vote
for the shift that maps one onto the other; the dominant shift wins. The stripes that
really moved by it (a side panel or a minimap does not) and the rows where most of them
match give the rectangle to copy.

A wrong guess costs bandwidth, never correctness: the encoder recomputes the damage after
applying the copy to its reference, and sends whatever still differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from common.codec.damage import TILE
from common.codec.frame_words import FrameWords, Words

#: Fewest unique rows that must agree on a shift before it is believed.
MIN_VOTES = 8
#: Fewest rows a copy must span to be worth a record.
MIN_ROWS = 8
#: From this many stripes on, only every other stripe's rows vote.
VOTING_STRIPES = 8

#: One weight per pixel of a stripe (a stripe is one tile, TILE pixels wide). A pixel is
#: a little-endian uint32 with the alpha byte on top; each weight is an odd number times
#: 256, so alpha × weight × 2²⁴ is a multiple of 2³² and wraps away: no masked copy of
#: the frame is needed (0.38 against 0.70 ms at 1080p). The hash is the sum's top 24
#: bits, Σ k·(blue, green, red) mod 2²⁴. Two different rows collide about once in 2²⁴
#: (once in 2⁸ when they differ only in the red bytes of several pixels), which costs a
#: vote or a less precise copy, never correctness.
_WEIGHTS = (
    np.random.default_rng(0x5C4011).integers(0, 1 << 23, TILE, dtype=np.uint32) * 2 + 1
) << np.uint32(8)
#: Keeps equal rows of different stripes apart when all stripes are pooled (XORed in).
_STRIPE_SALT = np.random.default_rng(0x5A17).integers(0, 1 << 24, 8192 // TILE, dtype=np.uint32)
#: The unique hashes are found by one sort of the 24-bit hashes tagged with their
#: position (rows × stripes ≤ 8192 × 128 = 2²⁰) in the low bits, rather than an argsort
#: (0.2 against 1.1 ms for a 1080p frame).
_POSITION_BITS = 20
_POSITION_MASK = np.uint64((1 << _POSITION_BITS) - 1)


@dataclass(frozen=True, slots=True)
class Scroll:
    """Copy the pixels of columns [x, x + width), rows [y - dy, y - dy + height) down by dy
    (up when dy < 0) to rows [y, y + height)."""

    x: int
    y: int
    width: int
    height: int
    dy: int

    @property
    def source_y(self) -> int:
        return self.y - self.dy


class RowHashes:
    """Per-stripe hashes of the rows of one region of one picture.

    `region` = (word0, row0, word1, row1); stripes are `stripe_words` wide (one tile), and
    region edges are multiples of it except at the right edge of the frame. Hashes of a
    frame stay valid for the next frame's reference as long as the encoder sent the frame
    whole, so the encoder keeps them instead of hashing the same pixels twice.
    """

    def __init__(
        self,
        layout: FrameWords,
        words: Words,
        region: tuple[int, int, int, int],
        stripe_words: int,
    ) -> None:
        self.region = region
        self.stripe_words = stripe_words
        w0, y0, w1, y1 = region
        ppw = layout.pixels_per_word
        pixels = words.view(np.uint32)[y0:y1, w0 * ppw : w1 * ppw]
        self.values = _stripe_hashes(pixels, stripe_words * ppw)
        self._unique: tuple[NDArray[np.uint64], NDArray[np.intp]] | None = None

    def unique(self) -> tuple[NDArray[np.uint64], NDArray[np.intp]]:
        """The voting hashes that occur once, sorted, and their rows. Every other stripe
        votes when there are at least VOTING_STRIPES: thousands of rows still agree on a
        real scroll, for half the sort."""
        if self._unique is None:
            stripes = self.values.shape[1]
            step = 2 if stripes >= VOTING_STRIPES else 1
            voting = self.values[:, ::step]
            keys, where = _unique_keys(voting.ravel())
            self._unique = keys, where // voting.shape[1]
        return self._unique


def find_scroll(layout: FrameWords, now: RowHashes, before: RowHashes) -> Scroll | None:
    """The dominant vertical scroll from `before` to `now` (hashes of the same region of
    the reference and the new frame), or None."""
    w0, y0, w1, _ = now.region
    rows = now.values.shape[0]
    if rows < 2 * MIN_ROWS:
        return None
    dy = _dominant_shift(now, before)
    if dy is None:
        return None
    first, end = max(0, dy), min(rows, rows + dy)
    moved = now.values[first:end] == before.values[first - dy : end - dy]
    still = now.values[first:end] == before.values[first:end]
    stripes = _longest_run(moved.sum(axis=0) > still.sum(axis=0))
    if stripes is None:
        return None
    s0, s1 = stripes
    majority = moved[:, s0:s1].sum(axis=1) * 2 > (s1 - s0)
    span = _longest_run(majority)
    if span is None or span[1] - span[0] < MIN_ROWS:
        return None
    ppw = layout.pixels_per_word
    x0 = (w0 + s0 * now.stripe_words) * ppw
    x1 = min(w0 + s1 * now.stripe_words, w1) * ppw
    return Scroll(x0, y0 + first + span[0], x1 - x0, span[1] - span[0], dy)


def changed_tiles(
    layout: FrameWords, now: RowHashes, before: RowHashes, scroll: Scroll | None = None
) -> int:
    """How many tiles differ between two pictures, judged by their hashes (of the same
    region, which starts on a tile), after `scroll` if one is given. Hashes can collide,
    so this is for choosing a scroll, never for deciding what to send."""
    changed = now.values != before.values
    w0, y0, _, _ = now.region
    if scroll is not None:
        top, bottom = scroll.y - y0, scroll.y - y0 + scroll.height
        first = (scroll.x // layout.pixels_per_word - w0) // now.stripe_words
        end = -(-((scroll.x + scroll.width) // layout.pixels_per_word - w0) // now.stripe_words)
        source = before.values[top - scroll.dy : bottom - scroll.dy, first:end]
        np.not_equal(now.values[top:bottom, first:end], source, out=changed[top:bottom, first:end])
    rows, stripes = changed.shape
    bands = -(-rows // TILE)
    padded = np.zeros((bands * TILE, stripes), np.bool_)
    padded[:rows] = changed
    return int(np.count_nonzero(padded.reshape(bands, TILE, stripes).any(axis=1)))


def _stripe_hashes(pixels: NDArray[np.uint32], stripe: int) -> NDArray[np.uint32]:
    """24-bit hashes of each `stripe` pixels of each row (the last stripe may be narrower),
    alpha ignored."""
    rows, width = pixels.shape
    full = width // stripe
    rest = width - full * stripe
    out = np.empty((rows, full + (1 if rest else 0)), np.uint32)
    weights = _WEIGHTS[:stripe]
    # einsum rather than matmul: the same wrapping sums, 2.4× faster on uint32.
    if full:
        stripes = pixels[:, : full * stripe].reshape(rows, full, stripe)
        np.einsum("rsp,p->rs", stripes, weights, out=out[:, :full])
    if rest:
        np.einsum("rp,p->r", pixels[:, full * stripe :], weights[:rest], out=out[:, full])
    out >>= np.uint32(8)
    out ^= _STRIPE_SALT[: out.shape[1]]
    return out


def _dominant_shift(now: RowHashes, before: RowHashes) -> int | None:
    keys_now, rows_now = now.unique()
    keys_before, rows_before = before.unique()
    if keys_now.size == 0 or keys_before.size == 0:
        return None
    at = np.minimum(np.searchsorted(keys_before, keys_now), keys_before.size - 1)
    hit = keys_before[at] == keys_now
    shifts = rows_now[hit] - rows_before[at[hit]]
    shifts = shifts[shifts != 0]
    if shifts.size < MIN_VOTES:
        return None
    rows = int(now.values.shape[0])
    votes = np.bincount(shifts + rows)
    best = int(np.argmax(votes))
    if int(votes[best]) < MIN_VOTES:
        return None
    return best - rows


def _unique_keys(keys: NDArray[np.uint32]) -> tuple[NDArray[np.uint64], NDArray[np.intp]]:
    packed = keys.astype(np.uint64)
    packed <<= np.uint64(_POSITION_BITS)
    packed |= np.arange(keys.size, dtype=np.uint64)
    packed.sort()
    high = packed >> np.uint64(_POSITION_BITS)
    once = np.ones(high.size, np.bool_)
    repeated = high[1:] == high[:-1]
    once[1:] &= ~repeated
    once[:-1] &= ~repeated
    return high[once], (packed[once] & _POSITION_MASK).astype(np.intp)


def _longest_run(flags: NDArray[np.bool_]) -> tuple[int, int] | None:
    """[start, end) of the longest run of True, or None when there is none."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    if starts.size == 0:
        return None
    ends = np.flatnonzero(edges == -1)
    best = int(np.argmax(ends - starts))
    return int(starts[best]), int(ends[best])
