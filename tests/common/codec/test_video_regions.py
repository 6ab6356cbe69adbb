"""VideoRegions: which tiles go through H.264, how regions grow, shrink and end, and
which tiles are lossy until refreshed."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from benchmarks.synthetic_screens import photo, terminal_page, text_page
from common.codec import video_regions as vr
from common.codec.damage import TILE, TileDamage
from common.codec.frame_words import FrameWords
from common.codec.scroll import Scroll
from common.codec.video_regions import VideoRegions

Tiles = NDArray[np.bool_]


def regions_for(width: int, height: int) -> VideoRegions:
    return VideoRegions(TileDamage(FrameWords.for_size(width, height)))


def screen(width: int, height: int, *photos: tuple[int, int, int, int]) -> NDArray[np.uint8]:
    """Text, with photos at the given tile boxes (x0, y0, x1, y1)."""
    frame = text_page(width, -(-height // 18))[:height].copy()
    for tx0, ty0, tx1, ty1 in photos:
        box = (slice(ty0 * TILE, ty1 * TILE), slice(tx0 * TILE, tx1 * TILE))
        frame[box] = photo(width, height)[box]
    return frame


def tiles(shape: tuple[int, int], *boxes: tuple[int, int, int, int]) -> Tiles:
    mask = np.zeros(shape, np.bool_)
    for tx0, ty0, tx1, ty1 in boxes:
        mask[ty0:ty1, tx0:tx1] = True
    return mask


def moving(regions: VideoRegions, frame: NDArray[np.uint8], damaged: Tiles) -> None:
    """Damages `damaged` in as many updates as it takes to count as moving."""
    for _ in range(vr.MOTION_UPDATES):
        regions.observe(frame, damaged)


def test_only_colourful_tiles_of_a_many_colour_rectangle_are_candidates() -> None:
    regions = regions_for(512, 256)
    frame = screen(512, 256, (1, 1, 3, 3))
    damaged = tiles((4, 8), (0, 0, 4, 4))
    moving(regions, frame, damaged)
    found = regions.candidates(frame, damaged, [((0, 0, 256, 256), None)])
    assert np.array_equal(found, tiles((4, 8), (1, 1, 3, 3)))


def test_colourful_tiles_need_sustained_motion() -> None:
    regions = regions_for(256, 256)
    frame = screen(256, 256, (0, 0, 2, 2))
    damaged = tiles((4, 4), (0, 0, 2, 2))
    for _ in range(vr.MOTION_UPDATES - 1):
        regions.observe(frame, damaged)
        assert not regions.candidates(frame, damaged, [((0, 0, 128, 128), None)]).any()
    regions.observe(frame, damaged)
    assert np.array_equal(regions.candidates(frame, damaged, [((0, 0, 128, 128), None)]), damaged)
    # A rectangle of few colours cannot hold a colourful tile: it is not even looked at.
    assert not regions.candidates(frame, damaged, [((0, 0, 128, 128), vr.EDGE_COLOURS)]).any()
    regions.observe(frame, tiles((4, 4)))  # an update without damage there: still again
    regions.observe(frame, damaged)
    assert not regions.candidates(frame, damaged, [((0, 0, 128, 128), None)]).any()


def test_coloured_antialiased_text_is_never_a_candidate() -> None:
    regions = regions_for(1024, 512)
    frame = terminal_page(1024, 30)[:512]
    damaged = np.ones((8, 16), np.bool_)
    moving(regions, frame, damaged)
    rectangles = [((x, y, x + 128, y + 128), None) for x in range(0, 1024, 128) for y in (0, 256)]
    assert not regions.candidates(frame, damaged, rectangles).any()
    colours = vr._quarter_colours(frame, *np.nonzero(damaged))
    assert 64 < colours.max() <= vr.QUARTER_COLOURS  # antialiased, yet text


def test_a_region_is_colourful_if_any_judged_tile_is_whichever_is_looked_at_first() -> None:
    frame = screen(1024, 512)
    ys, xs = np.nonzero(np.ones((8, 16), np.bool_))
    assert not vr._any_colourful(frame, ys, xs)
    first = np.arange(0, ys.size, ys.size // vr.FIRST_LOOK)
    for tile in (int(first[1]), int(first[1]) + 1, ys.size - 1):  # first look, or not
        colourful = screen(
            1024, 512, (int(xs[tile]), int(ys[tile]), int(xs[tile]) + 1, int(ys[tile]) + 1)
        )
        assert vr._any_colourful(colourful, ys, xs)
        assert not vr._any_colourful(colourful, np.delete(ys, tile), np.delete(xs, tile))


def test_the_edge_of_a_video_joins_by_a_lower_bar() -> None:
    """A video that covers 24 rows of a tile row (a quarter's 768 pixels) and 16 of
    another (512 pixels): those tiles join the region, the text beside stays out."""
    regions = regions_for(512, 320)
    frame = screen(512, 320)
    frame[40:208, 128:384] = photo(256, 168)
    damaged = tiles((5, 8), (2, 0, 6, 4))
    moving(regions, frame, damaged)
    found = regions.candidates(frame, damaged, [((128, 0, 384, 256), None)])
    assert np.array_equal(found, tiles((5, 8), (2, 0, 6, 4)))
    frame[40:208, 128:384] = screen(512, 320)[40:208, 128:384]  # text where it was
    assert not regions.candidates(frame, damaged, [((128, 0, 384, 256), None)]).any()


def test_nearby_candidates_grow_a_region_and_far_ones_start_another() -> None:
    regions = regions_for(1024, 512)
    assert regions.plan(tiles((8, 16), (1, 1, 3, 3)))
    (first,) = regions.regions
    first.started = True
    regions.plan(tiles((8, 16), (4, 1, 5, 2)))  # one tile away: joins
    assert [r.tiles for r in regions.regions] == [(1, 1, 5, 3)]
    assert not first.started  # its rectangle changed: the stream restarts
    regions.plan(tiles((8, 16), (10, 5, 12, 7)))
    assert [(r.stream, r.tiles) for r in regions.regions] == [
        (0, (1, 1, 5, 3)),
        (1, (10, 5, 12, 7)),
    ]
    assert regions.regions[1].box == (640, 320, 768, 448)


def test_a_cluster_bridging_two_regions_merges_them_into_the_lower_stream() -> None:
    regions = regions_for(1024, 512)
    regions.plan(tiles((8, 16), (0, 0, 2, 2), (8, 0, 10, 2)))
    assert len(regions.regions) == 2
    regions.plan(tiles((8, 16), (3, 0, 7, 1)))
    assert [(r.stream, r.tiles) for r in regions.regions] == [(0, (0, 0, 10, 2))]


def test_at_most_four_regions() -> None:
    regions = regions_for(2048, 128)
    regions.plan(tiles((2, 32), *((x, 0, x + 1, 1) for x in range(0, 30, 6))))
    assert sorted(r.stream for r in regions.regions) == [0, 1, 2, 3]


def test_a_region_is_clipped_to_the_limits_and_the_rest_starts_another() -> None:
    regions = regions_for(5120, 128)
    regions.plan(tiles((2, 80), (0, 0, 80, 2)))
    assert [r.box for r in regions.regions] == [(0, 0, 4096, 128)]
    regions.plan(tiles((2, 80), (64, 0, 80, 2)))
    assert [r.box for r in regions.regions] == [(0, 0, 4096, 128), (4096, 0, 5120, 128)]


def test_a_region_ends_when_its_damage_looks_like_text_again() -> None:
    regions = regions_for(256, 256)
    regions.plan(tiles((4, 4), (0, 0, 4, 4)))
    video, text = screen(256, 256, (0, 0, 4, 4)), screen(256, 256)
    damaged = tiles((4, 4), (0, 0, 4, 4))
    regions.observe(video, damaged)
    for _ in range(vr.CALM_UPDATES - 1):
        regions.observe(text, damaged)
    assert regions.regions
    regions.observe(text, damaged)
    assert not regions.regions


def test_a_region_ends_soon_after_text_replaces_its_video_even_if_nothing_else_changes() -> None:
    regions = regions_for(256, 256)
    regions.plan(tiles((4, 4), (0, 0, 4, 4)))
    damaged, nothing = tiles((4, 4), (0, 0, 4, 4)), tiles((4, 4))
    regions.observe(screen(256, 256, (0, 0, 4, 4)), damaged)
    regions.observe(screen(256, 256), damaged)
    for _ in range(vr.CALM_UPDATES - 2):
        regions.observe(screen(256, 256), nothing)
    assert regions.regions
    regions.observe(screen(256, 256), nothing)
    assert not regions.regions
    assert np.array_equal(regions._quiet >= vr.QUIET_UPDATES, tiles((4, 4), (0, 0, 4, 4)))


def test_a_region_ends_after_idling() -> None:
    regions = regions_for(256, 256)
    regions.plan(tiles((4, 4), (0, 0, 2, 2)))
    nothing = tiles((4, 4))
    for _ in range(vr.IDLE_UPDATES - 1):
        regions.observe(screen(256, 256), nothing)
    assert regions.regions
    regions.observe(screen(256, 256), nothing)
    assert not regions.regions


def test_a_region_shrinks_to_where_its_damage_stays() -> None:
    regions = regions_for(512, 512)
    regions.plan(tiles((8, 8), (0, 0, 8, 8)))
    regions.regions[0].started = True
    frame = screen(512, 512, (0, 0, 8, 8))
    for _ in range(vr.SHRINK_UPDATES):
        regions.observe(frame, tiles((8, 8), (0, 7, 8, 8)))
    (region,) = regions.regions
    assert region.tiles == (0, 7, 8, 8)
    assert not region.started
    for _ in range(vr.SHRINK_UPDATES):
        regions.observe(frame, tiles((8, 8), (0, 7, 8, 8)))
    assert region.tiles == (0, 7, 8, 8)  # all of it damaged: stays


def test_painted_tiles_are_lossy_and_follow_a_scroll() -> None:
    regions = regions_for(256, 320)
    regions.plan(tiles((5, 4), (1, 4, 3, 5)))
    frame = screen(256, 320, (1, 4, 3, 5))
    (picture,) = regions.encode(frame, tiles((5, 4), (1, 4, 3, 5)))
    assert picture.start and picture.packet.startswith(b"\x00\x00\x00\x01")
    assert np.array_equal(regions.lossy, tiles((5, 4), (1, 4, 3, 5)))
    assert regions.encode(frame, tiles((5, 4))) == []  # nothing damaged, nothing sent
    # The whole screen scrolls up by 70 rows: rows 256…319 land on 186…249.
    regions.moved(Scroll(0, 0, 256, 250, -70))
    assert np.array_equal(regions.lossy, tiles((5, 4), (1, 2, 3, 5)))
    assert regions.lossy_rows[:, 1:3].tolist() == [
        [r in range(186, 250) or r >= 256] * 2 for r in range(320)
    ]


def test_a_copy_that_covers_a_region_ends_it() -> None:
    regions = regions_for(512, 512)
    regions.plan(tiles((8, 8), (1, 1, 3, 3), (5, 6, 7, 8)))
    regions.moved(Scroll(0, 0, 512, 503, -9))  # all but the bottom strip moves up
    assert [r.tiles for r in regions.regions] == [(5, 6, 7, 8)]


def test_lossy_rows_scroll_off_the_screen_with_their_content() -> None:
    regions = regions_for(256, 320)
    regions.lossy_rows[200:230, 1] = True
    for step in range(1, 27):  # 9 rows up per update, the bottom strip painted exactly
        regions.moved(Scroll(0, 0, 256, 311, -9))
        regions.painted_exactly((0, 311, 256, 320))
        top, bottom = max(0, 200 - 9 * step), max(0, 230 - 9 * step)
        assert np.flatnonzero(regions.lossy_rows[:, 1]).tolist() == list(range(top, bottom))
    assert not regions.lossy_rows.any()
    # A copy that covers a tile column only in part cannot clear it.
    regions.lossy_rows[100:110, 0] = True
    regions.moved(Scroll(0, 0, 32, 300, -20))
    assert regions.lossy_rows[80:90, 0].all() and regions.lossy_rows[100:110, 0].all()


def test_exact_rectangles_clear_only_the_tiles_they_cover_whole() -> None:
    regions = regions_for(200, 130)
    regions.lossy_rows[:] = True
    regions.painted_exactly((10, 0, 200, 100))
    assert np.array_equal(~regions.lossy, tiles((3, 4), (1, 0, 4, 1)))
    regions.painted_exactly((0, 64, 200, 130))  # reaches the edges: partial tiles count
    assert np.array_equal(~regions.lossy, tiles((3, 4), (1, 0, 4, 1), (0, 1, 4, 3)))


def test_quiet_lossy_tiles_are_refreshed_a_few_at_a_time() -> None:
    regions = regions_for(1024, 1024)
    regions.lossy_rows[:] = True
    for _ in range(vr.QUIET_UPDATES):
        assert regions.refresh_tiles() is None
        regions.end_update()
    ready = regions.refresh_tiles()
    assert ready is not None and int(ready.sum()) == vr.REFRESH_TILES
    regions.observe(screen(1024, 1024), tiles((16, 16), (0, 0, 16, 8)))
    ready = regions.refresh_tiles()
    assert ready is not None and not ready[:8].any()  # just changed: not quiet


@pytest.mark.parametrize("gap", [0, 1])
def test_merged_boxes_never_overlap(gap: int) -> None:
    rng = np.random.default_rng(gap)
    boxes = []
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, 30, 2))
        boxes.append((x, y, x + int(rng.integers(1, 4)), y + int(rng.integers(1, 4))))
    merged = vr._merged(boxes, gap)
    for i, a in enumerate(merged):
        for b in merged[i + 1 :]:
            assert not vr._near(a, b, gap)
    for box in boxes:
        assert any(
            m[0] <= box[0] and m[1] <= box[1] and box[2] <= m[2] and box[3] <= m[3] for m in merged
        )
