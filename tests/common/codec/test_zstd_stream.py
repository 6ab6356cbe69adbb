from __future__ import annotations

import pytest

from common.codec.wire_format import CodecError
from common.codec.zstd_stream import CompressionStream, DecompressionStream


def test_updates_decode_one_by_one_and_share_history() -> None:
    sender, receiver = CompressionStream(), DecompressionStream()
    line = bytes(range(256)) * 40
    first = sender.compress_update(line)
    second = sender.compress_update(line)
    assert len(second) < len(first) / 10  # the second refers back to the first
    assert receiver.decompress_update(first, len(line)) == line
    assert receiver.decompress_update(second, len(line)) == line


def test_restart_lets_a_fresh_receiver_join() -> None:
    sender = CompressionStream()
    sender.compress_update(b"before the keyframe" * 100)
    sender.restart()
    update = sender.compress_update(b"after" * 100)
    assert DecompressionStream().decompress_update(update, 500) == b"after" * 100


def test_a_receiver_that_missed_the_start_fails_cleanly() -> None:
    sender = CompressionStream()
    sender.compress_update(b"x" * 1000)
    with pytest.raises(CodecError):
        DecompressionStream().decompress_update(sender.compress_update(b"y" * 1000), 1000)


@pytest.mark.parametrize("declared", [99, 101])
def test_the_declared_length_is_exact(declared: int) -> None:
    update = CompressionStream().compress_update(b"z" * 100)
    with pytest.raises(CodecError):
        DecompressionStream().decompress_update(update, declared)
