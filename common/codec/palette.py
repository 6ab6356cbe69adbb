"""Palettes and bit-packed colour indices, the biggest single win on screen content.

A rectangle of a few colours (at most `OWN_PALETTE_COLOURS`) gets a palette of its own,
sorted, so its indices pack into 1, 2 or 4 bits. A rectangle of more colours takes 8 bits
an index whatever its palette, so it uses one of a few **stable tables** instead
(`Palettes`): colours keep their index from rectangle to rectangle and from update to
update, so the same glyph on the same background gives the same index bytes everywhere,
and the zstd stream finds it again. With a palette of its own per rectangle, the indices
of a glyph change with the rectangle's other colours, and antialiased text compresses
worse than RAW pixels.

Indices are packed most significant bits first, each row starting on a byte boundary
(the padding bits of a row's last byte are zero when sent and ignored when read).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from common.codec.wire_format import packed_row_bytes

MAX_COLOURS = 256
#: Up to this many colours (4-bit indices) a rectangle gets a palette of its own.
OWN_PALETTE_COLOURS = 16
#: Stable tables kept at once (at most 8: one bit each in a byte per colour).
TABLES = 4

_NO_COLOURS = np.zeros(0, np.uint32)


def _per_colour() -> NDArray[np.uint8]:
    """One byte per 24-bit colour: 16 MiB of address space, of which only the pages of
    colours actually seen are ever touched. Indexing a rectangle through it is one gather
    (its old entries never matter), about 2× faster than a binary search per pixel."""
    return np.zeros(1 << 24, np.uint8)


def distinct_colours(pixels: NDArray[np.uint32]) -> NDArray[np.uint32] | None:
    """The sorted distinct colours of `pixels` (alpha already cleared), or None when
    there are more than MAX_COLOURS."""
    ordered = np.sort(pixels, axis=None)
    distinct = np.empty(ordered.size, np.bool_)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    colours = ordered[distinct]
    return None if colours.size > MAX_COLOURS else colours


class Palettes:
    """Each rectangle's palette and indices: its own palette up to OWN_PALETTE_COLOURS
    colours, else a stable table holding all its colours.

    The tables (at most TABLES, each at most MAX_COLOURS colours) only ever grow at the
    end, so a colour keeps its index in a table until the table is dropped: the least
    recently used one goes when a rectangle's colours fit in none. Any table is valid
    at any time (each PALETTE record carries its palette), so keyframes need not reset
    them.
    """

    def __init__(self) -> None:
        self._lookup = _per_colour()
        #: Which table's indices `_lookup` holds (-1: none, or a rectangle's own).
        self._indexed = -1
        #: Bit k of a colour's byte: the colour is in table k.
        self._member = _per_colour()
        self._tables: list[NDArray[np.uint32]] = [_NO_COLOURS] * TABLES
        #: Table numbers, most recently used first.
        self._recent = list(range(TABLES))

    def index(
        self, colours: NDArray[np.uint32], pixels: NDArray[np.uint32]
    ) -> tuple[NDArray[np.uint32], NDArray[np.uint8]]:
        """The palette for `pixels` (alpha cleared), whose sorted distinct colours are
        `colours` (2 … MAX_COLOURS of them), and each pixel's index into it."""
        if colours.size <= OWN_PALETTE_COLOURS:
            self._indexed = -1
            self._lookup[colours] = np.arange(colours.size, dtype=np.uint8)
            return colours, self._lookup[pixels]
        table = self._table_for(colours)
        self._recent.remove(table)
        self._recent.insert(0, table)
        palette = self._tables[table]
        if self._indexed != table:
            self._lookup[palette] = np.arange(palette.size, dtype=np.uint8)
            self._indexed = table
        indices: NDArray[np.uint8] = self._lookup[pixels]
        return palette, indices

    def _table_for(self, colours: NDArray[np.uint32]) -> int:
        """A table holding all of `colours`, grown or started if need be."""
        member = self._member[colours]
        holding = int(np.bitwise_and.reduce(member))
        for table in self._recent:
            if holding >> table & 1:
                return table
        for table in self._recent:
            missing = colours[(member >> table) & 1 == 0]
            if self._tables[table].size + missing.size <= MAX_COLOURS:
                self._extend(table, missing)
                return table
        table = self._recent[-1]
        self._member[self._tables[table]] &= np.uint8(~(1 << table) & 0xFF)
        self._tables[table] = _NO_COLOURS
        self._extend(table, colours)
        return table

    def _extend(self, table: int, colours: NDArray[np.uint32]) -> None:
        start = self._tables[table].size
        self._tables[table] = np.concatenate((self._tables[table], colours))
        self._member[colours] |= np.uint8(1 << table)
        if self._indexed == table:
            self._lookup[colours] = np.arange(start, start + colours.size, dtype=np.uint8)


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
