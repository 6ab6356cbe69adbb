"""ScreenDecoder against a hostile peer: one error class, the picture untouched, memory
bounded, and a keyframe needed afterwards."""

from __future__ import annotations

import contextlib
import math
import struct
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from benchmarks.synthetic_screens import bgr, photo, text_page, video_frames
from common.codec import CodecError, Rect, RectType, ScreenDecoder, ScreenEncoder, video_regions
from common.codec.h264 import H264Encoder
from common.codec.wire_format import (
    CODEC_VERSION,
    COPY_SOURCE,
    HEADER,
    MAX_DIMENSION,
    MAX_VIDEO_SIDE,
    MAX_VIDEO_STREAMS,
    RECORD_HEADER,
    VIDEO_HEADER,
    VIDEO_START,
    UpdateHeader,
    max_body_length,
    max_video_packet,
    pack_header,
)
from common.codec.zstd_stream import CompressionStream, StreamMode
from common.errors import ProtocolError

WIDTH, HEIGHT = 64, 48


class Forger:
    """Writes updates by hand, with a real compression stream, as a hostile peer would."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.width, self.height = width, height
        self.stream = CompressionStream()
        self.seq = 0

    def update(self, body: bytes, *, keyframe: bool = False, declared: int | None = None) -> bytes:
        if keyframe:
            self.stream.restart()
        length = len(body) if declared is None else declared
        header = UpdateHeader(keyframe, self.seq, self.width, self.height, length)
        self.seq += 1
        return pack_header(header) + (self.stream.compress_update(body) if body else b"")


def record(kind: int, x: int, y: int, w: int, h: int, payload: bytes = b"") -> bytes:
    return RECORD_HEADER.pack(kind, x, y, w, h) + payload


def fill(x: int, y: int, w: int, h: int, colour: bytes = b"\x01\x02\x03") -> bytes:
    return record(RectType.FILL, x, y, w, h, colour)


@pytest.fixture
def forger() -> Forger:
    return Forger()


@pytest.fixture
def decoder(forger: Forger) -> ScreenDecoder:
    """A decoder showing a keyframe: left half one colour, right half another."""
    decoder = ScreenDecoder()
    body = fill(0, 0, 32, HEIGHT, b"\x10\x20\x30") + fill(32, 0, 32, HEIGHT, b"\x40\x50\x60")
    assert decoder.decode(forger.update(body, keyframe=True)) == [Rect(0, 0, WIDTH, HEIGHT)]
    return decoder


def assert_refused(decoder: ScreenDecoder, update: bytes) -> None:
    before = decoder.framebuffer.copy()
    with pytest.raises(CodecError) as caught:
        decoder.decode(update)
    assert isinstance(caught.value, ProtocolError)
    assert caught.value.code == "codec_error"
    assert np.array_equal(decoder.framebuffer, before)
    assert decoder.needs_keyframe


def test_a_well_formed_update_of_each_type_is_applied(
    forger: Forger, decoder: ScreenDecoder
) -> None:
    palette = bytes([1]) + b"\x00\x00\x00" + b"\xff\xff\xff" + bytes([0b10100000, 0b01000000])
    body = (
        record(RectType.COPY, 0, 10, 8, 4, struct.pack(">HH", 40, 0))
        + record(RectType.PALETTE, 8, 0, 3, 2, palette)
        + record(RectType.RAW, 20, 20, 1, 2, b"\x01\x02\x03\x04\x05\x06")
    )
    rects = decoder.decode(forger.update(body))
    assert rects == [Rect(0, 10, 8, 4), Rect(8, 0, 3, 2), Rect(20, 20, 1, 2)]
    fb = decoder.framebuffer
    assert (fb[10:14, 0:8] == [0x40, 0x50, 0x60]).all()
    assert fb[0, 8:11].tolist() == [[255, 255, 255], [0, 0, 0], [255, 255, 255]]
    assert fb[1, 8:11].tolist() == [[0, 0, 0], [255, 255, 255], [0, 0, 0]]
    assert fb[20:22, 20].tolist() == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(fill(60, 0, 8, 8), id="right of the screen"),
        pytest.param(fill(0, 45, 8, 4), id="below the screen"),
        pytest.param(fill(0, 0, 0, 4), id="empty rectangle"),
        pytest.param(fill(0, 0, 4, 4)[:-1], id="truncated payload"),
        pytest.param(fill(0, 0, 4, 4)[:5], id="truncated header"),
        pytest.param(record(0, 0, 0, 4, 4), id="type zero"),
        pytest.param(record(99, 0, 0, 4, 4, b"\0" * 64), id="unknown type"),
        pytest.param(record(RectType.VIDEO, 0, 0, 4, 4, b"\0" * 64), id="empty video picture"),
        pytest.param(
            record(RectType.COPY, 0, 0, 8, 8, struct.pack(">HH", 60, 0)), id="copy from outside"
        ),
        pytest.param(record(RectType.RAW, 0, 0, 4, 4, b"\0" * 47), id="short raw"),
        pytest.param(
            record(RectType.PALETTE, 0, 0, 8, 1, bytes([2]) + b"\0" * 9 + bytes([0b11000000, 0])),
            id="palette index out of range",
        ),
        pytest.param(
            record(RectType.PALETTE, 0, 0, 8, 1, bytes([255]) + b"\0" * 100),
            id="palette shorter than its count",
        ),
        pytest.param(
            record(RectType.PALETTE, 0, 0, 8, 2, bytes([1]) + b"\0" * 6 + b"\0"),
            id="packed indices truncated",
        ),
        pytest.param(fill(0, 0, 64, 48) * 3, id="paints too much"),
        pytest.param(fill(0, 0, 1, 1) * 30, id="too many rectangles"),
    ],
)
def test_bad_records_are_refused_whole(forger: Forger, decoder: ScreenDecoder, body: bytes) -> None:
    assert_refused(decoder, forger.update(fill(0, 0, 4, 4, b"\xee\xee\xee") + body))


def test_after_an_error_only_a_keyframe_is_accepted(forger: Forger, decoder: ScreenDecoder) -> None:
    assert_refused(decoder, forger.update(fill(70, 0, 1, 1)))
    assert_refused(decoder, forger.update(fill(0, 0, 1, 1)))
    decoder.decode(forger.update(fill(0, 0, 64, 48), keyframe=True))
    decoder.decode(forger.update(fill(0, 0, 1, 1, b"\xff\xff\xff")))
    assert decoder.framebuffer[0, 0].tolist() == [255, 255, 255]
    assert not decoder.needs_keyframe


def test_a_lost_update_is_detected(forger: Forger, decoder: ScreenDecoder) -> None:
    forger.update(fill(0, 0, 2, 2))  # never delivered
    assert_refused(decoder, forger.update(fill(0, 0, 2, 2)))


def test_a_size_change_without_keyframe_is_refused(forger: Forger, decoder: ScreenDecoder) -> None:
    forger.width = 65
    assert_refused(decoder, forger.update(fill(0, 0, 2, 2)))


def test_a_new_decoder_waits_for_a_keyframe(forger: Forger) -> None:
    forger.update(fill(0, 0, 64, 48), keyframe=True)
    decoder = ScreenDecoder()
    assert decoder.needs_keyframe
    assert decoder.framebuffer.shape == (0, 0, 3)
    assert_refused(decoder, forger.update(fill(0, 0, 2, 2)))


def test_a_keyframe_starts_from_black(forger: Forger, decoder: ScreenDecoder) -> None:
    decoder.decode(forger.update(fill(0, 0, 2, 2), keyframe=True))
    assert decoder.framebuffer[0, 0].tolist() == [1, 2, 3]
    assert decoder.framebuffer[40, 40].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ((CODEC_VERSION + 1, 1, 0, 64, 48, 0), "version"),
        ((CODEC_VERSION, 0x81, 0, 64, 48, 0), "unknown flags"),
        ((CODEC_VERSION, 1, 0, 0, 48, 0), "zero width"),
        ((CODEC_VERSION, 1, 0, MAX_DIMENSION + 1, 48, 0), "too wide"),
        ((CODEC_VERSION, 1, 0, 64, MAX_DIMENSION + 1, 0), "too tall"),
        ((CODEC_VERSION, 1, 0, 64, 48, max_body_length(64, 48) + 1), "body over bound"),
        ((CODEC_VERSION, 1, 0, 8192, 8192, 2**32 - 1), "huge body"),
        ((CODEC_VERSION, 1, 0, 64, 48, 10), "declared body, no data"),
    ],
)
def test_bad_headers_are_refused(
    decoder: ScreenDecoder, fields: tuple[int, ...], reason: str
) -> None:
    assert_refused(decoder, HEADER.pack(*fields))


def test_empty_body_with_trailing_bytes_is_refused(decoder: ScreenDecoder) -> None:
    assert_refused(decoder, HEADER.pack(CODEC_VERSION, 1, 0, 64, 48, 0) + b"x")


@pytest.mark.parametrize("length", [0, 1, HEADER.size - 1])
def test_truncated_headers_are_refused(decoder: ScreenDecoder, length: int) -> None:
    assert_refused(decoder, b"\x01" * length)


def test_garbage_instead_of_zstd_is_refused(forger: Forger, decoder: ScreenDecoder) -> None:
    header = pack_header(UpdateHeader(False, forger.seq, WIDTH, HEIGHT, 100))
    assert_refused(decoder, header + b"not zstd at all" * 10)


def test_a_body_shorter_or_longer_than_declared_is_refused(forger: Forger) -> None:
    body = fill(0, 0, 2, 2)
    decoder = ScreenDecoder()
    assert_refused(decoder, forger.update(body, keyframe=True, declared=len(body) + 1))
    assert_refused(decoder, forger.update(body, keyframe=True, declared=len(body) - 1))


def test_a_new_zstd_stream_is_followed_and_a_missing_one_refused(
    forger: Forger, decoder: ScreenDecoder
) -> None:
    decoder.decode(forger.update(fill(0, 0, 8, 8)))
    # The sender switches streams: the update says so, and decodes from a fresh context.
    forger.stream.restart(StreamMode.PLAIN)  # the forger's stream was LONG
    body = fill(8, 8, 8, 8, b"\x09\x09\x09")
    header = UpdateHeader(False, forger.seq, WIDTH, HEIGHT, len(body), new_stream=True)
    forger.seq += 1
    decoder.decode(pack_header(header) + forger.stream.compress_update(body))
    assert (decoder.framebuffer[8, 8] == 9).all()
    # A new stream that does not say so is not valid in the old context.
    forger.stream.restart()
    assert_refused(decoder, forger.update(fill(16, 16, 8, 8)))


def test_a_truncated_update_is_refused() -> None:
    for keep in (lambda n: n - 1, lambda n: n // 2, lambda n: HEADER.size + 1):
        fresh = Forger()
        fresh_decoder = ScreenDecoder()
        fresh_decoder.decode(fresh.update(fill(0, 0, 64, 48), keyframe=True))
        update = fresh.update(fill(0, 0, 8, 8) + record(RectType.RAW, 0, 0, 30, 30, bytes(2700)))
        assert_refused(fresh_decoder, update[: keep(len(update))])


def test_a_decompression_bomb_stops_early() -> None:
    """A few kilobytes that would inflate to 256 MiB, declared as 1000 bytes."""
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    chunk = bytes(16 * 1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(16))
    bomb += compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    assert len(bomb) < 100_000
    update = pack_header(UpdateHeader(True, 0, WIDTH, HEIGHT, 1000)) + bomb
    decoder = ScreenDecoder()
    tracemalloc.start()
    try:
        assert_refused(decoder, update)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024 * 1024


def test_a_huge_declared_screen_allocates_nothing_before_validation() -> None:
    forger = Forger(MAX_DIMENSION, MAX_DIMENSION)
    decoder = ScreenDecoder()
    tracemalloc.start()
    try:
        assert_refused(decoder, forger.update(fill(0, 0, 1, 1) + b"\x07", keyframe=True))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert decoder.framebuffer.shape == (0, 0, 3)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_codec_error(data: bytes) -> None:
    decoder = ScreenDecoder()
    with contextlib.suppress(CodecError):
        decoder.decode(data)
    assert decoder.framebuffer.shape == (0, 0, 3)


record_kinds = st.sampled_from([0, *list(RectType), 6, 255])


@st.composite
def records(draw: st.DrawFn) -> bytes:
    kind = draw(record_kinds)
    dims = [draw(st.integers(0, 70)) for _ in range(4)]
    payload = draw(st.binary(max_size=120))
    if draw(st.booleans()) and kind == RectType.PALETTE:
        payload = bytes([draw(st.integers(0, 255))]) + payload
    return RECORD_HEADER.pack(kind, *dims) + payload


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=4), st.booleans())
def test_random_records_raise_only_codec_error_and_change_nothing(
    bodies: list[bytes], keyframe: bool
) -> None:
    forger = Forger()
    decoder = ScreenDecoder()
    decoder.decode(forger.update(fill(0, 0, 64, 48), keyframe=True))
    before = decoder.framebuffer.copy()
    try:
        rects = decoder.decode(forger.update(b"".join(bodies), keyframe=keyframe))
    except CodecError:
        assert np.array_equal(decoder.framebuffer, before)
        assert decoder.needs_keyframe
        return
    for rect in rects:
        assert 0 <= rect.x < rect.x + rect.width <= WIDTH
        assert 0 <= rect.y < rect.y + rect.height <= HEIGHT


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 255), st.integers(1, 8))
def test_flipped_bytes_in_a_real_stream_raise_only_codec_error(
    position: int, value: int, frames: int
) -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    page = text_page(160, 20)
    updates = [u for i in range(frames) for u in encoder.encode(page[i * 9 : i * 9 + 120])]
    target = position % len(updates)
    original = updates[target]
    damaged = bytearray(original)
    damaged[position % len(damaged)] = value
    updates[target] = bytes(damaged)
    for index, update in enumerate(updates):
        try:
            decoder.decode(update)
        except CodecError:
            assert index >= target
            return
    # Integrity is the AEAD layer's job: a flipped pixel may decode. Nothing else may.
    if updates[target] == original:
        last = (frames - 1) * 9
        assert np.array_equal(decoder.framebuffer, bgr(page[last : last + 120]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000), st.integers(0, 255))
def test_flipped_bytes_in_a_stream_with_video_raise_only_codec_error(
    position: int, value: int
) -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    screen = text_page(256, 8)[:128]
    frames = []
    for picture in video_frames(128, 64, 6):
        frame = screen.copy()
        frame[64:, 128:] = picture
        frames.append(frame)
    updates = [u for frame in frames for u in encoder.encode(frame)]
    assert encoder.stats.video_records == 6 + 1 - video_regions.MOTION_UPDATES
    target = position % len(updates)
    damaged = bytearray(updates[target])
    damaged[position % len(damaged)] = value
    updates[target] = bytes(damaged)
    for index, update in enumerate(updates):
        try:
            decoder.decode(update)
        except CodecError:
            assert index >= target
            return


def palette_record(x: int, y: int, w: int, h: int) -> bytes:
    """A 1-bit palette record: two colours, all indices 0 (compresses to almost nothing)."""
    packed = bytes(h * ((w + 7) // 8))
    return record(RectType.PALETTE, x, y, w, h, bytes([1]) + b"\x00\x00\x00\xff\xff\xff" + packed)


def test_pixel_records_may_cover_the_screen_only_once(
    forger: Forger, decoder: ScreenDecoder
) -> None:
    whole = palette_record(0, 0, WIDTH, HEIGHT)
    assert_refused(decoder, forger.update(whole + whole))
    forger.seq -= 1  # the refused update did not count
    assert decoder.decode(forger.update(whole, keyframe=True))


def test_an_update_moves_at_most_one_region(forger: Forger, decoder: ScreenDecoder) -> None:
    copy = record(RectType.COPY, 0, 0, 8, 8, COPY_SOURCE.pack(8, 8))
    assert_refused(decoder, forger.update(copy + copy))


def test_a_tiny_hostile_update_cannot_make_the_decoder_allocate_much() -> None:
    """Repeated full-screen palette records compress to a few hundred bytes; refused
    before any colour is expanded."""
    width, height = 2048, 2048
    forger, decoder = Forger(width, height), ScreenDecoder()
    body = b"".join(palette_record(0, 0, width, height) for _ in range(4))
    update = forger.update(body, keyframe=True)
    assert len(update) < 4096
    tracemalloc.start()
    with pytest.raises(CodecError):
        decoder.decode(update)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The body itself (4 × 0.5 MiB) and one record's indices (4 MiB) at most; the old
    # decoder expanded every record to colours first (4 × 12 MiB).
    assert peak < 16 * 1024 * 1024


def video(
    x: int, y: int, w: int, h: int, data: bytes, *, stream: int = 0, start: bool = False
) -> bytes:
    flags = VIDEO_START if start else 0
    return record(RectType.VIDEO, x, y, w, h, VIDEO_HEADER.pack(stream, flags, len(data)) + data)


@pytest.fixture(scope="module")
def pictures() -> list[NDArray[np.uint8]]:
    """A photo panning through a 32×48 region."""
    big = photo(44, 60)
    return [big[3 * i : 3 * i + 48, 3 * i : 3 * i + 32] for i in range(4)]


@pytest.fixture(scope="module")
def stream(pictures: list[NDArray[np.uint8]]) -> list[bytes]:
    """Four access units of a 32×48 region: an IDR picture, then P pictures."""
    encoder = H264Encoder(32, 48)
    return [encoder.encode(picture) for picture in pictures]


@pytest.fixture
def playing(forger: Forger, stream: list[bytes]) -> ScreenDecoder:
    """A decoder showing a keyframe whose right half is video stream 0."""
    decoder = ScreenDecoder()
    body = fill(0, 0, 32, HEIGHT) + video(32, 0, 32, 48, stream[0], start=True)
    assert decoder.decode(forger.update(body, keyframe=True)) == [Rect(0, 0, WIDTH, HEIGHT)]
    return decoder


def psnr(picture: NDArray[np.uint8], wanted: NDArray[np.uint8]) -> float:
    mse = float(np.mean((picture.astype(np.float64) - wanted[..., :3]) ** 2))
    return 10 * math.log10(255**2 / mse)


def test_video_records_are_decoded_and_painted(
    forger: Forger,
    playing: ScreenDecoder,
    stream: list[bytes],
    pictures: list[NDArray[np.uint8]],
) -> None:
    assert psnr(playing.framebuffer[:, 32:], pictures[0]) >= 35
    assert (playing.framebuffer[:, :32] == [1, 2, 3]).all()
    rects = playing.decode(forger.update(video(32, 0, 32, 48, stream[1]) + fill(0, 0, 4, 4)))
    assert rects == [Rect(32, 0, 32, 48), Rect(0, 0, 4, 4)]
    assert psnr(playing.framebuffer[:, 32:], pictures[1]) >= 35


def test_odd_sized_regions_are_cropped_from_even_pictures(forger: Forger) -> None:
    picture = photo(31, 47)
    data = H264Encoder(31, 47).encode(picture)
    decoder = ScreenDecoder()
    body = fill(0, 0, 33, 48) + fill(33, 0, 31, 1) + video(33, 1, 31, 47, data, start=True)
    decoder.decode(forger.update(body, keyframe=True))
    assert psnr(decoder.framebuffer[1:, 33:], picture) >= 35
    assert (decoder.framebuffer[0] == [1, 2, 3]).all()


GARBAGE = np.random.default_rng(3).integers(0, 256, 700, dtype=np.uint8).tobytes()
#: Bodies a hostile peer could send to a decoder playing `stream` at (32, 0, 32, 48).
BAD_VIDEOS: dict[str, Callable[[list[bytes]], bytes]] = {
    "a stream that never started": lambda s: video(32, 0, 32, 48, s[1], stream=1),
    "stream id too big": lambda s: video(32, 0, 32, 48, s[1], stream=MAX_VIDEO_STREAMS),
    "unknown flag": lambda s: record(
        RectType.VIDEO, 32, 0, 32, 48, VIDEO_HEADER.pack(0, 0x02, 10) + bytes(10)
    ),
    "payload shorter than its length": lambda s: video(32, 0, 32, 48, s[1])[:-5],
    "huge length": lambda s: record(
        RectType.VIDEO, 32, 0, 32, 48, VIDEO_HEADER.pack(0, 0, 2**32 - 1)
    ),
    "truncated picture": lambda s: video(32, 0, 32, 48, s[1][: len(s[1]) // 2]),
    "garbage": lambda s: video(32, 0, 32, 48, GARBAGE),
    "garbage after a start code": lambda s: video(32, 0, 32, 48, b"\x00\x00\x00\x01" + GARBAGE),
    "garbage as a start": lambda s: video(32, 0, 32, 48, GARBAGE, start=True),
    "a start without a key picture": lambda s: video(32, 0, 32, 48, s[1], start=True),
    "a continuation that moved": lambda s: video(30, 0, 32, 48, s[1]),
    "a continuation of another size": lambda s: video(33, 0, 31, 48, s[1]),
    "a region outside the screen": lambda s: video(40, 0, 32, 48, s[0], start=True),
    "one stream twice": lambda s: video(32, 0, 32, 48, s[1]) + video(0, 0, 16, 16, s[1]),
    "paints too much": lambda s: video(32, 0, 32, 48, s[1]) + fill(0, 0, 64, 48),
}


@pytest.mark.parametrize("case", BAD_VIDEOS)
def test_bad_video_records_are_refused_whole(
    forger: Forger, playing: ScreenDecoder, stream: list[bytes], case: str
) -> None:
    body = BAD_VIDEOS[case](stream)
    assert_refused(playing, forger.update(fill(0, 0, 4, 4, b"\xee\xee\xee") + body))


def test_a_keyframe_must_start_every_stream_it_shows(
    forger: Forger, playing: ScreenDecoder, stream: list[bytes]
) -> None:
    assert_refused(playing, forger.update(video(32, 0, 32, 48, stream[1]), keyframe=True))


def test_after_a_video_error_the_next_keyframe_recovers(
    forger: Forger,
    playing: ScreenDecoder,
    stream: list[bytes],
    pictures: list[NDArray[np.uint8]],
) -> None:
    assert_refused(playing, forger.update(video(32, 0, 32, 48, b"\x00\x00\x01\x65" + bytes(50))))
    assert_refused(playing, forger.update(video(32, 0, 32, 48, stream[1])))  # no keyframe yet
    encoder = H264Encoder(32, 48)
    restart = encoder.encode(pictures[2])
    playing.decode(forger.update(video(32, 0, 32, 48, restart, start=True), keyframe=True))
    playing.decode(forger.update(video(32, 0, 32, 48, encoder.encode(pictures[3]))))
    assert psnr(playing.framebuffer[:, 32:], pictures[3]) >= 35
    assert (playing.framebuffer[:, :32] == 0).all()  # a keyframe starts from black


def test_a_start_ends_the_streams_it_overlaps(
    forger: Forger, playing: ScreenDecoder, stream: list[bytes]
) -> None:
    other = H264Encoder(32, 48).encode(video_frames(32, 48, 1)[0])
    playing.decode(forger.update(video(16, 0, 32, 48, other, stream=1, start=True)))
    assert_refused(playing, forger.update(video(32, 0, 32, 48, stream[1])))


def test_streams_that_do_not_overlap_play_side_by_side(forger: Forger, stream: list[bytes]) -> None:
    encoder = H264Encoder(32, 48)
    decoder = ScreenDecoder()
    first = video(32, 0, 32, 48, stream[0], start=True)
    second = video(0, 0, 32, 48, encoder.encode(photo(32, 48)), stream=3, start=True)
    decoder.decode(forger.update(first + second, keyframe=True))
    decoder.decode(
        forger.update(
            video(32, 0, 32, 48, stream[1])
            + video(0, 0, 32, 48, encoder.encode(photo(32, 48)), stream=3)
        )
    )
    assert psnr(decoder.framebuffer[:, :32], photo(32, 48)) >= 35


def test_video_regions_over_the_size_limit_are_refused_before_decoding() -> None:
    forger = Forger(MAX_VIDEO_SIDE + 2, 16)
    decoder = ScreenDecoder()
    decoder.decode(forger.update(fill(0, 0, MAX_VIDEO_SIDE + 2, 16), keyframe=True))
    before = decoder.framebuffer.copy()
    wide = video(0, 0, MAX_VIDEO_SIDE + 1, 16, b"\x00\x00\x01\x65" + bytes(8), start=True)
    with pytest.raises(CodecError, match="larger than allowed"):
        decoder.decode(forger.update(wide))
    assert np.array_equal(decoder.framebuffer, before)


def test_video_pictures_over_the_packet_limit_are_refused_before_decoding(
    forger: Forger, playing: ScreenDecoder
) -> None:
    limit = max_video_packet(32, 48)
    with pytest.raises(CodecError, match="larger than allowed"):
        playing.decode(forger.update(video(32, 0, 32, 48, bytes(limit + 1))))
