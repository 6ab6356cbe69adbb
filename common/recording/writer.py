"""Writes an RCREC file as a session goes: one record per screen update, cursor change
or event, each flushed to the OS at once, so a console killed mid-session leaves a
file that reads up to its last whole record."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable
from typing import Any, BinaryIO

import msgpack

from common.codec import read_update_header
from common.crypto import key_id, recording_cipher
from common.errors import CodecError
from common.recording.format import (
    CRC,
    FILE_HEADER,
    FLAG_ENCRYPTED,
    MAGIC,
    MAX_META,
    MAX_PAYLOAD,
    RECORD_HEADER,
    SALT_SIZE,
    VERSION,
    Kind,
    crc,
)

#: At most this many keyframes are indexed (a day of one every few seconds).
MAX_INDEX = 50_000


class RecordingWriter:
    """``meta``: technician, customer, broker, … (docs/rcrec.md §2); ``key``: 32 bytes
    to encrypt the records at rest, or None."""

    def __init__(
        self,
        file: BinaryIO,
        meta: dict[str, Any],
        *,
        key: bytes | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._file = file
        self._clock = clock
        self._started = clock()
        self._count = 0
        self._cipher = None
        self.keyframes: list[tuple[int, int]] = []  # (time_ms, file offset)
        self.closed = False
        meta = {"started": time.time(), **meta}
        flags = 0
        if key is not None:
            salt = secrets.token_bytes(SALT_SIZE)
            self._cipher = recording_cipher(key, salt)
            meta["encryption"] = {"alg": "AES-256-GCM", "key_id": key_id(key), "salt": salt}
            flags |= FLAG_ENCRYPTED
        packed = msgpack.packb(meta, use_bin_type=True)
        if len(packed) > MAX_META:
            raise ValueError("the recording's metadata is too large")
        header = FILE_HEADER.pack(MAGIC, VERSION, flags, len(packed)) + packed
        self._header_crc = crc(header)
        self._write(header + CRC.pack(self._header_crc))

    @property
    def elapsed_ms(self) -> int:
        return int((self._clock() - self._started) * 1000)

    def screen_update(self, monitor: int, data: bytes, time_ms: int | None = None) -> None:
        """One update exactly as received; keyframes are remembered for the index."""
        try:
            keyframe = read_update_header(data).keyframe
        except CodecError:
            keyframe = False  # recorded as received all the same; a player skips it
        now = self.elapsed_ms if time_ms is None else time_ms
        if keyframe and len(self.keyframes) < MAX_INDEX:
            self.keyframes.append((now, self._file.tell()))
        self.write(Kind.SCREEN, {"monitor": monitor, "data": data}, time_ms=now)

    def event(self, kind: str, **detail: Any) -> None:
        """A marker: chat line, right granted or revoked, control start or end, …"""
        self.write(Kind.EVENT, {"kind": kind, **detail})

    def write(self, kind: Kind, payload: dict[str, Any], *, time_ms: int | None = None) -> None:
        if self.closed:
            raise ValueError("the recording is closed")
        body: bytes = msgpack.packb(payload, use_bin_type=True)
        elapsed = min(self.elapsed_ms if time_ms is None else time_ms, 0xFFFFFFFF)
        if self._cipher is not None:
            head = RECORD_HEADER.pack(len(body) + 16, kind, elapsed)
            body = self._cipher.seal(kind, self._count, head, body)
        if len(body) > MAX_PAYLOAD:
            raise ValueError("a record is larger than RCREC allows")
        head = RECORD_HEADER.pack(len(body), kind, elapsed)
        self._write(head + body + CRC.pack(crc(head, body)))
        self._count += 1

    def close(self, reason: str = "finished") -> None:
        """Writes the index and the end record, and makes the file durable."""
        if self.closed:
            return
        self.write(Kind.INDEX, {"keyframes": self.keyframes})
        self.write(Kind.END, {"reason": reason, "records": self._count + 1})
        self.closed = True
        self._file.flush()
        # Not a real file (a test's BytesIO), or a share that cannot sync: flushed is all.
        with contextlib.suppress(OSError, ValueError):
            os.fsync(self._file.fileno())

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
