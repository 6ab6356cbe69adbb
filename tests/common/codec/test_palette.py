from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.codec.palette import (
    colour_bytes,
    colour_lookup,
    find_palette,
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


def test_find_palette_sorts_colours_and_indexes_pixels() -> None:
    pixels = np.array([[0x00FF0000, 0x00000001], [0x00000001, 0x00FF0000]], np.uint32)
    found = find_palette(pixels)
    assert found is not None
    colours, indices = found
    assert colours.tolist() == [1, 0xFF0000]
    assert indices.tolist() == [[1, 0], [0, 1]]
    assert colour_bytes(colours) == bytes([1, 0, 0, 0, 0, 0xFF])  # b g r


def test_find_palette_gives_up_above_256_colours() -> None:
    assert find_palette(np.arange(257, dtype=np.uint32).reshape(1, -1)) is None
    found = find_palette(np.arange(256, dtype=np.uint32).reshape(16, 16))
    assert found is not None and found[0].size == 256


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**32))
def test_find_palette_with_a_reused_lookup_matches_the_binary_search(count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lookup = colour_lookup()
    lookup[:] = 0xAB  # stale entries from earlier rectangles never matter
    for _ in range(3):
        colours = rng.integers(0, 1 << 24, count, dtype=np.uint32)
        pixels = colours[rng.integers(0, count, (24, 40))]
        expected, found = find_palette(pixels), find_palette(pixels, lookup)
        if expected is None:
            assert found is None
            continue
        assert found is not None
        assert np.array_equal(found[0], expected[0])
        assert np.array_equal(found[1], expected[1])
        assert found[1].dtype == np.uint8
