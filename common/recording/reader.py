"""Reads an RCREC file, trusting nothing: every length is bounded before it is read, a
record counts only once its CRC-32 (and, encrypted, its GCM tag) holds, and a file cut
at any byte reads up to its last whole record. :attr:`RecordingReader.stopped` says why
reading stopped early, in words for a person."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import msgpack

from common.crypto import key_id, recording_cipher
from common.errors import NotARecording, RecordingError, RecordingKeyError, TamperedRecord
from common.recording.format import (
    CRC,
    FILE_HEADER,
    FLAG_ENCRYPTED,
    KNOWN_FLAGS,
    MAGIC,
    MAX_META,
    MAX_PAYLOAD,
    RECORD_HEADER,
    SALT_SIZE,
    VERSION,
    Kind,
    crc,
)


@dataclass(frozen=True)
class Record:
    kind: Kind
    #: Milliseconds since the recording started.
    time_ms: int
    payload: dict[str, Any]
    #: Where the record starts in the file (an index entry points here).
    offset: int


def _unpack_map(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except (ValueError, msgpack.UnpackException, TypeError):
        raise RecordingError(f"The recording's {what} is damaged.") from None
    if not isinstance(value, dict):
        raise RecordingError(f"The recording's {what} is damaged.")
    return value


class RecordingReader:
    """Opens ``file`` (positioned at its start); raises :class:`NotARecording`,
    :class:`RecordingError` or :class:`RecordingKeyError` when the header is not usable."""

    def __init__(self, file: BinaryIO, key: bytes | None = None) -> None:
        self._file = file
        head = file.read(FILE_HEADER.size)
        if len(head) < len(MAGIC) or head[: len(MAGIC)] != MAGIC:
            raise NotARecording()
        if len(head) < FILE_HEADER.size:
            raise RecordingError("The recording is cut short inside its header.")
        _, version, flags, meta_len = FILE_HEADER.unpack(head)
        if version != VERSION:
            raise RecordingError(
                f"This recording is RCREC version {version}; this program reads version "
                f"{VERSION}. Use a newer Lifeline."
            )
        if flags & ~KNOWN_FLAGS:
            raise RecordingError("This recording uses features this program does not know.")
        if meta_len > MAX_META:
            raise RecordingError("The recording's header is damaged.")
        packed = file.read(meta_len)
        check = file.read(CRC.size)
        if len(packed) < meta_len or len(check) < CRC.size:
            raise RecordingError("The recording is cut short inside its header.")
        if CRC.unpack(check)[0] != crc(head, packed):
            raise RecordingError("The recording's header is damaged.")
        self.meta = _unpack_map(packed, "header")
        self.encrypted = bool(flags & FLAG_ENCRYPTED)
        self._cipher = self._open_cipher(key) if self.encrypted else None
        self._start = FILE_HEADER.size + meta_len + CRC.size
        #: Why reading stopped before an end record (None: it has not, or it ended well).
        self.stopped: str | None = None
        #: True once the end record was read: the recording was closed properly.
        self.complete = False

    def _open_cipher(self, key: bytes | None) -> Any:
        sealed = self.meta.get("encryption")
        if not isinstance(sealed, dict):
            raise RecordingError("The recording's header is damaged.")
        salt = sealed.get("salt")
        if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
            raise RecordingError("The recording's header is damaged.")
        if key is None:
            raise RecordingKeyError()
        if sealed.get("key_id") != key_id(key):
            raise RecordingKeyError("This recording was encrypted with another key.")
        return recording_cipher(key, salt)

    def records(self, start: int | None = None) -> Iterator[Record]:
        """Every whole record from the first (or from the offset ``start``, which an
        index gave) up to the end record or the first damage."""
        self.stopped, self.complete = None, False
        # An encrypted record's nonce is its number: count the records before ``start``.
        count = 0 if start is None else self._counter_at(start)
        self._file.seek(self._start if start is None else start)
        while True:
            offset = self._file.tell()
            head = self._file.read(RECORD_HEADER.size)
            if not head:
                self.stopped = "The recording ends without its closing record (cut short)."
                return
            if len(head) < RECORD_HEADER.size:
                self.stopped = "The recording is cut short inside a record."
                return
            length, kind_value, time_ms = RECORD_HEADER.unpack(head)
            if length > MAX_PAYLOAD:
                self.stopped = "A record's length is impossible: the file is damaged there."
                return
            body = self._file.read(length)
            check = self._file.read(CRC.size)
            if len(body) < length or len(check) < CRC.size:
                self.stopped = "The recording is cut short inside a record."
                return
            if CRC.unpack(check)[0] != crc(head, body):
                self.stopped = "A record is damaged (its checksum does not match)."
                return
            try:
                kind = Kind(kind_value)
            except ValueError:
                kind = None
            if self._cipher is not None:
                try:
                    body = self._cipher.open(kind_value, count, head, body)
                except TamperedRecord:
                    self.stopped = "A record does not match the recording's key (altered)."
                    return
            count += 1
            if kind is None:
                continue  # a kind from a later version: skipped, as the spec says
            try:
                payload = _unpack_map(body, "record")
            except RecordingError as exc:
                self.stopped = str(exc)
                return
            yield Record(kind, time_ms, payload, offset)
            if kind == Kind.END:
                self.complete = True
                return

    def _counter_at(self, offset: int) -> int:
        self._file.seek(self._start)
        count = 0
        while self._file.tell() < offset:
            head = self._file.read(RECORD_HEADER.size)
            if len(head) < RECORD_HEADER.size:
                break
            length = RECORD_HEADER.unpack(head)[0]
            self._file.seek(min(length, MAX_PAYLOAD) + CRC.size, 1)
            count += 1
        return count
