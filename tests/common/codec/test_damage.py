from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.synthetic_screens import noise, with_random_alpha
from common.codec.damage import TileDamage, covering_boxes, damaged_cells
from common.codec.frame_words import FrameWords


def damage_of(before: np.ndarray, after: np.ndarray) -> TileDamage:
    height, width = before.shape[:2]
    layout = FrameWords.for_size(width, height)
    damage = TileDamage(layout)
    damage.compare(layout.view(after), layout.view(before))
    return damage


@pytest.mark.parametrize(
    ("width", "first", "last"), [(200, (130, 132), (198, 200)), (201, (130, 131), (200, 201))]
)
def test_only_changed_tiles_are_damaged(
    width: int, first: tuple[int, int], last: tuple[int, int]
) -> None:
    """Even widths compare two pixels per word, odd widths one."""
    before = noise(width, 150)
    after = before.copy()
    after[70, 130, 0] ^= 1  # tile (1, 2)
    after[149, width - 1, 2] ^= 0x80  # the last, partial tile
    damage = damage_of(before, after)
    assert np.argwhere(damage.tiles).tolist() == [[1, 2], [2, 3]]
    assert damage.damaged_boxes(tighten=True) == [
        (first[0], 70, first[1], 71),
        (last[0], 149, last[1], 150),
    ]


def test_tight_boxes_cover_exactly_the_changed_pixels_to_a_word() -> None:
    before = noise(256, 128)
    after = before.copy()
    after[10:20, 5:9, 1] ^= 0xFF
    damage = damage_of(before, after)
    assert damage.damaged_boxes(tighten=True) == [(4, 10, 10, 20)]
    assert damage.damaged_boxes(tighten=False) == [(0, 0, 64, 64)]


def test_alpha_alone_is_not_damage() -> None:
    before = noise(130, 70)
    assert not damage_of(before, with_random_alpha(before)).tiles.any()


def test_compare_moved_sees_a_scroll_and_can_be_undone() -> None:
    before = noise(128, 192)
    after = np.roll(before, -64, axis=0)
    layout = FrameWords.for_size(128, 192)
    damage = TileDamage(layout)
    now, ref = layout.view(after), layout.view(before)
    damage.compare(now, ref)
    assert damage.tiles.all()
    damage.compare_moved(now, ref, (0, 0, 128, 128), 64)
    assert damage.tiles.tolist() == [[False, False], [False, False], [True, True]]
    damage.compare_moved(now, ref, (0, 0, 128, 128), 0)
    assert damage.tiles.all()


def test_cells_merge_tiles_four_wide_by_two_high() -> None:
    tiles = np.zeros((3, 9), np.bool_)
    tiles[0, 0] = tiles[1, 3] = True  # one cell: opposite corners
    tiles[0, 5] = True
    tiles[2, 8] = True  # the padded corner cell
    assert damaged_cells(tiles) == [(0, 0, 4, 2), (5, 0, 6, 1), (8, 2, 9, 3)]
    assert covering_boxes(tiles) == [(0, 0, 1, 1), (3, 1, 4, 2), (5, 0, 6, 1), (8, 2, 9, 3)]
    tiles[0:2, 4:8] = True
    assert (4, 0, 8, 2) in covering_boxes(tiles)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(1, 200),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 80)), max_size=6
    ),
    st.booleans(),
)
def test_tight_boxes_cover_every_change_exactly_once_and_no_more(
    width: int, height: int, changes: list[tuple[int, int, int]], alpha: bool
) -> None:
    before = noise(width, height)
    after = with_random_alpha(before) if alpha else before.copy()
    for x, y, size in changes:
        x, y = x % width, y % height
        after[y : y + size // 4 + 1, x : x + size, 1] ^= 0x5A
    damage = damage_of(before, after)
    changed = (after[..., :3] != before[..., :3]).any(axis=2)
    covered = np.zeros(changed.shape, np.int8)
    ppw = 2 if width % 2 == 0 else 1
    for x0, y0, x1, y1 in damage.damaged_boxes(tighten=True):
        inside = changed[y0:y1, x0:x1]
        covered[y0:y1, x0:x1] += 1
        # Tight: a change on its first and last row, and in its first and last word.
        assert inside[0].any() and inside[-1].any()
        assert inside[:, :ppw].any() and inside[:, -ppw:].any()
        assert x0 % ppw == 0 and x1 % ppw == 0
        assert damage.tiles[y0 // 64 : -(-y1 // 64), x0 // 64 : -(-x1 // 64)].all()
    assert covered.max(initial=0) <= 1
    assert np.array_equal(covered == 1, covered.astype(bool))
    assert not (changed & (covered == 0)).any()


@pytest.mark.parametrize("box", [(0, 64, 256, 192), (64, 0, 128, 128), (192, 64, 256, 236)])
@pytest.mark.parametrize("width", [256, 255])
def test_a_moved_compare_equals_comparing_with_the_moved_picture(
    box: tuple[int, int, int, int], width: int
) -> None:
    """Wide and narrow boxes, in one pass or after `compare`: the damage is that of the
    reference with the box's rows taken from 20 rows below."""
    x0, y0, x1, y1 = box
    x1 = min(x1, width)
    before = noise(width, 256)
    after = with_random_alpha(np.roll(before, -20, axis=0), seed=3)
    after[150:160, 10:20, 0] ^= 0x40
    moved = before.copy()
    moved[y0:y1, x0:x1] = before[y0 + 20 : y1 + 20, x0:x1]
    wanted = damage_of(moved, after)
    layout = FrameWords.for_size(width, 256)
    now, ref = layout.view(after), layout.view(before)
    once = TileDamage(layout)
    once.compare(now, ref, ((x0, y0, x1, y1), y0 + 20))
    twice = TileDamage(layout)
    twice.compare(now, ref)
    twice.compare_moved(now, ref, (x0, y0, x1, y1), y0 + 20)
    for damage in (once, twice):
        assert np.array_equal(damage.tiles, wanted.tiles)
        assert damage.damaged_boxes(tighten=True) == wanted.damaged_boxes(tighten=True)
