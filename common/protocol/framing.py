"""Record framing on the end-to-end byte stream.

    record := length:u32be body          length ≤ max_record, checked before buffering
    body   := version:u8 kind:u8 rest

Kinds: HANDSHAKE (plaintext msgpack, before keys exist), DATA (sequenced, encrypted),
ACK (authenticated acknowledgement, not sequenced). See docs/protocol.md.
"""

from __future__ import annotations

import enum
import struct

from common.errors import MessageTooLarge, ProtocolError, UnsupportedVersion
from common.protocol.version import MAX_RECORD, PROTOCOL_VERSION

_LENGTH = struct.Struct(">I")
#: version, kind, seq (or ack counter), ack
DATA_HEADER = struct.Struct(">BBQQ")
#: Room for the header, the channel/flags bytes and the AEAD tag above a full payload.
RECORD_OVERHEAD = 64


class Kind(enum.IntEnum):
    HANDSHAKE = 1
    DATA = 2
    ACK = 3


def encode_record(body: bytes) -> bytes:
    return _LENGTH.pack(len(body)) + body


class RecordReader:
    """Accumulates stream bytes and yields complete record bodies."""

    def __init__(self, max_record: int = MAX_RECORD) -> None:
        self.max_record = max_record + RECORD_OVERHEAD
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        records = []
        while len(self._buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if length > self.max_record:
                self._buffer.clear()
                raise MessageTooLarge(f"A record of {length} bytes is over the limit.")
            if length < 2:
                self._buffer.clear()
                raise ProtocolError("A record is too short.")
            end = _LENGTH.size + length
            if len(self._buffer) < end:
                # The length is bounded, so waiting for the rest is bounded too.
                break
            records.append(bytes(self._buffer[_LENGTH.size : end]))
            del self._buffer[:end]
        return records

    def reset(self) -> None:
        """Drops a partial record (a new link starts on a record boundary)."""
        self._buffer.clear()

    @property
    def buffered(self) -> int:
        return len(self._buffer)


def parse_kind(body: bytes) -> Kind:
    if body[0] != PROTOCOL_VERSION:
        raise UnsupportedVersion()
    try:
        return Kind(body[1])
    except ValueError:
        raise ProtocolError(f"Unknown record kind {body[1]}.") from None
