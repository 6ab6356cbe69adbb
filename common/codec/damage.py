"""Which 64×64 tiles of a frame differ from the reference picture, without a Python loop
over tiles: XOR the frames as words, OR-reduce each band of 64 rows, mask the alpha bytes
out of the (small) result, then reduce each band to tiles.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from common.codec.frame_words import FrameWords, Words

TILE = 64
#: Damaged tiles are merged into rectangles within CELL×CELL tiles (128×128 pixels):
#: big enough to keep per-rectangle overhead low, small enough for compact palettes.
CELL_TILES = 2

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

    @property
    def tile_words(self) -> int:
        return TILE // self.layout.pixels_per_word

    def compare(self, current: Words, reference: Words) -> None:
        """Computes the damage of the whole frame."""
        np.bitwise_xor(current, reference, out=self.diff)
        self._reduce(0, self.tile_rows)

    def compare_moved(self, current: Words, reference: Words, box: Box, source_y: int) -> None:
        """Recomputes the damage as if the reference's pixels of `box` came from rows
        `source_y`… (a scroll), without moving them. After `compare`; `box` must start and
        end on word boundaries. Pass `source_y` = box's y0 to undo."""
        ppw = self.layout.pixels_per_word
        x0, y0, x1, y1 = box
        w0, w1 = x0 // ppw, x1 // ppw
        source = reference[source_y : source_y + y1 - y0, w0:w1]
        np.bitwise_xor(current[y0:y1, w0:w1], source, out=self.diff[y0:y1, w0:w1])
        self._reduce(y0 // TILE, -(-y1 // TILE))

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
        most one per 128×128 cell, and none covering a tile that is not set.

        With `tighten`, each shrinks to the pixels that differ (to a word horizontally);
        pass False when the reference is meaningless (a keyframe sends whole tiles).
        """
        boxes = []
        for tx0, ty0, tx1, ty1 in covering_boxes(self.tiles if tiles is None else tiles):
            box = self.pixel_box((tx0, ty0, tx1, ty1))
            if tighten:
                tight = self._tightened(box, ty0, ty1)
                if tight is None:
                    continue
                box = tight
            boxes.append(box)
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

    def _tightened(self, box: Box, ty0: int, ty1: int) -> Box | None:
        ppw = self.layout.pixels_per_word
        x0, y0, x1, y1 = box
        w0, w1 = x0 // ppw, x1 // ppw
        changed_words = np.flatnonzero(self.columns[ty0:ty1, w0:w1].any(axis=0))
        if changed_words.size == 0:
            return None
        w1 = w0 + int(changed_words[-1]) + 1
        w0 += int(changed_words[0])
        rows = np.bitwise_and(self.diff[y0:y1, w0:w1], self.layout.mask).any(axis=1)
        changed_rows = np.flatnonzero(rows)
        if changed_rows.size == 0:
            return None
        return (w0 * ppw, y0 + int(changed_rows[0]), w1 * ppw, y0 + int(changed_rows[-1]) + 1)


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
    """Boxes of tiles covering the set tiles and nothing else: per CELL_TILES² cell, the
    bounding box of its set tiles, or each set tile alone when that box would cover a tile
    that is not set."""
    boxes = []
    for box in damaged_cells(tiles):
        tx0, ty0, tx1, ty1 = box
        inside = tiles[ty0:ty1, tx0:tx1]
        if inside.all():
            boxes.append(box)
        else:
            boxes.extend(
                (tx0 + x, ty0 + y, tx0 + x + 1, ty0 + y + 1) for y, x in np.argwhere(inside)
            )
    return boxes


def damaged_cells(tiles: NDArray[np.bool_]) -> list[tuple[int, int, int, int]]:
    """Bounding boxes, in tiles, of the damaged tiles within each CELL_TILES² cell."""
    rows, cols = tiles.shape
    padded_shape = (-(-rows // CELL_TILES) * CELL_TILES, -(-cols // CELL_TILES) * CELL_TILES)
    padded = np.zeros(padded_shape, np.bool_)
    padded[:rows, :cols] = tiles
    cells = padded.reshape(padded.shape[0] // CELL_TILES, CELL_TILES, -1, CELL_TILES)
    row_any: NDArray[np.bool_] = np.any(cells, axis=3)  # cell_row, tile_row_in_cell, cell_col
    col_any: NDArray[np.bool_] = np.any(cells, axis=1)  # cell_row, cell_col, tile_col_in_cell
    found = []
    for cy, cx in zip(*np.nonzero(row_any.any(axis=1)), strict=True):
        in_rows = np.flatnonzero(row_any[cy, :, cx])
        in_cols = np.flatnonzero(col_any[cy, cx])
        base_y, base_x = int(cy) * CELL_TILES, int(cx) * CELL_TILES
        found.append(
            (
                base_x + int(in_cols[0]),
                base_y + int(in_rows[0]),
                base_x + int(in_cols[-1]) + 1,
                base_y + int(in_rows[-1]) + 1,
            )
        )
    return found
