"""The sending side: BGRA frames in, screen updates (bytes) out. No I/O, no clock.

Text and flat UI go lossless (palettes, zstd, scroll copies); colourful or moving regions
go through H.264 (common/codec/video_regions.py decides which).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from common.codec.damage import TILE, Box, TileDamage, covering_boxes
from common.codec.frame_words import BgraFrame, FrameWords, Words, opaque, pixels_u32
from common.codec.h264 import CRF
from common.codec.palette import Palettes, colour_bytes, distinct_colours, pack_indices
from common.codec.scroll import RowHashes, Scroll, changed_tiles, find_scroll
from common.codec.video_regions import VideoPicture, VideoRegions
from common.codec.wire_format import (
    BYTES_PER_PIXEL,
    COPY_SOURCE,
    MAX_DIMENSION,
    RECORD_HEADER,
    VIDEO_HEADER,
    VIDEO_START,
    Rect,
    RectType,
    UpdateHeader,
    pack_header,
    palette_bits,
)
from common.codec.zstd_stream import CompressionStream, StreamMode

#: An update's body is cut here (8 MiB before compression, so well under the 16 MiB
#: VIDEO message limit after it); the rest of the records go in the next update.
SPLIT_BODY = 8 * 1024 * 1024
#: Scroll detection runs only when at least this many tiles changed.
SCROLL_MIN_TILES = 4
#: zstd's long-distance matching (`StreamMode.LONG`) goes off after this many updates
#: in a row with bodies over `LARGE_BODY` (a terminal scrolling fast: a quarter of a
#: second) or mostly of H.264 (a video playing, where it finds nothing and costs 0.3–0.4
#: ms an update of a 640×360 video), and on again after `LONG_MATCHES_ON_AFTER` small
#: ones in a row. A single large update, such as a window brought back, does not switch
#: it off: that is the update it is for. While the bodies are mostly H.264 the stream
#: runs `StreamMode.FAST`, else `StreamMode.PLAIN`; that too changes after this many
#: bodies in a row of the other kind. Each change starts a new zstd stream
#: (`new_stream`).
LARGE_BODY = 128 * 1024
LONG_MATCHES_OFF_AFTER = 8
LONG_MATCHES_ON_AFTER = 60

#: A rectangle's sorted distinct colours, or None above 256.
Colours = NDArray[np.uint32] | None


@dataclass(slots=True)
class EncoderStats:
    """Running totals, for benchmarks and the debug overlay."""

    frames: int = 0
    updates: int = 0
    keyframes: int = 0
    bytes_out: int = 0
    copy_records: int = 0
    fill_records: int = 0
    palette_records: int = 0
    raw_records: int = 0
    video_records: int = 0
    #: VIDEO records that (re)started their region's H.264 stream.
    video_starts: int = 0
    video_bytes: int = 0
    #: Lossless records that refreshed lossy tiles nobody changed ("build to lossless").
    refresh_records: int = 0
    #: Updates that started a new zstd stream to switch long-distance matching.
    new_streams: int = 0


class ScreenEncoder:
    """Turns successive frames of one screen into updates for one stream.

    Every update `encode` returns must reach the decoder, in order, and none may be
    dropped or replaced by a newer one: each refers to the pictures before it. To skip
    frames under back-pressure, do not capture (or do not call `encode`) until the link is
    writable again; the next update then carries everything that changed in between.
    To let a new viewer or a recorder join, pass `force_keyframe=True`.

    With `video=False` every pixel goes lossless (no H.264 regions); `crf` is x264's
    quality for video regions (lower is better and bigger).
    """

    def __init__(self, *, video: bool = True, crf: int = CRF) -> None:
        #: What the decoder's framebuffer holds once it applied every update so far
        #: (kept as BGRA; its alpha bytes are meaningless), except in the tiles
        #: `lossy_rects` lists, where the decoder shows an H.264 approximation of it.
        self._reference: BgraFrame | None = None
        self._layout: FrameWords | None = None
        self._damage: TileDamage | None = None
        self._video_enabled = video
        self._crf = crf
        self._video: VideoRegions | None = None
        #: Row hashes of the last frame sent, valid while it is the reference.
        self._hashes: RowHashes | None = None
        #: Whether the last update was a scroll (the next one probably is too).
        self._scrolling = False
        self._stream = CompressionStream()
        #: Bodies in a row: mostly H.264; not so; over `LARGE_BODY` or mostly H.264; neither.
        self._video_bodies = self._other_bodies = self._large_bodies = self._small_bodies = 0
        self._palettes = Palettes()
        self._seq = 0
        self.stats = EncoderStats()

    def encode(
        self, frame: BgraFrame, *, force_keyframe: bool = False, changed: Box | None = None
    ) -> list[bytes]:
        """Encodes `frame` (height × width × 4 uint8, B G R and an ignored alpha byte).

        Returns the updates to send, in order: none when nothing changed, usually one,
        several when a huge keyframe is split. A frame of a new size starts a keyframe.

        `changed` (x0, y0, x1, y1, pixels, end-exclusive) is where the frame may differ
        from the last one encoded, when the OS keeps track (X DAMAGE): only there is it
        compared. An empty box says nothing changed. None: anywhere may have.
        """
        frame = _checked(frame)
        self.stats.frames += 1
        reference = self._reference
        if force_keyframe or reference is None or reference.shape != frame.shape:
            return self._keyframe(frame)
        assert self._layout is not None and self._damage is not None
        layout, damage = self._layout, self._damage
        current, before = layout.view(frame), layout.view(reference)
        scroll = self._damage_after_scroll(current, before, changed)
        idle = self._video is None or not self._video.active
        if scroll is None and idle and not damage.tiles.any():
            if self._video is not None:
                self._video.unchanged()
            return []
        records = []
        if scroll is not None:
            records.append(_copy_record(scroll))
            self.stats.copy_records += 1
            if self._video is not None:
                self._video.moved(scroll)
        # The update brings the decoder to this frame everywhere: exactly, or in lossy
        # tiles as the H.264 picture of it that the reference stands for. After a scroll,
        # one contiguous copy of the frame is cheaper than moving the scrolled rows and
        # writing each rectangle; otherwise the rectangles are written as they are sent.
        changes, video = self._changes(frame, keyframe=False, write_reference=scroll is None)
        records += changes
        if scroll is not None:
            np.copyto(reference, frame)
        if not records:
            return []
        return self._pack(records, keyframe=False, video=video)

    def lossy_rects(self) -> list[Rect]:
        """Where the decoder's picture is an H.264 approximation of the last frame (whole
        tiles); everywhere else it is exact. For tests, benchmarks and a debug overlay."""
        if self._video is None or self._damage is None:
            return []
        rects = []
        for tiles in covering_boxes(self._video.lossy):
            x0, y0, x1, y1 = self._damage.pixel_box(tiles)
            rects.append(Rect(x0, y0, x1 - x0, y1 - y0))
        return rects

    def _keyframe(self, frame: BgraFrame) -> list[bytes]:
        height, width = frame.shape[:2]
        if self._layout is None or (self._layout.width, self._layout.height) != (width, height):
            self._layout = FrameWords.for_size(width, height)
            self._damage = TileDamage(self._layout)
            self._video = VideoRegions(self._damage, crf=self._crf) if self._video_enabled else None
        elif self._video is not None:
            self._video.restart()
        assert self._damage is not None
        self._reference = frame.copy()
        self._hashes = None
        self._scrolling = False
        self._stream.restart()
        self.stats.keyframes += 1
        self._damage.tiles[:] = True
        records, video = self._changes(frame, keyframe=True)
        return self._pack(records, keyframe=True, video=video)

    def _changes(
        self, frame: BgraFrame, *, keyframe: bool, write_reference: bool = False
    ) -> tuple[list[bytes], int]:
        """The VIDEO and pixel records for this frame's damage (after any scroll), plus
        lossless refreshes, and how many of their bytes are H.264. With
        `write_reference`, writes what they paint into the reference; otherwise the
        caller brings it up to date."""
        assert self._damage is not None and self._reference is not None
        reference, video = self._reference, self._video
        rectangles = _Rectangles(self._damage, frame, tighten=not keyframe)
        pictures: list[VideoPicture] = []
        if video is None:
            boxes = rectangles.outside(None)
        else:
            pictures, boxes = self._video_pictures(video, frame, rectangles)
        records = [self._video_record(picture) for picture in pictures]
        video_bytes = sum(len(picture.packet) for picture in pictures)
        for picture in pictures if write_reference else ():
            x0, y0, x1, y1 = picture.region.box
            reference[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
        # Only lossy rows can be made exact again: most updates have none.
        lossy = video is not None and bool(video.lossy_rows.any())
        for box in boxes:
            records.append(self._pixel_record(frame, box, rectangles))
            if write_reference:
                x0, y0, x1, y1 = box
                reference[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
            if lossy:
                assert video is not None
                video.painted_exactly(box)
        if video is not None:
            refresh = video.refresh_tiles()
            if refresh is not None:
                # The reference already holds these pixels: nothing there changed.
                for box in rectangles.covering(refresh):
                    records.append(self._pixel_record(frame, box, rectangles))
                    video.painted_exactly(box)
                    self.stats.refresh_records += 1
            video.end_update()
        return records, video_bytes

    def _video_pictures(
        self, video: VideoRegions, frame: BgraFrame, rectangles: _Rectangles
    ) -> tuple[list[VideoPicture], list[Box]]:
        """Updates the video regions with this frame's damage and encodes their pictures.
        Returns them and the lossless rectangles: the damage outside every region."""
        damaged = rectangles.damage.tiles.copy()
        video.observe(frame, damaged)
        inside = video.mask()
        boxes = rectangles.outside(inside)
        counts = [(box, _colour_count(rectangles.colours(box))) for box in boxes]
        candidates = video.candidates(frame, damaged, counts)
        if candidates.any():
            video.plan(candidates)
        pictures = video.encode(frame, damaged)
        now_inside = video.mask()
        if not np.array_equal(now_inside, inside):
            boxes = rectangles.outside(now_inside)
        return pictures, boxes

    def _damage_after_scroll(
        self, current: Words, reference: Words, changed: Box | None
    ) -> Scroll | None:
        """Computes the damage of the frame (only `changed` when not None), after the
        scroll it returns if it finds one.

        While the screen keeps scrolling (the last update was a copy), the scroll is
        looked for first, on row hashes of the whole frame, and the exact damage then
        takes one pass; otherwise the damage comes first and a scroll is looked for only
        where it is."""
        assert self._damage is not None
        nothing = changed is not None and (changed[0] >= changed[2] or changed[1] >= changed[3])
        if self._scrolling and not nothing:
            scroll = self._scroll_from_hashes(current, reference)
            moved = None if scroll is None else (_box(scroll), scroll.source_y)
            self._damage.compare(current, reference, moved)
        else:
            self._damage.compare(current, reference, within=changed)
            damaged = bool(self._damage.tiles.any())
            scroll = self._try_scroll(current, reference) if damaged else None
        self._scrolling = scroll is not None
        return scroll

    def _scroll_from_hashes(self, current: Words, reference: Words) -> Scroll | None:
        """The scroll from the reference to `current`, judged on the row hashes of the
        whole frames alone, if copying it leaves fewer tiles changed."""
        assert self._layout is not None and self._damage is not None
        layout = self._layout
        whole = (0, 0, layout.words_per_row, layout.height)
        previous = self._hashes
        now = self._hashes = RowHashes(layout, current, whole, self._damage.tile_words)
        if previous is None or previous.region != whole:
            previous = RowHashes(layout, reference, whole, self._damage.tile_words)
        changed = changed_tiles(layout, now, previous)
        if changed < SCROLL_MIN_TILES:
            return None
        scroll = find_scroll(layout, now, previous)
        if scroll is None or changed_tiles(layout, now, previous, scroll) >= changed:
            return None
        return scroll

    def _try_scroll(self, current: Words, reference: Words) -> Scroll | None:
        """Finds a scroll and, if copying it leaves fewer damaged tiles, updates the
        damage as if it were applied and returns it (the caller applies it)."""
        assert self._layout is not None and self._damage is not None
        layout, damage = self._layout, self._damage
        previous, self._hashes = self._hashes, None
        damaged = int(damage.tiles.sum())
        if damaged < SCROLL_MIN_TILES:
            return None
        # A playing video changes every update: when hardly anything changed beside the
        # video regions, no scroll is looked for (hashing a 640×448 region costs about
        # 0.3 ms an update, in vain); motion inside a region is x264's business.
        video = self._video
        if (
            video is not None
            and video.regions
            and np.count_nonzero(damage.tiles & ~video.mask()) < SCROLL_MIN_TILES
        ):
            return None
        rows = np.flatnonzero(damage.tiles.any(axis=1))
        cols = np.flatnonzero(damage.tiles.any(axis=0))
        stripe = damage.tile_words
        region = (
            int(cols[0]) * stripe,
            int(rows[0]) * TILE,
            min((int(cols[-1]) + 1) * stripe, layout.words_per_row),
            min((int(rows[-1]) + 1) * TILE, layout.height),
        )
        now = RowHashes(layout, current, region, stripe)
        # After this update the reference will equal this frame, so these hashes will
        # describe the next frame's reference.
        self._hashes = now
        if previous is None or previous.region != region:
            previous = RowHashes(layout, reference, region, stripe)
        scroll = find_scroll(layout, now, previous)
        if scroll is None:
            return None
        box = _box(scroll)
        damage.compare_moved(current, reference, box, scroll.source_y)
        if int(damage.tiles.sum()) < damaged:
            return scroll
        damage.compare_moved(current, reference, box, scroll.y)
        return None

    def _pixel_record(self, frame: BgraFrame, box: Box, rectangles: _Rectangles) -> bytes:
        x0, y0, x1, y1 = box
        width, height = x1 - x0, y1 - y0
        header = (x0, y0, width, height)
        colours = rectangles.colours(box)
        if colours is not None:
            if colours.size == 1:
                self.stats.fill_records += 1
                return RECORD_HEADER.pack(RectType.FILL, *header) + colour_bytes(colours)
            palette, indices = self._palettes.index(colours, rectangles.opaque(box))
            bits = palette_bits(palette.size)
            payload = (
                bytes((palette.size - 1,)) + colour_bytes(palette) + pack_indices(indices, bits)
            )
            if len(payload) < BYTES_PER_PIXEL * width * height:
                self.stats.palette_records += 1
                return RECORD_HEADER.pack(RectType.PALETTE, *header) + payload
        self.stats.raw_records += 1
        return RECORD_HEADER.pack(RectType.RAW, *header) + _bgr_bytes(frame, box)

    def _video_record(self, picture: VideoPicture) -> bytes:
        x0, y0, x1, y1 = picture.region.box
        flags = VIDEO_START if picture.start else 0
        self.stats.video_records += 1
        self.stats.video_starts += picture.start
        self.stats.video_bytes += len(picture.packet)
        return (
            RECORD_HEADER.pack(RectType.VIDEO, x0, y0, x1 - x0, y1 - y0)
            + VIDEO_HEADER.pack(picture.region.stream, flags, len(picture.packet))
            + picture.packet
        )

    def _pack(self, records: list[bytes], *, keyframe: bool, video: int) -> list[bytes]:
        """The updates carrying `records`, of which `video` bytes are H.264."""
        assert self._layout is not None
        bodies: list[list[bytes]] = [[]]
        size = 0
        for record in records:
            if size and size + len(record) > SPLIT_BODY:
                bodies.append([])
                size = 0
            bodies[-1].append(record)
            size += len(record)
        updates = []
        for index, parts in enumerate(bodies):
            body = b"".join(parts)
            starts = keyframe and index == 0  # the keyframe has just restarted the stream
            # `video` counts the whole update: when it is split, its bodies but the last
            # are over LARGE_BODY anyway.
            switched = self._switch_mode(len(body), video, restart=not starts)
            header = UpdateHeader(
                keyframe=starts,
                seq=self._seq,
                width=self._layout.width,
                height=self._layout.height,
                body_length=len(body),
                new_stream=switched,
            )
            self._seq = (self._seq + 1) & 0xFFFFFFFF
            update = pack_header(header) + (self._stream.compress_update(body) if body else b"")
            updates.append(update)
            self.stats.updates += 1
            self.stats.bytes_out += len(update)
        return updates

    def _switch_mode(self, length: int, video: int, *, restart: bool) -> bool:
        """Counts a body of `length` bytes, `video` of them H.264; returns True when it
        must start a new zstd stream in another `StreamMode` (`restart` False: the
        stream is new anyway, and takes the change without saying so)."""
        if not length:
            return False
        mostly_video = 2 * video > length
        large = mostly_video or length > LARGE_BODY
        self._video_bodies = self._video_bodies + 1 if mostly_video else 0
        self._other_bodies = 0 if mostly_video else self._other_bodies + 1
        self._large_bodies = self._large_bodies + 1 if large else 0
        self._small_bodies = 0 if large else self._small_bodies + 1
        mode = now = self._stream.mode
        if now == StreamMode.LONG and self._large_bodies >= LONG_MATCHES_OFF_AFTER:
            video_run = self._video_bodies >= LONG_MATCHES_OFF_AFTER
            mode = StreamMode.FAST if video_run else StreamMode.PLAIN
        elif now == StreamMode.PLAIN and self._video_bodies >= LONG_MATCHES_OFF_AFTER:
            mode = StreamMode.FAST
        elif now == StreamMode.FAST and self._other_bodies >= LONG_MATCHES_OFF_AFTER:
            mode = StreamMode.PLAIN
        elif now != StreamMode.LONG and self._small_bodies >= LONG_MATCHES_ON_AFTER:
            mode = StreamMode.LONG
        if mode == now:
            return False
        self._stream.restart(mode)
        if not restart:
            return False
        self.stats.new_streams += 1
        return True


class _Rectangles:
    """The lossless rectangles of one update, each one's colours found once however often
    the video regions change the plan."""

    def __init__(self, damage: TileDamage, frame: BgraFrame, *, tighten: bool) -> None:
        self.damage = damage
        self._pixels = pixels_u32(frame)
        self._tighten = tighten
        self._opaque: dict[Box, NDArray[np.uint32]] = {}
        self._colours: dict[Box, Colours] = {}

    def outside(self, inside: NDArray[np.bool_] | None) -> list[Box]:
        """Rectangles covering the damaged tiles that are not `inside` a video region."""
        tiles = self.damage.tiles if inside is None else self.damage.tiles & ~inside
        return self.damage.damaged_boxes(tighten=self._tighten, tiles=tiles)

    def covering(self, tiles: NDArray[np.bool_]) -> list[Box]:
        """Whole-tile rectangles covering `tiles`, damaged or not."""
        return self.damage.damaged_boxes(tighten=False, tiles=tiles)

    def opaque(self, box: Box) -> NDArray[np.uint32]:
        """The box's pixels with the alpha byte cleared."""
        if box not in self._opaque:
            x0, y0, x1, y1 = box
            self._opaque[box] = opaque(self._pixels[y0:y1, x0:x1])
        return self._opaque[box]

    def colours(self, box: Box) -> Colours:
        if box not in self._colours:
            self._colours[box] = distinct_colours(self.opaque(box))
        return self._colours[box]


