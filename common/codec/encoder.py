"""The sending side: BGRA frames in, screen updates (bytes) out. No I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.codec.damage import TILE, TileDamage
from common.codec.frame_words import BgraFrame, FrameWords, Words, opaque, pixels_u32
from common.codec.palette import colour_bytes, find_palette, pack_indices
from common.codec.scroll import RowHashes, Scroll, find_scroll
from common.codec.wire_format import (
    BYTES_PER_PIXEL,
    COPY_SOURCE,
    MAX_DIMENSION,
    RECORD_HEADER,
    RectType,
    UpdateHeader,
    pack_header,
    palette_bits,
)
from common.codec.zstd_stream import CompressionStream

#: An update's body is cut here (8 MiB before compression, so well under the 16 MiB
#: VIDEO message limit after it); the rest of the records go in the next update.
SPLIT_BODY = 8 * 1024 * 1024
#: Scroll detection runs only when at least this many tiles changed.
SCROLL_MIN_TILES = 4


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


class ScreenEncoder:
    """Turns successive frames of one screen into updates for one stream.

    Every update `encode` returns must reach the decoder, in order, and none may be
    dropped or replaced by a newer one: each refers to the pictures before it. To skip
    frames under back-pressure, do not capture (or do not call `encode`) until the link is
    writable again; the next update then carries everything that changed in between.
    To let a new viewer or a recorder join, pass `force_keyframe=True`.
    """

    def __init__(self) -> None:
        #: What the decoder's framebuffer holds once it applied every update so far
        #: (kept as BGRA; its alpha bytes are meaningless).
        self._reference: BgraFrame | None = None
        self._layout: FrameWords | None = None
        self._damage: TileDamage | None = None
        #: Row hashes of the last frame sent, valid while it is the reference.
        self._hashes: RowHashes | None = None
        self._stream = CompressionStream()
        self._seq = 0
        self.stats = EncoderStats()

    def encode(self, frame: BgraFrame, *, force_keyframe: bool = False) -> list[bytes]:
        """Encodes `frame` (height × width × 4 uint8, B G R and an ignored alpha byte).

        Returns the updates to send, in order: none when nothing changed, usually one,
        several when a huge keyframe is split. A frame of a new size starts a keyframe.
        """
        frame = _checked(frame)
        self.stats.frames += 1
        reference = self._reference
        if force_keyframe or reference is None or reference.shape != frame.shape:
            return self._keyframe(frame)
        assert self._layout is not None and self._damage is not None
        layout, damage = self._layout, self._damage
        current, before = layout.view(frame), layout.view(reference)
        damage.compare(current, before)
        if not damage.tiles.any():
            return []
        records = []
        scroll = self._try_scroll(current, before)
        if scroll is not None:
            records.append(_copy_record(scroll))
            self.stats.copy_records += 1
            y0, x0, x1 = scroll.y, scroll.x, scroll.x + scroll.width
            source = reference[scroll.source_y : scroll.source_y + scroll.height, x0:x1]
            reference[y0 : y0 + scroll.height, x0:x1] = source
        pixels = pixels_u32(frame)
        for x0, y0, x1, y1 in damage.damaged_boxes(tighten=True):
            records.append(self._pixel_record(frame, pixels, x0, y0, x1, y1))
            reference[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
        return self._pack(records, keyframe=False)

    def _keyframe(self, frame: BgraFrame) -> list[bytes]:
        height, width = frame.shape[:2]
        if self._layout is None or (self._layout.width, self._layout.height) != (width, height):
            self._layout = FrameWords.for_size(width, height)
            self._damage = TileDamage(self._layout)
        assert self._damage is not None
        self._reference = frame.copy()
        self._hashes = None
        self._stream.restart()
        self.stats.keyframes += 1
        self._damage.tiles[:] = True
        pixels = pixels_u32(frame)
        records = [
            self._pixel_record(frame, pixels, *box)
            for box in self._damage.damaged_boxes(tighten=False)
        ]
        return self._pack(records, keyframe=True)

    def _try_scroll(self, current: Words, reference: Words) -> Scroll | None:
        """Finds a scroll and, if copying it leaves fewer damaged tiles, updates the
        damage as if it were applied and returns it (the caller applies it)."""
        assert self._layout is not None and self._damage is not None
        layout, damage = self._layout, self._damage
        previous, self._hashes = self._hashes, None
        damaged = int(damage.tiles.sum())
        if damaged < SCROLL_MIN_TILES:
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
        box = (scroll.x, scroll.y, scroll.x + scroll.width, scroll.y + scroll.height)
        damage.compare_moved(current, reference, box, scroll.source_y)
        if int(damage.tiles.sum()) < damaged:
            return scroll
        damage.compare_moved(current, reference, box, scroll.y)
        return None

    def _pixel_record(
        self, frame: BgraFrame, pixels: np.ndarray, x0: int, y0: int, x1: int, y1: int
    ) -> bytes:
        width, height = x1 - x0, y1 - y0
        header = (x0, y0, width, height)
        block = opaque(pixels[y0:y1, x0:x1])
        found = find_palette(block)
        if found is not None:
            colours, indices = found
            if colours.size == 1:
                self.stats.fill_records += 1
                return RECORD_HEADER.pack(RectType.FILL, *header) + colour_bytes(colours)
            bits = palette_bits(colours.size)
            payload = (
                bytes((colours.size - 1,)) + colour_bytes(colours) + pack_indices(indices, bits)
            )
            if len(payload) < BYTES_PER_PIXEL * width * height:
                self.stats.palette_records += 1
                return RECORD_HEADER.pack(RectType.PALETTE, *header) + payload
        self.stats.raw_records += 1
        return RECORD_HEADER.pack(RectType.RAW, *header) + frame[y0:y1, x0:x1, :3].tobytes()

    def _pack(self, records: list[bytes], *, keyframe: bool) -> list[bytes]:
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
            header = UpdateHeader(
                keyframe=keyframe and index == 0,
                seq=self._seq,
                width=self._layout.width,
                height=self._layout.height,
                body_length=len(body),
            )
            self._seq = (self._seq + 1) & 0xFFFFFFFF
            update = pack_header(header) + (self._stream.compress_update(body) if body else b"")
            updates.append(update)
            self.stats.updates += 1
            self.stats.bytes_out += len(update)
        return updates


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
