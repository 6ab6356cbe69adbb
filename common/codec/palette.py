"""Palettes and bit-packed colour indices, the biggest single win on screen content.

Indices are packed most significant bits first, each row starting on a byte boundary
(the padding bits of a row's last byte are zero when sent and ignored when read).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from common.codec.wire_format import packed_row_bytes

MAX_COLOURS = 256


def colour_lookup() -> NDArray[np.uint8]:
    """A scratch table for `find_palette`, one byte per 24-bit colour (16 MiB of address
    space; only the pages of colours actually seen are ever touched)."""
    return np.zeros(1 << 24, np.uint8)


def find_palette(
    pixels: NDArray[np.uint32],
    lookup: NDArray[np.uint8] | None = None,
) -> tuple[NDArray[np.uint32], NDArray[np.uint8]] | None:
    """The sorted distinct colours of `pixels` (alpha already cleared) and each pixel's
    index into them, or None when there are more than MAX_COLOURS.

    With a `lookup` table (from `colour_lookup`, reused from call to call: its old
    entries never matter) the indices are one gather instead of a binary search per
    pixel, about 10× faster on 128×128 rectangles.
    """
    ordered = np.sort(pixels, axis=None)
    distinct = np.empty(ordered.size, np.bool_)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    colours = ordered[distinct]
    if colours.size > MAX_COLOURS:
        return None
    if colours.size == 1:
        return colours, np.zeros(pixels.shape, np.uint8)
    if lookup is None:
        return colours, np.searchsorted(colours, pixels).astype(np.uint8)
    lookup[colours] = np.arange(colours.size, dtype=np.uint8)
    indices: NDArray[np.uint8] = lookup[pixels]
    return colours, indices


def colour_bytes(colours: NDArray[np.uint32]) -> bytes:
    """Colours as 0x00RRGGBB words → b g r triplets."""
    return colours.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


def pack_indices(indices: NDArray[np.uint8], bits: int) -> bytes:
    """Packs a height × width array of indices, each < 2**bits."""
    if bits == 8:
        return indices.tobytes()
    if bits == 1:
        return np.packbits(indices, axis=1).tobytes()
    height, width = indices.shape
    per_byte = 8 // bits
    row_bytes = packed_row_bytes(width, bits)
    if width != row_bytes * per_byte:
        padded = np.zeros((height, row_bytes * per_byte), np.uint8)
        padded[:, :width] = indices
        indices = padded
    groups = indices.reshape(height, row_bytes, per_byte)
    packed = np.zeros((height, row_bytes), np.uint8)
    for k in range(per_byte):
        packed |= groups[:, :, k] << np.uint8(8 - bits * (k + 1))
    return packed.tobytes()


def unpack_indices(
    packed: NDArray[np.uint8], width: int, height: int, bits: int
) -> NDArray[np.uint8]:
    """Inverse of `pack_indices`. `packed` must hold exactly height × packed_row_bytes."""
    if bits == 8:
        return packed.reshape(height, width)
    rows = packed.reshape(height, packed_row_bytes(width, bits))
    if bits == 1:
        return np.unpackbits(rows, axis=1, count=width)
    per_byte = 8 // bits
    out = np.empty((height, rows.shape[1], per_byte), np.uint8)
    low_bits = np.uint8((1 << bits) - 1)
    for k in range(per_byte):
        np.bitwise_and(rows >> np.uint8(8 - bits * (k + 1)), low_bits, out=out[:, :, k])
    return out.reshape(height, -1)[:, :width]
