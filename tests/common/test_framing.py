from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import MessageTooLarge, ProtocolError, UnsupportedVersion
from common.protocol.framing import Kind, RecordReader, encode_record, parse_kind


def test_records_split_anywhere_come_out_whole() -> None:
    stream = b"".join(encode_record(bytes([1, 2]) + bytes([i]) * i) for i in range(1, 50))
    reader = RecordReader()
    out = []
    for i in range(0, len(stream), 7):
        out += reader.feed(stream[i : i + 7])
    assert out == [bytes([1, 2]) + bytes([i]) * i for i in range(1, 50)]
    assert reader.buffered == 0


def test_oversized_length_is_refused_before_buffering() -> None:
    reader = RecordReader(max_record=1024)
    with pytest.raises(MessageTooLarge):
        reader.feed(struct.pack(">I", 100 * 1024 * 1024) + b"x")
    assert reader.buffered == 0


def test_a_partial_record_waits_and_reset_drops_it() -> None:
    reader = RecordReader()
    assert reader.feed(encode_record(b"\x01\x02abc")[:5]) == []
    assert reader.buffered == 5
    reader.reset()
    assert reader.buffered == 0


def test_too_short_records_are_refused() -> None:
    with pytest.raises(ProtocolError):
        RecordReader().feed(struct.pack(">I", 1) + b"x")


def test_kind_and_version_are_checked() -> None:
    assert parse_kind(bytes([1, Kind.DATA])) is Kind.DATA
    with pytest.raises(UnsupportedVersion):
        parse_kind(bytes([2, Kind.DATA]))
    with pytest.raises(ProtocolError):
        parse_kind(bytes([1, 99]))


@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash_the_reader(data: bytes) -> None:
    reader = RecordReader(max_record=512)
    try:
        for body in reader.feed(data):
            assert len(body) <= 512 + 64
    except ProtocolError:
        pass
