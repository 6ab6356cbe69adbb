"""The receiving side: screen updates in, a framebuffer and the rectangles that changed out.

Updates come from the peer, who may be hostile. Every length, colour index and coordinate
is checked before anything is allocated or painted, and an update is validated whole
(its H.264 pictures decoded too) before the framebuffer is touched, so a bad one leaves
the picture as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from common.codec.palette import unpack_indices
from common.codec.video_streams import VideoPacket, VideoStreams
from common.codec.wire_format import (
    BYTES_PER_PIXEL,
    COPY_SOURCE,
    HEADER,
    MAX_VIDEO_STREAMS,
    RECORD_HEADER,
    VIDEO_HEADER,
    VIDEO_START,
    Rect,
    RectType,
    UpdateHeader,
    max_painted_area,
    max_record_count,
    max_video_packet,
    packed_row_bytes,
    palette_bits,
    read_update_header,
    video_region_fits,
)
from common.codec.zstd_stream import DecompressionStream
from common.errors import CodecError

#: A framebuffer: height × width × 3 uint8, blue green red (QImage.Format_BGR888).
Framebuffer = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class _Paint:
    """One validated record: `pixels` is (h, w, 3) or (3,) to paint at `rect` (or, with
    `indices`, the palette those (h, w) indices pick from), or None for a copy from
    `source` or for `video`, whose picture is decoded once the whole body is valid.
    Palettes are expanded only when painted, one record at a time, so a small hostile
    update cannot make validation allocate colours for every record at once."""

    rect: Rect
    pixels: NDArray[np.uint8] | None
    source: tuple[int, int] = (0, 0)
    indices: NDArray[np.uint8] | None = None
    video: VideoPacket | None = None


class ScreenDecoder:
    """Applies the updates of one stream, in order, to its own framebuffer.

    Starts waiting for a keyframe. Any `CodecError` leaves the framebuffer unchanged and
    makes the decoder wait for a keyframe again: ask the sender for one (or close the
    session, if the error means the peer is misbehaving). While `needs_keyframe` is True,
    updates whose `read_update_header(update).keyframe` is False can be dropped unread.
    """

    def __init__(self) -> None:
        self._framebuffer: Framebuffer = np.zeros((0, 0, 3), np.uint8)
        self._stream = DecompressionStream()
        self._videos = VideoStreams()
        self._next_seq = 0
        self._needs_keyframe = True

    @property
    def framebuffer(self) -> Framebuffer:
        """The picture, height × width × 3 (B G R); 0 × 0 before the first keyframe.

        The same array is updated in place until a keyframe changes the screen size;
        then it is a new array, so take it again after every `decode`.
        """
        return self._framebuffer

    @property
    def needs_keyframe(self) -> bool:
        return self._needs_keyframe

    def decode(self, update: bytes) -> list[Rect]:
        """Applies one update. Returns the rectangles to repaint: the whole screen for a
        keyframe, else each record's destination. Raises `CodecError`."""
        try:
            header = read_update_header(update)
            stream = self._check_sequence(header)
            body = stream.decompress_update(memoryview(update)[HEADER.size :], header.body_length)
            paints = _parse_body(body, header.width, header.height)
            videos, paints = self._decode_videos(paints, keyframe=header.keyframe)
        except CodecError:
            self._needs_keyframe = True
            raise
        self._stream = stream
        self._videos = videos
        self._next_seq = (header.seq + 1) & 0xFFFFFFFF
        self._needs_keyframe = False
        if header.keyframe:
            self._start_picture(header.width, header.height)
        fb = self._framebuffer
        for paint in paints:
            r = paint.rect
            target = fb[r.y : r.y + r.height, r.x : r.x + r.width]
            if paint.pixels is None:
                sx, sy = paint.source
                target[...] = fb[sy : sy + r.height, sx : sx + r.width]
            elif paint.indices is not None:
                np.take(paint.pixels, paint.indices, axis=0, out=target)
            else:
                target[...] = paint.pixels
        if header.keyframe:
            return [Rect(0, 0, header.width, header.height)]
        return [paint.rect for paint in paints]

    def _decode_videos(
        self, paints: list[_Paint], *, keyframe: bool
    ) -> tuple[VideoStreams, list[_Paint]]:
        """Decodes the H.264 pictures of a validated body: the paints with their pixels."""
        packets = [paint.video for paint in paints if paint.video is not None]
        if not packets and not keyframe:
            return self._videos, paints
        videos, pictures = self._videos.decode(packets, keyframe=keyframe)
        decoded = iter(pictures)
        paints = [
            _Paint(paint.rect, next(decoded)) if paint.video is not None else paint
            for paint in paints
        ]
        return videos, paints

    def _check_sequence(self, header: UpdateHeader) -> DecompressionStream:
        if header.keyframe:
            return DecompressionStream()
        if self._needs_keyframe:
            raise CodecError("The screen stream cannot be shown until the next keyframe.")
        height, width = self._framebuffer.shape[:2]
        if (header.width, header.height) != (width, height):
            raise CodecError("A screen update changes the screen size without a keyframe.")
        if header.seq != self._next_seq:
            raise CodecError("A screen update was lost or arrived out of order.")
        return DecompressionStream() if header.new_stream else self._stream

    def _start_picture(self, width: int, height: int) -> None:
        """A keyframe starts from black, so every decoder that joins there agrees."""
        if self._framebuffer.shape[:2] == (height, width):
            self._framebuffer.fill(0)
        else:
            self._framebuffer = np.zeros((height, width, 3), np.uint8)


