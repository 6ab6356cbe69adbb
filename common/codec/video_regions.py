"""Which parts of the screen go through H.264 (video regions), and where the viewer's
picture only approximates the screen (lossy tiles) until a lossless refresh.

Everything is decided per 64×64 tile, counted in updates (calls to `encode`), never in
seconds: the codec has no clock. At 30 updates a second, 6 updates are 0.2 s.

* A tile is a candidate when it is both colourful and moving. Colourful: one of its
  32×32 quarters has more than `QUARTER_COLOURS` distinct colours (of 1024 pixels), as
  photos and video have and text does not, however many inks and antialiasing levels a
  whole line of it mixes. Moving: damaged in each of the last `MOTION_UPDATES` updates,
  counted after the scroll copy, so a tile a copy explains is not moving. A tile next to
  a candidate or a region that moves and is colourful by a lower bar
  (`EDGE_COLOURS`) is one too: the edge of a video that covers only part of a tile.
* Candidates join a nearby region, which grows to cover them, or start a new one (at most
  `MAX_VIDEO_STREAMS`). A region is a rectangle of whole tiles, clipped to the screen; it
  keeps one H.264 encoder, restarted (a START record, an IDR picture) whenever its
  rectangle changes and at every keyframe.
* Every update that damages a region sends the whole region as one H.264 picture. A
  scroll copy that covers a region entirely ends it: its picture moved away. After
  `STEADY_PICTURES` pictures in a row in updates without a scroll copy (a video playing,
  not a page or photo scrolling), the region restarts its stream with x264's fastest
  settings (`h264.STEADY_PRESET`).
  Inside a region, damaged tiles are judged the same way. A region ends, and its tiles
  return to the lossless path, `CALM_UPDATES` updates after its last colourful damage if
  damage since then looked like text (its tiles are then refreshed at once), else
  `IDLE_UPDATES` after it (a paused video). Every
  `SHRINK_UPDATES` updates a region shrinks to the tiles damaged meanwhile when they span
  at most half of it: once a scroll is copied, only the exposed strip needs H.264.
* Pixels painted by H.264 are lossy, and a scroll carries that along: lossiness is kept
  per pixel row of each tile column, so it moves exactly with the (vertical, tile-aligned)
  copies and scrolls off the screen with the content. A tile with lossy rows outside
  every region that has not changed for `QUIET_UPDATES` updates is sent again losslessly
  ("build to lossless"), at most `REFRESH_TILES` tiles an update.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from common.codec.damage import TILE, Box, TileDamage, damaged_cells, union
from common.codec.frame_words import BgraFrame, pixels_u32
from common.codec.h264 import CRF, STEADY_PRESET, H264Encoder
from common.codec.scroll import Scroll
from common.codec.wire_format import MAX_VIDEO_STREAMS, max_video_packet, video_region_fits

#: Sustained motion: a tile damaged (after the scroll copy) in this many consecutive
#: updates.
MOTION_UPDATES = 2
#: Colour is judged per 32×32 quarter of a tile, on every pixel: a quarter with more
#: distinct colours than this (of 1024) is colourful. Measured on a real xterm (DejaVu
#: Sans Mono, antialiased, five inks on black): at most 182; a 640×360 testsrc2 video
#: with grain: at least 337; photos: 500 and more.
QUARTER = 32
QUARTER_COLOURS = 256
#: The lower bar for a moving tile next to a candidate or a region (a video's edge that
#: covers only part of the tile).
EDGE_COLOURS = 64
#: At most this many damaged tiles of a region are judged per update…
SAMPLE_TILES = 64
#: … about this many of them, spread out, first: the rest only if none is colourful.
FIRST_LOOK = 4
#: Every this many updates, a region shrinks to the tiles damaged meanwhile if they span
#: at most half of it.
SHRINK_UPDATES = 8
#: A region ends this many updates after its last colourful damage if what changed since
#: looked like text…
CALM_UPDATES = 3
#: … else this many (a paused video).
IDLE_UPDATES = 60
#: A region's pictures in a row, in updates without a scroll copy, after which it plays
#: like a video and goes over to x264's fastest settings (half a second at 30 a second).
STEADY_PICTURES = 15
#: Candidates this many tiles or fewer away from a region (or each other) join it.
JOIN_GAP = 1
#: A lossy tile outside every region is refreshed after this many updates unchanged…
QUIET_UPDATES = 15
#: … at most this many tiles per update.
REFRESH_TILES = 32

_COUNTER_MAX = np.uint16(0xFFFF)
_OPAQUE = np.uint32(0x00FFFFFF)

Tiles = NDArray[np.bool_]


@dataclass(eq=False, slots=True)
class VideoRegion:
    """One region: `tiles` (x0, y0, x1, y1, in tiles) and `box`, the same in pixels."""

    stream: int
    tiles: Box
    box: Box
    encoder: H264Encoder | None = None
    #: Whether the decoder has this region's current stream (a START record was sent).
    started: bool = False
    #: Whether its latest damage looked like text rather than video.
    calm: bool = False
    #: Updates since the last colourful damage.
    idle: int = 0
    #: Bounding box (tiles) of the damage since the last shrink check, and updates since.
    recent: Box | None = None
    window: int = 0
    #: Pictures in a row sent in updates without a scroll copy.
    steady: int = 0


@dataclass(frozen=True, slots=True)
class VideoPicture:
    """What to send for one region this update."""

    region: VideoRegion
    packet: bytes
    start: bool


class VideoRegions:
    """The encoder's video state for frames of one size. Per update, in this order:
    `moved` (if a scroll was copied), `observe`, `candidates` and `plan`, `encode`,
    `painted_exactly` for each lossless rectangle, `refresh_tiles`, `end_update`; or only
    `unchanged` when nothing changed and the state is not `active`."""

    def __init__(self, damage: TileDamage, *, crf: int = CRF) -> None:
        self._damage = damage
        shape = damage.tiles.shape
        self.regions: list[VideoRegion] = []
        #: Per pixel row (height) and tile column: where the decoder's picture only
        #: approximates the reference.
        self.lossy_rows: NDArray[np.bool_] = np.zeros((damage.layout.height, shape[1]), np.bool_)
        self._bands = np.arange(0, damage.layout.height, TILE)
        self._motion = np.zeros(shape, np.uint16)
        self._quiet = np.zeros(shape, np.uint16)
        self._changed: Tiles = np.zeros(shape, np.bool_)
        #: Whether this update copied a scroll.
        self._scrolled = False
        self._crf = crf

    @property
    def active(self) -> bool:
        """Whether an update without damage may still have something to do."""
        return bool(self.regions) or bool(self.lossy_rows.any())

    @property
    def lossy(self) -> Tiles:
        """The tiles with lossy rows."""
        tiles: Tiles = np.logical_or.reduceat(self.lossy_rows, self._bands, axis=0)
        return tiles

    def mask(self) -> Tiles:
        """The tiles inside a region."""
        inside = np.zeros_like(self._changed)
        for region in self.regions:
            tx0, ty0, tx1, ty1 = region.tiles
            inside[ty0:ty1, tx0:tx1] = True
        return inside

    def restart(self) -> None:
        """A keyframe of the same size: everything is sent again, regions restart."""
        self.lossy_rows[:] = False
        for region in self.regions:
            region.started = False

    def moved(self, scroll: Scroll) -> None:
        """The decoder copied rows of pixels: lossy pixels stay lossy where they land, and
        a region the copy covers entirely ends (its picture moved away)."""
        self._scrolled = True
        c0, c1 = scroll.x // TILE, -(-(scroll.x + scroll.width) // TILE)
        top, bottom = scroll.y, scroll.y + scroll.height
        self._changed[top // TILE : -(-bottom // TILE), c0:c1] = True
        for region in list(self.regions):
            x0, y0, x1, y1 = region.box
            if scroll.x <= x0 and x1 <= scroll.x + scroll.width and top <= y0 and y1 <= bottom:
                self._end(region)
        if not self.lossy_rows[:, c0:c1].any():
            return
        source = self.lossy_rows[top - scroll.dy : bottom - scroll.dy, c0:c1].copy()
        whole0, whole1 = self._whole_columns(scroll.x, scroll.x + scroll.width)
        target = self.lossy_rows[top:bottom]
        # Columns the copy covers only in part keep their own lossy rows too.
        target[:, c0:c1] |= source
        target[:, whole0:whole1] = source[:, whole0 - c0 : whole1 - c0]

    def observe(self, frame: BgraFrame, damaged: Tiles) -> None:
        """Counts motion; ends the regions whose content is no longer video and shrinks
        those whose damage keeps to a small part of them."""
        np.add(self._motion, 1, out=self._motion, where=self._motion < _COUNTER_MAX)
        self._motion[~damaged] = 0
        self._changed |= damaged
        for region in list(self.regions):
            tx0, ty0, tx1, ty1 = region.tiles
            hit = damaged[ty0:ty1, tx0:tx1]
            region.idle += 1
            region.window += 1
            if hit.any():
                ys, xs = np.nonzero(hit)
                box = (
                    tx0 + int(xs.min()),
                    ty0 + int(ys.min()),
                    tx0 + int(xs.max()) + 1,
                    ty0 + int(ys.max()) + 1,
                )
                region.recent = box if region.recent is None else union(region.recent, box)
                if ys.size > SAMPLE_TILES:
                    pick = np.linspace(0, ys.size - 1, SAMPLE_TILES).astype(np.intp)
                    ys, xs = ys[pick], xs[pick]
                colourful = _any_colourful(frame, ys + ty0, xs + tx0)
                region.calm = not colourful
                if colourful:
                    region.idle = 0
            if region.idle >= (CALM_UPDATES if region.calm else IDLE_UPDATES):
                self._end(region)
                if region.calm:  # text again: no need to wait before making it exact
                    self._quiet[ty0:ty1, tx0:tx1] = QUIET_UPDATES
            elif region.window >= SHRINK_UPDATES:
                recent, region.recent, region.window = region.recent, None, 0
                if recent is not None and 2 * _area(recent) <= _area(region.tiles):
                    region.tiles, region.box = recent, self._damage.pixel_box(recent)
                    region.started = False

    def candidates(
        self,
        frame: BgraFrame,
        damaged: Tiles,
        rectangles: Iterable[tuple[Box, int | None]],
    ) -> Tiles:
        """Damaged tiles that should join a region, given this update's lossless
        rectangles outside regions and their colour counts (None: more than 256)."""
        # Only a rectangle of more than 256 colours can hold a colourful quarter, and of
        # more than EDGE_COLOURS one at the lower bar: the others are not looked at.
        many, some = np.zeros_like(damaged), np.zeros_like(damaged)
        for (x0, y0, x1, y1), colours in rectangles:
            if colours is None or colours > EDGE_COLOURS:
                rows = slice(y0 // TILE, -(-y1 // TILE))
                cols = slice(x0 // TILE, -(-x1 // TILE))
                (many if colours is None else some)[rows, cols] |= damaged[rows, cols]
        moving = self._motion >= MOTION_UPDATES
        many &= moving
        some &= moving & ~many
        found = np.zeros_like(damaged)
        ys, xs = np.nonzero(many)
        most = _quarter_colours(frame, ys, xs)
        found[ys, xs] = most > QUARTER_COLOURS
        # The edge of a video rarely fills a quarter of its tiles with colours.
        near = _grown(found | self.mask())
        edge = near[ys, xs] & (most > EDGE_COLOURS)
        found[ys[edge], xs[edge]] = True
        ys, xs = np.nonzero(some & near)
        found[ys, xs] = _quarter_colours(frame, ys, xs) > EDGE_COLOURS
        return found

    def plan(self, candidates: Tiles) -> bool:
        """Grows or starts regions to cover the candidates where the limits allow.
        Returns whether any region changed."""
        changed = False
        for cluster in _merged(damaged_cells(candidates), JOIN_GAP):
            changed |= self._place(cluster)
        return changed

    def encode(self, frame: BgraFrame, damaged: Tiles) -> list[VideoPicture]:
        """One picture for each region that is damaged or must (re)start. A region whose
        picture would pass the packet limit ends instead (its tiles go lossless)."""
        pictures = []
        for region in list(self.regions):
            tx0, ty0, tx1, ty1 = region.tiles
            if region.started and not damaged[ty0:ty1, tx0:tx1].any():
                continue
            x0, y0, x1, y1 = region.box
            width, height = x1 - x0, y1 - y0
            region.steady = 0 if self._scrolled else region.steady + 1
            steady = region.steady >= STEADY_PICTURES
            encoder = region.encoder
            if encoder is not None and steady and encoder.preset != STEADY_PRESET:
                encoder, region.started = None, False  # a new stream: a START record
            if encoder is None or (encoder.width, encoder.height) != (width, height):
                # A new encoder's first picture is an IDR picture anyway.
                preset = STEADY_PRESET if steady else None
                encoder = H264Encoder(width, height, crf=self._crf, preset=preset)
                region.encoder = encoder
                idr = False
            else:
                idr = not region.started
            packet = encoder.encode(frame[y0:y1, x0:x1], idr=idr)
            if len(packet) > max_video_packet(width, height):
                self._end(region)
                continue
            pictures.append(VideoPicture(region, packet, start=not region.started))
            region.started = True
            self.lossy_rows[y0:y1, tx0:tx1] = True
            self._changed[ty0:ty1, tx0:tx1] = True
        return pictures

    def painted_exactly(self, box: Box) -> None:
        """A lossless rectangle was sent: its rows are exact again in the tile columns
        it covers whole."""
        x0, y0, x1, y1 = box
        tx0, tx1 = self._whole_columns(x0, x1)
        self.lossy_rows[y0:y1, tx0:tx1] = False

    def refresh_tiles(self) -> Tiles | None:
        """Lossy tiles outside regions that have been quiet long enough, at most
        REFRESH_TILES of them, or None: send them losslessly (then `painted_exactly`)."""
        if not self.lossy_rows.any():
            return None
        ready = self.lossy & ~self._changed & (self._quiet >= QUIET_UPDATES) & ~self.mask()
        chosen = np.flatnonzero(ready)
        if chosen.size == 0:
            return None
        if chosen.size > REFRESH_TILES:
            ready = np.zeros_like(ready)
            ready.flat[chosen[:REFRESH_TILES]] = True
        return ready

    def unchanged(self) -> None:
        """An update in which nothing changed and nothing was sent (and `active` was
        False): only the counters move."""
        self._motion[:] = 0
        self.end_update()

    def end_update(self) -> None:
        self._scrolled = False
        np.add(self._quiet, 1, out=self._quiet, where=self._quiet < _COUNTER_MAX)
        self._quiet[self._changed] = 0
        self._changed[:] = False

    def _place(self, cluster: Box) -> bool:
        near = [r for r in self.regions if _near(r.tiles, cluster, JOIN_GAP)]
        box = union(cluster, *(r.tiles for r in near))
        while True:
            more = [r for r in self.regions if r not in near and _overlaps(r.tiles, box)]
            if not more:
                break
            near += more
            box = union(box, *(r.tiles for r in more))
        if not self._fits(box):
            if any(_overlaps(r.tiles, cluster) for r in self.regions):
                return False
            near, box = [], self._clipped(cluster)
        streams = sorted(r.stream for r in near)
        free = sorted(set(range(MAX_VIDEO_STREAMS)) - {r.stream for r in self.regions})
        stream = streams[0] if streams else (free[0] if free else None)
        if stream is None:
            return False
        keep = next((r for r in near if r.stream == stream), None)
        for region in near:
            if region is not keep:
                self._end(region)
        if keep is None:
            keep = VideoRegion(stream, box, self._damage.pixel_box(box))
            self.regions.append(keep)
        else:
            keep.tiles, keep.box = box, self._damage.pixel_box(box)
            keep.started = False
        keep.calm, keep.idle, keep.window, keep.recent = False, 0, 0, None
        return True

    def _whole_columns(self, x0: int, x1: int) -> tuple[int, int]:
        """The tile columns [x0, x1) covers whole (the last one may end at the edge)."""
        columns = self.lossy_rows.shape[1]
        return -(-x0 // TILE), columns if x1 == self._damage.layout.width else x1 // TILE

    def _fits(self, tiles: Box) -> bool:
        x0, y0, x1, y1 = self._damage.pixel_box(tiles)
        return video_region_fits(x1 - x0, y1 - y0)

    def _clipped(self, tiles: Box) -> Box:
        """The largest top-left part of `tiles` that may be a region."""
        tx0, ty0, tx1, ty1 = tiles
        while not self._fits((tx0, ty0, tx1, ty1)):
            if tx1 - tx0 >= ty1 - ty0:
                tx1 -= 1
            else:
                ty1 -= 1
        return tx0, ty0, tx1, ty1

    def _end(self, region: VideoRegion) -> None:
        self.regions.remove(region)
        region.encoder = None


def _any_colourful(frame: BgraFrame, ys: NDArray[np.intp], xs: NDArray[np.intp]) -> bool:
    """Whether any of the tiles (ys[i], xs[i]) has a quarter of more than
    QUARTER_COLOURS colours. A few tiles spread over the list are judged first: in a
    video one of them almost always is, and the rest need not be counted (a sort per
    quarter: about 0.7 ms an update for a 640×448 region of 64 damaged tiles)."""
    first = np.arange(0, ys.size, max(1, ys.size // FIRST_LOOK))
    if (_quarter_colours(frame, ys[first], xs[first]) > QUARTER_COLOURS).any():
        return True
    rest = np.ones(ys.size, np.bool_)
    rest[first] = False
    return bool((_quarter_colours(frame, ys[rest], xs[rest]) > QUARTER_COLOURS).any())


def _quarter_colours(
    frame: BgraFrame, ys: NDArray[np.intp], xs: NDArray[np.intp]
) -> NDArray[np.intp]:
    """For each tile (ys[i], xs[i]), the most distinct colours any of its QUARTER×QUARTER
    quarters has, counting every pixel (a sort). A quarter that would cross the frame's
    bottom or right edge is taken just inside it."""
    if ys.size == 0:
        return np.zeros(0, np.intp)
    pixels = pixels_u32(frame)
    height, width = pixels.shape
    side_y, side_x = min(QUARTER, height), min(QUARTER, width)
    per = TILE // QUARTER
    tops = np.repeat(ys[:, None] * per + np.arange(per), per, axis=1).ravel() * QUARTER
    lefts = np.tile(xs[:, None] * per + np.arange(per), (1, per)).ravel() * QUARTER
    windows = sliding_window_view(pixels, (side_y, side_x))
    quarters = windows[np.minimum(tops, height - side_y), np.minimum(lefts, width - side_x)]
    samples = np.bitwise_and(quarters.reshape(tops.size, side_y * side_x), _OPAQUE)
    samples.sort(axis=1)
    distinct = 1 + np.count_nonzero(samples[:, 1:] != samples[:, :-1], axis=1)
    most: NDArray[np.intp] = distinct.reshape(ys.size, per * per).max(axis=1)
    return most


def _grown(tiles: Tiles) -> Tiles:
    """`tiles` and every tile next to one (diagonals included)."""
    out = tiles.copy()
    out[1:] |= tiles[:-1]
    out[:-1] |= tiles[1:]
    grown = out.copy()
    grown[:, 1:] |= out[:, :-1]
    grown[:, :-1] |= out[:, 1:]
    return grown


def _merged(boxes: list[Box], gap: int) -> list[Box]:
    """Merges boxes (of tiles) that are at most `gap` tiles apart, until none are."""
    merged: list[Box] = []
    for box in boxes:
        while True:
            close = [m for m in merged if _near(m, box, gap)]
            if not close:
                break
            merged = [m for m in merged if not _near(m, box, gap)]
            box = union(box, *close)
        merged.append(box)
    return merged


def _near(a: Box, b: Box, gap: int) -> bool:
    """Whether at most `gap` tiles separate the boxes (end-exclusive), each way."""
    return a[0] <= b[2] + gap and b[0] <= a[2] + gap and a[1] <= b[3] + gap and b[1] <= a[3] + gap


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
