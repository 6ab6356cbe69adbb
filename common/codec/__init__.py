"""The screen codec: BGRA frames in on one side, the same pixels out on the other.

Pure logic (numpy and zstandard only). `ScreenEncoder` turns captured frames into
updates (bytes); `ScreenDecoder` applies them to its framebuffer and says which
rectangles to repaint. The wire format is specified in docs/codec.md.
"""

from common.codec.decoder import Framebuffer, ScreenDecoder
from common.codec.encoder import EncoderStats, ScreenEncoder
from common.codec.wire_format import (
    CODEC_VERSION,
    MAX_DIMENSION,
    Rect,
    RectType,
    UpdateHeader,
    read_update_header,
)
from common.errors import CodecError

__all__ = [
    "CODEC_VERSION",
    "MAX_DIMENSION",
    "CodecError",
    "EncoderStats",
    "Framebuffer",
    "Rect",
    "RectType",
    "ScreenDecoder",
    "ScreenEncoder",
    "UpdateHeader",
    "read_update_header",
]