def _parse_body(body: bytes, width: int, height: int) -> list[_Paint]:
    """Validates every record of a body and decodes its pixels. Raises `CodecError`."""
    paints: list[_Paint] = []
    max_records = max_record_count(width, height)
    area_left = max_painted_area(width, height)
    copies = 0
    pos, end = 0, len(body)
    while pos < end:
        if end - pos < RECORD_HEADER.size:
            raise CodecError("A screen update ends inside a record header.")
        kind, x, y, w, h = RECORD_HEADER.unpack_from(body, pos)
        pos += RECORD_HEADER.size
        if len(paints) == max_records:
            raise CodecError("A screen update has too many rectangles.")
        if w == 0 or h == 0 or x + w > width or y + h > height:
            raise CodecError("A screen update draws outside the screen.")
        if kind == RectType.COPY:
            copies += 1
            if copies > 1:
                raise CodecError("A screen update moves more than one region.")
        else:
            area_left -= w * h
            if area_left < 0:
                raise CodecError("A screen update paints too much.")
        rect = Rect(x, y, w, h)
        if kind == RectType.COPY:
            _need(body, pos, COPY_SOURCE.size)
            sx, sy = COPY_SOURCE.unpack_from(body, pos)
            pos += COPY_SOURCE.size
            if sx + w > width or sy + h > height:
                raise CodecError("A screen update copies from outside the screen.")
            paints.append(_Paint(rect, None, (sx, sy)))
        elif kind == RectType.FILL:
            _need(body, pos, BYTES_PER_PIXEL)
            colour = np.frombuffer(body, np.uint8, BYTES_PER_PIXEL, pos)
            pos += BYTES_PER_PIXEL
            paints.append(_Paint(rect, colour))
        elif kind == RectType.PALETTE:
            colours, indices, pos = _parse_palette(body, pos, w, h)
            paints.append(_Paint(rect, colours, indices=indices))
        elif kind == RectType.RAW:
            size = w * h * BYTES_PER_PIXEL
            _need(body, pos, size)
            pixels = np.frombuffer(body, np.uint8, size, pos).reshape(h, w, BYTES_PER_PIXEL)
            pos += size
            paints.append(_Paint(rect, pixels))
        elif kind == RectType.VIDEO:
            packet, pos = _parse_video(body, pos, rect)
            paints.append(_Paint(rect, None, video=packet))
        else:
            raise CodecError(f"A screen update has an unknown rectangle type {kind}.")
    return paints


def _parse_palette(
    body: bytes, pos: int, w: int, h: int
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], int]:
    _need(body, pos, 1)
    count = body[pos] + 1
    pos += 1
    _need(body, pos, count * BYTES_PER_PIXEL)
    colours = np.frombuffer(body, np.uint8, count * BYTES_PER_PIXEL, pos)
    colours = colours.reshape(count, BYTES_PER_PIXEL)
    pos += count * BYTES_PER_PIXEL
    bits = palette_bits(count)
    size = h * packed_row_bytes(w, bits)
    _need(body, pos, size)
    indices = unpack_indices(np.frombuffer(body, np.uint8, size, pos), w, h, bits)
    pos += size
    if count < 1 << bits and int(indices.max()) >= count:
        raise CodecError("A screen update uses a colour its palette does not have.")
    return colours, indices, pos


def _parse_video(body: bytes, pos: int, rect: Rect) -> tuple[VideoPacket, int]:
    _need(body, pos, VIDEO_HEADER.size)
    stream, flags, length = VIDEO_HEADER.unpack_from(body, pos)
    pos += VIDEO_HEADER.size
    if stream >= MAX_VIDEO_STREAMS or flags & ~VIDEO_START:
        raise CodecError("A screen update has a malformed video region.")
    if not video_region_fits(rect.width, rect.height):
        raise CodecError("A screen update has a video region larger than allowed.")
    if length == 0:
        raise CodecError("A screen update has an empty video picture.")
    if length > max_video_packet(rect.width, rect.height):
        raise CodecError("A screen update's video picture is larger than allowed.")
    _need(body, pos, length)
    packet = VideoPacket(rect, stream, bool(flags & VIDEO_START), body[pos : pos + length])
    return packet, pos + length


def _need(body: bytes, pos: int, size: int) -> None:
    if len(body) - pos < size:
        raise CodecError("A screen update ends inside a record.")
