"""Which 64×64 tiles of a frame differ from the reference picture, without a Python loop
over tiles: XOR the frames as words, OR-reduce each band of 64 rows, mask the alpha bytes
out of the (small) result, then reduce each band to tiles.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import NDArray

from common.codec.frame_words import FrameWords, Words

TILE = 64
#: Damaged tiles are merged into rectangles within cells of CELL_COLUMNS × CELL_ROWS
#: tiles (256×128 pixels): big enough to keep per-rectangle overhead low, small enough
#: for compact palettes. 256 wide rather than 128: 4 % less CPU and 3–8 % fewer bytes on
#: scrolling text (rows of glyphs twice as long for zstd, half the records).
CELL_COLUMNS = 4
CELL_ROWS = 2

#: Pixel rectangle as (x0, y0, x1, y1), end-exclusive.
Box = tuple[int, int, int, int]


class TileDamage:
    """Damage of one frame against the reference, for frames of one size.

    Call `compare` (then perhaps `compare_moved` to try a scroll), then read `tiles` or
    ask for `damaged_boxes`.
    """

    def __init__(self, layout: FrameWords) -> None:
        self.layout = layout
        self.tile_rows = -(-layout.height // TILE)
        self.tile_columns = -(-layout.width // TILE)
        self.diff: Words = np.zeros((layout.height, layout.words_per_row), layout.dtype)
        #: Per band of TILE rows, which words changed: tile_rows × words_per_row.
        self.columns: NDArray[np.bool_] = np.zeros((self.tile_rows, layout.words_per_row), np.bool_)
        #: tile_rows × tile_columns.
        self.tiles: NDArray[np.bool_] = np.zeros((self.tile_rows, self.tile_columns), np.bool_)
        #: Where `diff` may hold something other than zeros, as (word x0, y0, word x1,
        #: y1), or None: nowhere. A comparison `within` a box needs zeros around it.
        self._written: Box | None = None

    @property
    def tile_words(self) -> int:
        return TILE // self.layout.pixels_per_word

    def compare(
        self,
        current: Words,
        reference: Words,
        moved: tuple[Box, int] | None = None,
        *,
        within: Box | None = None,
    ) -> None:
        """Computes the damage of the whole frame. With `moved` = (box, source_y), as if
        the reference's pixels of `box` came from rows `source_y`… (a scroll), without
        moving them, in the same single pass; `box` must start and end on words.

        With `within` (pixels, not with `moved`), only the tiles that box touches are
        compared: the rest of the frame is taken as unchanged (the OS said so)."""
        if within is not None and moved is None:
            self._compare_within(current, reference, within)
            return
        self._written = (0, 0, self.layout.words_per_row, self.layout.height)
        if moved is None:
            np.bitwise_xor(current, reference, out=self.diff)
        else:
            box, source_y = moved
            y0, y1 = box[1], box[3]
            np.bitwise_xor(current[:y0], reference[:y0], out=self.diff[:y0])
            np.bitwise_xor(current[y1:], reference[y1:], out=self.diff[y1:])
            self._xor_moved(current, reference, box, source_y, outside=True)
        self._reduce(0, self.tile_rows)

    def _compare_within(self, current: Words, reference: Words, box: Box) -> None:
        self.tiles[:] = False
        self.columns[:] = False
        x0, y0, x1, y1 = box
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.layout.width), min(y1, self.layout.height)
        area: Box | None = None
        if x0 < x1 and y0 < y1:
            first_row, end_row = y0 // TILE, -(-y1 // TILE)
            words = self.tile_words
            area = (
                x0 // TILE * words,
                first_row * TILE,
                min(-(-x1 // TILE) * words, self.layout.words_per_row),
                min(end_row * TILE, self.layout.height),
            )
        written = self._written
        if written is not None and (area is None or not _contains(area, written)):
            self.diff[written[1] : written[3], written[0] : written[2]] = 0
        self._written = area
        if area is not None:
            w0, top, w1, bottom = area
            rows, words_ = slice(top, bottom), slice(w0, w1)
            np.bitwise_xor(
                current[rows, words_], reference[rows, words_], out=self.diff[rows, words_]
            )
            self._reduce(first_row, end_row)

    def compare_moved(self, current: Words, reference: Words, box: Box, source_y: int) -> None:
        """Recomputes the damage as if the reference's pixels of `box` came from rows
        `source_y`… (a scroll), without moving them. After `compare`; `box` must start and
        end on word boundaries. Pass `source_y` = box's y0 to undo."""
        # A wide box is done as whole rows.
        rows = (0, box[1], self.layout.words_per_row, box[3])
        self._written = rows if self._written is None else union(self._written, rows)
        self._xor_moved(current, reference, box, source_y, outside=False)
        self._reduce(box[1] // TILE, -(-box[3] // TILE))

    def _xor_moved(
        self, current: Words, reference: Words, box: Box, source_y: int, *, outside: bool
    ) -> None:
        """`diff` of the rows of `box`, the box's words from the reference's rows
        `source_y`…; with `outside`, the rest of those rows too (else left as they are).

        numpy XORs whole rows (one contiguous run) about 2.5× faster per word than a
        box of part of each row, so a wide box is done as whole shifted rows whose
        outer words are then redone in place."""
        ppw = self.layout.pixels_per_word
        x0, y0, x1, y1 = box
        w0, w1 = x0 // ppw, x1 // ppw
        rows, source = slice(y0, y1), slice(source_y, source_y + y1 - y0)
        diff = self.diff
        if 2 * (w1 - w0) >= self.layout.words_per_row:
            np.bitwise_xor(current[rows], reference[source], out=diff[rows])
            for part in (slice(0, w0), slice(w1, None)):
                np.bitwise_xor(current[rows, part], reference[rows, part], out=diff[rows, part])
            return
        if outside:
            np.bitwise_xor(current[rows], reference[rows], out=diff[rows])
        np.bitwise_xor(current[rows, w0:w1], reference[source, w0:w1], out=diff[rows, w0:w1])

    def _reduce(self, first_row: int, end_row: int) -> None:
        """Derives `columns` and `tiles` of tile rows [first_row, end_row) from `diff`."""
        top, bottom = first_row * TILE, min(end_row * TILE, self.layout.height)
        bands = _or_bands(self.diff[top:bottom], TILE)
        np.bitwise_and(bands, self.layout.mask, out=bands)
        columns = bands != 0
        self.columns[first_row:end_row] = columns
        starts = np.arange(0, columns.shape[1], self.tile_words)
        self.tiles[first_row:end_row] = np.logical_or.reduceat(columns, starts, axis=1)

    def damaged_boxes(self, *, tighten: bool, tiles: NDArray[np.bool_] | None = None) -> list[Box]:
        """Pixel rectangles covering every damaged tile (or every tile set in `tiles`), at
        most one per 256×128 cell, and none covering a tile that is not set.

        With `tighten`, each shrinks to the pixels that differ (to a word horizontally);
        pass False when the reference is meaningless (a keyframe sends whole tiles).
        """
        chosen = self.tiles if tiles is None else tiles
        tile_boxes = covering_boxes(chosen)
        if not tighten:
            return [self.pixel_box(box) for box in tile_boxes]
        if not tile_boxes:
            return []
        left, right, top, bottom = self._changed_extents(chosen)
        boxes = []
        for tx0, ty0, tx1, ty1 in tile_boxes:
            # A box holds at most 8 tiles: plain Python beats numpy calls here.
            inside = [(ty, tx) for ty in range(ty0, ty1) for tx in range(tx0, tx1)]
            x0 = min(left[ty][tx] for ty, tx in inside)
            x1 = max(right[ty][tx] for ty, tx in inside)
            if x0 < x1:
                y0 = min(top[ty][tx] for ty, tx in inside)
                y1 = max(bottom[ty][tx] for ty, tx in inside)
                boxes.append((x0, y0, x1, y1))
        return boxes

    def pixel_box(self, tile_box: Box) -> Box:
        """The pixels of a box of tiles (x0, y0, x1, y1), clipped to the frame."""
        tx0, ty0, tx1, ty1 = tile_box
        return (
            tx0 * TILE,
            ty0 * TILE,
            min(tx1 * TILE, self.layout.width),
            min(ty1 * TILE, self.layout.height),
        )

    def _changed_extents(self, chosen: NDArray[np.bool_]) -> list[list[list[int]]]:
        """Per tile, where its changed pixels lie: left and right (to a word), top and
        bottom, end-exclusive, as lists of rows of tiles; left ≥ right for a tile with no
        change. Computed for the tile rows that hold a chosen tile, over whole rows of
        tiles at once."""
        layout, words = self.layout, self.tile_words
        columns = self.tile_columns
        none = layout.width + 1
        left = np.full(self.tiles.shape, none, np.intp)
        right = np.zeros(self.tiles.shape, np.intp)
        top = np.full(self.tiles.shape, layout.height, np.intp)
        bottom = np.zeros(self.tiles.shape, np.intp)
        bands = np.flatnonzero(chosen.any(axis=1))
        # Horizontally: the changed words of each tile, from `columns`.
        padded = np.zeros((bands.size, columns * words), np.bool_)
        padded[:, : layout.words_per_row] = self.columns[bands]
        changed = padded.reshape(bands.size, columns, words)
        some = changed.any(axis=2)
        first = np.argmax(changed, axis=2)
        last = words - np.argmax(changed[:, :, ::-1], axis=2)
        base = np.arange(columns) * words
        ppw = layout.pixels_per_word
        left[bands] = np.where(some, (base + first) * ppw, none)
        right[bands] = np.where(some, (base + last) * ppw, 0)
        # Vertically: per band, which rows of each tile changed.
        starts = np.arange(0, layout.words_per_row, words)
        for band in bands.tolist():
            y0, y1 = band * TILE, min((band + 1) * TILE, layout.height)
            ored = np.bitwise_or.reduceat(self.diff[y0:y1], starts, axis=1)
            rows = np.bitwise_and(ored, layout.mask) != 0
            some_rows = rows.any(axis=0)
            top[band] = np.where(some_rows, y0 + np.argmax(rows, axis=0), layout.height)
            bottom[band] = np.where(some_rows, y1 - np.argmax(rows[::-1], axis=0), 0)
        return [cast(list[list[int]], a.tolist()) for a in (left, right, top, bottom)]


def _contains(outer: Box, inner: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def union(first: Box, *others: Box) -> Box:
    """The smallest box that holds them all."""
    boxes = (first, *others)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _or_bands(diff: Words, band: int) -> Words:
    """OR of each run of `band` rows (the last run may be shorter)."""
    full = diff.shape[0] // band
    rest = diff.shape[0] - full * band
    out = np.empty((full + (1 if rest else 0), diff.shape[1]), diff.dtype)
    if full:
        np.bitwise_or.reduce(diff[: full * band].reshape(full, band, -1), axis=1, out=out[:full])
    if rest:
        np.bitwise_or.reduce(diff[full * band :], axis=0, out=out[full])
    return out


def covering_boxes(tiles: NDArray[np.bool_]) -> list[Box]:
    """Boxes of tiles covering the set tiles and nothing else: per cell (CELL_COLUMNS ×
    CELL_ROWS tiles), the bounding box of its set tiles, or each set tile alone when that
    box would cover a tile that is not set."""
    boxes = []
    rows = tiles.tolist()
    for box in damaged_cells(tiles):
        tx0, ty0, tx1, ty1 = box
        inside = [(tx, ty) for ty in range(ty0, ty1) for tx in range(tx0, tx1) if rows[ty][tx]]
        if len(inside) == (tx1 - tx0) * (ty1 - ty0):
            boxes.append(box)
        else:
            boxes.extend((tx, ty, tx + 1, ty + 1) for tx, ty in inside)
    return boxes


def damaged_cells(tiles: NDArray[np.bool_]) -> list[tuple[int, int, int, int]]:
    """Bounding boxes, in tiles, of the damaged tiles within each cell."""
    rows, cols = tiles.shape
    padded_shape = (-(-rows // CELL_ROWS) * CELL_ROWS, -(-cols // CELL_COLUMNS) * CELL_COLUMNS)
    padded = np.zeros(padded_shape, np.bool_)
    padded[:rows, :cols] = tiles
    cells = padded.reshape(padded.shape[0] // CELL_ROWS, CELL_ROWS, -1, CELL_COLUMNS)
    row_any = np.any(cells, axis=3).transpose(0, 2, 1)  # cell_row, cell_col, tile_row_in_cell
    col_any = np.any(cells, axis=1)  # cell_row, cell_col, tile_col_in_cell
    cy, cx = np.nonzero(row_any.any(axis=2))
    row_any, col_any = row_any[cy, cx], col_any[cy, cx]
    y0 = cy * CELL_ROWS + np.argmax(row_any, axis=1)
    y1 = (cy + 1) * CELL_ROWS - np.argmax(row_any[:, ::-1], axis=1)
    x0 = cx * CELL_COLUMNS + np.argmax(col_any, axis=1)
    x1 = (cx + 1) * CELL_COLUMNS - np.argmax(col_any[:, ::-1], axis=1)
    return list(zip(x0.tolist(), y0.tolist(), x1.tolist(), y1.tolist(), strict=True))
