from __future__ import annotations

import numpy as np
import pytest

from benchmarks.synthetic_screens import noise, text_page, with_random_alpha
from common.codec.damage import TILE
from common.codec.frame_words import FrameWords
from common.codec.scroll import RowHashes, Scroll, find_scroll


def scroll_between(before: np.ndarray, after: np.ndarray) -> Scroll | None:
    height, width = before.shape[:2]
    layout = FrameWords.for_size(width, height)
    stripe = TILE // layout.pixels_per_word
    region = (0, 0, layout.words_per_row, height)
    now = RowHashes(layout, layout.view(after), region, stripe)
    previous = RowHashes(layout, layout.view(before), region, stripe)
    return find_scroll(layout, now, previous)


def test_text_scrolled_up_is_found() -> None:
    page = text_page(300, 40)
    assert scroll_between(page[0:400], page[9:409]) == Scroll(0, 0, 300, 391, -9)


def test_text_scrolled_down_is_found() -> None:
    page = text_page(301, 40)  # odd width: one pixel per word
    assert scroll_between(page[20:420], page[0:400]) == Scroll(0, 20, 301, 380, 20)


def test_a_static_side_panel_is_left_out() -> None:
    page = text_page(256, 40)
    panel = text_page(128, 40, seed=2)[:400]
    before = np.concatenate([panel, page[0:400]], axis=1)
    after = np.concatenate([panel, page[30:430]], axis=1)
    assert scroll_between(before, after) == Scroll(128, 0, 256, 370, -30)


def test_unrelated_pictures_have_no_scroll() -> None:
    assert scroll_between(noise(256, 200), noise(256, 200, seed=8)) is None


def test_a_blank_screen_has_no_scroll() -> None:
    blank = np.zeros((200, 256, 4), np.uint8)
    assert scroll_between(blank, blank) is None


@pytest.mark.parametrize("width", [256, 255])
def test_row_hashes_ignore_alpha_and_see_any_one_byte_change(width: int) -> None:
    frame = noise(width, 40)
    layout = FrameWords.for_size(width, 40)
    region = (0, 0, layout.words_per_row, 40)
    stripe = TILE // layout.pixels_per_word

    def hashes(picture: np.ndarray) -> np.ndarray:
        return RowHashes(layout, layout.view(picture), region, stripe).values

    base = hashes(frame)
    assert np.array_equal(hashes(with_random_alpha(frame)), base)
    rng = np.random.default_rng(1)
    for _ in range(50):
        y, x, channel = int(rng.integers(40)), int(rng.integers(width)), int(rng.integers(3))
        changed = frame.copy()
        changed[y, x, channel] ^= int(rng.integers(1, 256))
        differs = hashes(changed) != base
        assert differs.sum() == 1 and differs[y, x // TILE]
