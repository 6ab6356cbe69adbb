from __future__ import annotations

import pytest

from common.codec.wire_format import (
    CODEC_VERSION,
    HEADER,
    MAX_BODY,
    CodecError,
    UpdateHeader,
    max_body_length,
    max_record_count,
    pack_header,
    read_update_header,
)


def test_header_layout_is_fourteen_big_endian_bytes() -> None:
    header = UpdateHeader(True, 0x01020304, 1920, 1080, 5)
    packed = pack_header(header)
    assert packed == bytes([CODEC_VERSION, 1, 1, 2, 3, 4, 0x07, 0x80, 0x04, 0x38, 0, 0, 0, 5])
    assert HEADER.size == 14
    assert read_update_header(packed + b"zstd") == header


def test_a_new_zstd_stream_is_flag_bit_1_and_other_bits_are_refused() -> None:
    header = UpdateHeader(False, 9, 10, 10, 5, new_stream=True)
    packed = pack_header(header)
    assert packed[1] == 0x02
    assert read_update_header(packed + b"zstd") == header
    for flags in (0x04, 0x80):
        with pytest.raises(CodecError, match="unknown flags"):
            read_update_header(HEADER.pack(CODEC_VERSION, flags, 0, 10, 10, 5) + b"zstd")


def test_version_2_updates_still_read_without_the_new_stream_flag() -> None:
    """Recordings made with codec version 2 (no FLAG_NEW_STREAM) still play."""
    assert read_update_header(HEADER.pack(2, 1, 0, 10, 10, 4) + b"zstd").keyframe
    with pytest.raises(CodecError, match="unknown flags"):
        read_update_header(HEADER.pack(2, 2, 0, 10, 10, 4) + b"zstd")


def test_empty_update_has_no_body() -> None:
    header = UpdateHeader(False, 7, 10, 10, 0)
    assert read_update_header(pack_header(header)) == header


def test_bounds() -> None:
    assert max_body_length(1920, 1080) == 3 * 1920 * 1080 + 1024 * 1024
    assert max_body_length(8192, 8192) == MAX_BODY
    assert max_record_count(1920, 1080) == 120 * 68 + 1


def test_version_mismatch_tells_people_what_to_do() -> None:
    update = HEADER.pack(CODEC_VERSION + 1, 0, 0, 10, 10, 0)
    with pytest.raises(CodecError, match="Update both programs"):
        read_update_header(update)
