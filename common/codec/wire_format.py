"""The screen-update wire format, and the bounds a decoder checks before allocating.

    update := header zstd_bytes
    header := version:u8 flags:u8 seq:u32 width:u16 height:u16 body_length:u32   (big-endian)
    body   := record*                      (zstd_bytes decompress to exactly body_length bytes)
    record := type:u8 x:u16 y:u16 w:u16 h:u16 payload
    VIDEO payload := stream:u8 flags:u8 length:u32 h264[length]

docs/codec.md is the specification; this module is its source of truth for numbers.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from common.errors import CodecError

CODEC_VERSION = 3
#: Versions a decoder reads: 2 is 3 without `FLAG_NEW_STREAM`, so recordings made with
#: it still play and convert.
READABLE_VERSIONS = (2, 3)

#: Largest width or height a decoder accepts (a framebuffer is at most 192 MiB).
MAX_DIMENSION = 8192
#: Largest decompressed body; the VIDEO channel carries 16 MiB messages at most anyway.
MAX_BODY = 16 * 1024 * 1024
#: Above a legitimate body's pixel bytes (3 per pixel), room for record headers and palettes.
BODY_SLACK = 1024 * 1024
#: A decoder accepts one record per CELL×CELL square of the screen, plus one (the copy).
RECT_CELL = 16

#: Video regions: at most this many H.264 streams at once, ids 0 … MAX_VIDEO_STREAMS - 1.
MAX_VIDEO_STREAMS = 4
#: Largest side of a video region.
MAX_VIDEO_SIDE = 4096
#: Largest area of a video region: H.264 level 5.1's largest picture (36 864 macroblocks).
MAX_VIDEO_AREA = 36864 * 256
#: Largest H.264 access unit of one VIDEO record (see `max_video_packet`).
MAX_VIDEO_PACKET = 8 * 1024 * 1024
#: VIDEO record flag: the first access unit of a new stream (an IDR picture with its SPS
#: and PPS); the decoder drops whatever that stream id held before.
VIDEO_START = 0x01

FLAG_KEYFRAME = 0x01
#: The update's zstd data starts a new zstd stream: the decoder drops its decompression
#: context and starts a fresh one. A keyframe always does, without this flag.
FLAG_NEW_STREAM = 0x02
_KNOWN_FLAGS = FLAG_KEYFRAME | FLAG_NEW_STREAM

HEADER = struct.Struct(">BBIHHI")
RECORD_HEADER = struct.Struct(">BHHHH")
COPY_SOURCE = struct.Struct(">HH")
VIDEO_HEADER = struct.Struct(">BBI")
#: Bytes per pixel of FILL, PALETTE colours and RAW pixels: blue, green, red.
BYTES_PER_PIXEL = 3


class RectType(enum.IntEnum):
    """What a record's payload holds. 0 is never valid."""

    #: src_x:u16 src_y:u16. Copy the w×h pixels at (src_x, src_y) to (x, y), overlap-safe.
    COPY = 1
    #: b g r. Every pixel of the rectangle gets this colour.
    FILL = 2
    #: count-1:u8, count × (b g r), then h rows of w indices packed MSB-first, each row
    #: starting on a byte boundary, with 1/2/4/8 bits for ≤2/≤4/≤16/≤256 colours.
    PALETTE = 3
    #: w×h×3 bytes, rows top to bottom, pixels b g r.
    RAW = 4
    #: stream:u8 flags:u8 length:u32, then one H.264 access unit (Annex-B, 4:4:4, full-range
    #: BT.601) whose picture, cropped to w×h, paints the rectangle. Since version 2.
    VIDEO = 5


@dataclass(frozen=True, slots=True)
class Rect:
    """A rectangle of pixels: columns [x, x + width), rows [y, y + height)."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class UpdateHeader:
    """The plain header in front of every update (see `read_update_header`)."""

    keyframe: bool
    seq: int
    width: int
    height: int
    body_length: int
    #: The zstd data starts a new stream (a keyframe's always does, flag or not).
    new_stream: bool = False


def pack_header(header: UpdateHeader) -> bytes:
    flags = (FLAG_KEYFRAME if header.keyframe else 0) | (
        FLAG_NEW_STREAM if header.new_stream else 0
    )
    return HEADER.pack(
        CODEC_VERSION, flags, header.seq, header.width, header.height, header.body_length
    )


def read_update_header(update: bytes) -> UpdateHeader:
    """Parses and bounds-checks the plain header of an update, without decompressing it.

    A recorder uses this to find keyframes (the only places playback can start); a viewer
    that joined late uses it to skip updates until a keyframe. Raises `CodecError`.
    """
    if len(update) < HEADER.size:
        raise CodecError("A screen update is shorter than its header.")
    version, flags, seq, width, height, body_length = HEADER.unpack_from(update)
    if version not in READABLE_VERSIONS:
        raise CodecError(
            f"The screen update uses codec version {version}; this program speaks "
            f"version {CODEC_VERSION}. Update both programs."
        )
    if flags & ~(_KNOWN_FLAGS if version == CODEC_VERSION else FLAG_KEYFRAME):
        raise CodecError(f"A screen update has unknown flags {flags:#04x}.")
    if not (1 <= width <= MAX_DIMENSION and 1 <= height <= MAX_DIMENSION):
        raise CodecError(f"A screen of {width}×{height} pixels is not supported.")
    if body_length > max_body_length(width, height):
        raise CodecError(f"A screen update declares {body_length} bytes, over the limit.")
    if (body_length == 0) != (len(update) == HEADER.size):
        raise CodecError("A screen update's length does not match its header.")
    return UpdateHeader(
        bool(flags & FLAG_KEYFRAME),
        seq,
        width,
        height,
        body_length,
        new_stream=bool(flags & FLAG_NEW_STREAM),
    )


def max_body_length(width: int, height: int) -> int:
    return min(MAX_BODY, BYTES_PER_PIXEL * width * height + BODY_SLACK)


def max_record_count(width: int, height: int) -> int:
    return -(-width // RECT_CELL) * -(-height // RECT_CELL) + 1


def max_painted_area(width: int, height: int) -> int:
    """Sum of the areas of one update's pixel records (FILL, PALETTE, RAW, VIDEO): each
    part of the screen at most once. A COPY record is not counted; an update has at most
    one."""
    return width * height


def video_region_fits(width: int, height: int) -> bool:
    """Whether a w×h rectangle may be a video region (it must also lie inside the screen)."""
    return width <= MAX_VIDEO_SIDE and height <= MAX_VIDEO_SIDE and width * height <= MAX_VIDEO_AREA


def max_video_packet(width: int, height: int) -> int:
    """Largest access unit for a w×h region: 3 bytes a pixel (what uncompressed I_PCM
    macroblocks cost) plus 64 KiB for headers, and never over MAX_VIDEO_PACKET."""
    return min(MAX_VIDEO_PACKET, BYTES_PER_PIXEL * width * height + 65536)


def palette_bits(count: int) -> int:
    """Bits per index for a palette of `count` colours (1 ≤ count ≤ 256)."""
    if count <= 2:
        return 1
    if count <= 4:
        return 2
    if count <= 16:
        return 4
    return 8


def packed_row_bytes(width: int, bits: int) -> int:
    return (width * bits + 7) // 8