def _colour_count(colours: Colours) -> int | None:
    return None if colours is None else int(colours.size)


@functools.lru_cache(maxsize=64)
def _bgr_columns(width: int) -> NDArray[np.intp]:
    """The byte columns of a row of `width` BGRA pixels that hold B, G and R."""
    columns: NDArray[np.intp] = np.arange(4 * width).reshape(width, 4)[:, :3].ravel()
    return columns


def _bgr_bytes(frame: BgraFrame, box: Box) -> bytes:
    """The box's pixels as B G R bytes. A `take` of the byte columns is about twice as
    fast as copying the strided `[..., :3]` view."""
    x0, y0, x1, y1 = box
    rows = frame[y0:y1, x0:x1].reshape(y1 - y0, 4 * (x1 - x0))
    return rows.take(_bgr_columns(x1 - x0), axis=1).tobytes()


def _box(scroll: Scroll) -> Box:
    return (scroll.x, scroll.y, scroll.x + scroll.width, scroll.y + scroll.height)


def _copy_record(scroll: Scroll) -> bytes:
    header = RECORD_HEADER.pack(RectType.COPY, scroll.x, scroll.y, scroll.width, scroll.height)
    return header + COPY_SOURCE.pack(scroll.x, scroll.source_y)


def _checked(frame: BgraFrame) -> BgraFrame:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise TypeError("A frame must be a numpy array of uint8.")
    if frame.ndim != 3 or frame.shape[2] != 4:
        raise ValueError(f"A frame must be height × width × 4 (BGRA), not {frame.shape}.")
    height, width = frame.shape[:2]
    if not (1 <= width <= MAX_DIMENSION and 1 <= height <= MAX_DIMENSION):
        raise ValueError(f"A {width}×{height} frame is outside 1…{MAX_DIMENSION} pixels.")
    return np.ascontiguousarray(frame)
