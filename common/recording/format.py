"""RCREC v1's byte layout (docs/rcrec.md): the file header and the record frame.

Everything is big-endian. A reader bounds every length before it allocates, and a
record is only believed once its CRC-32 matches.
"""

from __future__ import annotations

import enum
import struct
import zlib

MAGIC = b"\x89RCREC\r\n"  # like PNG's: a text-mode copy or a truncated header shows
VERSION = 1
FLAG_ENCRYPTED = 0x0001
KNOWN_FLAGS = FLAG_ENCRYPTED

#: magic, version, flags, metadata length.
FILE_HEADER = struct.Struct(">8sHHI")
#: payload length, kind, milliseconds since the recording started.
RECORD_HEADER = struct.Struct(">IBI")
CRC = struct.Struct(">I")

MAX_META = 64 * 1024
#: A screen update is at most 4 MiB on the wire; its map and a GCM tag fit in 5 MiB.
MAX_PAYLOAD = 5 * 1024 * 1024
SALT_SIZE = 16


class Kind(enum.IntEnum):
    """What a record holds: the application messages exactly as the console received
    them (``SCREEN``, ``CURSOR``, ``CURSOR_SHAPE``, ``MONITORS``), the session's events,
    and the file's own bookkeeping (``INDEX``, ``END``)."""

    SCREEN = 1
    CURSOR = 2
    CURSOR_SHAPE = 3
    MONITORS = 4
    EVENT = 5
    INDEX = 6
    END = 7


def crc(*parts: bytes) -> int:
    value = 0
    for part in parts:
        value = zlib.crc32(part, value)
    return value
