from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from common.codec.palette import (
    MAX_COLOURS,
    OWN_PALETTE_COLOURS,
    TABLES,
    Palettes,
    colour_bytes,
    distinct_colours,
    pack_indices,
    unpack_indices,
)
from common.codec.wire_format import packed_row_bytes, palette_bits


@pytest.mark.parametrize(
    ("count", "bits"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)]
)
def test_palette_bits(count: int, bits: int) -> None:
    assert palette_bits(count) == bits


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([1, 2, 4, 8]), st.integers(1, 40), st.integers(1, 6), st.integers(0, 2**32))
def test_pack_unpack_round_trip(bits: int, width: int, height: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, 1 << bits, (height, width), dtype=np.uint8)
    packed = pack_indices(indices, bits)
    assert len(packed) == height * packed_row_bytes(width, bits)
    back = unpack_indices(np.frombuffer(packed, np.uint8), width, height, bits)
    assert np.array_equal(back, indices)


def test_rows_start_on_a_byte_and_pack_msb_first() -> None:
    indices = np.array([[1, 0, 1], [3, 3, 0]], np.uint8)
    assert pack_indices(indices, 2) == bytes([0b01000100, 0b11110000])
    assert pack_indices(indices[:1], 1) == bytes([0b10100000])


def test_distinct_colours_are_sorted_and_give_up_above_256() -> None:
    pixels = np.array([[0x00FF0000, 0x00000001], [0x00000001, 0x00FF0000]], np.uint32)
    colours = distinct_colours(pixels)
    assert colours is not None and colours.tolist() == [1, 0xFF0000]
    assert colour_bytes(colours) == bytes([1, 0, 0, 0, 0, 0xFF])  # b g r
    assert distinct_colours(np.arange(257, dtype=np.uint32).reshape(1, -1)) is None
    found = distinct_colours(np.arange(256, dtype=np.uint32).reshape(16, 16))
    assert found is not None and found.size == 256


def index(palettes: Palettes, pixels: NDArray[np.uint32]) -> tuple[list[int], NDArray[np.uint8]]:
    """Indexes `pixels` and checks the palette and indices give the pixels back."""
    colours = distinct_colours(pixels)
    assert colours is not None
    palette, indices = palettes.index(colours, pixels)
    assert indices.dtype == np.uint8 and indices.shape == pixels.shape
    assert palette.size <= MAX_COLOURS and len(set(palette.tolist())) == palette.size
    assert np.array_equal(palette[indices], pixels)
    return palette.tolist(), indices


def test_a_few_colours_get_their_own_sorted_palette() -> None:
    pixels = np.array([[0x00FF0000, 0x00000001], [0x00000001, 0x00FF0000]], np.uint32)
    palette, indices = index(Palettes(), pixels)
    assert palette == [1, 0xFF0000]
    assert indices.tolist() == [[1, 0], [0, 1]]


def test_many_colours_keep_their_index_from_rectangle_to_rectangle() -> None:
    palettes = Palettes()
    ramp = np.arange(100, dtype=np.uint32) * 0x010101  # an antialiased grey ramp
    first, first_indices = index(palettes, ramp[:60].reshape(6, 10))
    # Other colours of the same ramp, some new: the table grows at its end.
    second, second_indices = index(palettes, ramp[40:100].reshape(6, 10))
    assert second[: len(first)] == first
    assert first_indices[4:].tolist() == second_indices[:2].tolist()  # ramp[40:60]
    # A small palette in between does not disturb the table.
    index(palettes, ramp[:3].reshape(1, 3))
    third, third_indices = index(palettes, ramp[::2].reshape(5, 10))
    assert third == second
    assert third_indices.ravel().tolist() == list(range(0, 100, 2))


def test_the_least_recently_used_table_goes_when_none_has_room() -> None:
    palettes = Palettes()
    sets = [np.arange(200, dtype=np.uint32) + 1000 * k for k in range(TABLES + 1)]
    tables = [index(palettes, s.reshape(10, 20))[0] for s in sets]
    assert all(len(t) == 200 for t in tables)
    # The first set's table was dropped for the last one: it starts again.
    again, _ = index(palettes, sets[0].reshape(10, 20))
    assert again == sets[0].tolist()
    # The second set's table went for it and the last set's table is still there.
    assert index(palettes, sets[-1].reshape(10, 20))[0] == tables[-1]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(OWN_PALETTE_COLOURS - 2, MAX_COLOURS), min_size=1, max_size=12),
    st.integers(0, 2**32),
)
def test_any_sequence_of_rectangles_indexes_exactly(counts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    palettes = Palettes()
    inks = rng.integers(0, 1 << 24, 600, dtype=np.uint32)  # shared, so tables get reused
    for count in counts:
        colours = rng.choice(inks, count, replace=False)
        pixels = colours[rng.integers(0, count, (12, 30))]
        pixels.flat[:count] = colours
        index(palettes, pixels)
