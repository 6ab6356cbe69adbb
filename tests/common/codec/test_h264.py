"""H264Encoder and H264Decoder: one region's stream through PyAV, and what the decoder
refuses."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.synthetic_screens import photo, video_frames
from common.codec import h264
from common.codec.h264 import H264Decoder, H264Encoder, coded_size
from common.codec.h264_syntax import NAL_IDR_SLICE, NAL_SPS, nal_units
from common.errors import CodecError


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b[..., :3]) ** 2))
    return 10 * np.log10(255**2 / mse)


@pytest.mark.parametrize(("width", "height"), [(320, 192), (321, 191)])
def test_a_stream_round_trips_at_high_quality(width: int, height: int) -> None:
    encoder, decoder = H264Encoder(width, height), H264Decoder(width, height)
    for index, frame in enumerate(video_frames(width, height, 6)):
        picture = decoder.decode(encoder.encode(frame), start=index == 0)
        assert picture.shape == (height, width, 3)
        assert psnr(picture, frame) >= 35


@pytest.mark.parametrize(("width", "height"), [(1, 1), (64, 3), (3, 64)])
def test_tiny_regions_round_trip(width: int, height: int) -> None:
    encoder, decoder = H264Encoder(width, height), H264Decoder(width, height)
    for index, frame in enumerate(video_frames(width, height, 3)):
        picture = decoder.decode(encoder.encode(frame), start=index == 0)
        assert picture.shape == (height, width, 3)
        assert np.abs(picture.astype(int) - frame[..., :3]).mean() < 8


def test_coded_sizes_are_even() -> None:
    assert coded_size(97, 61) == (98, 62)
    assert coded_size(64, 2) == (64, 2)


def test_a_forced_idr_lets_a_new_decoder_start_mid_stream() -> None:
    encoder = H264Encoder(320, 192)
    frames = video_frames(320, 192, 5)
    units = [encoder.encode(frames[0]), encoder.encode(frames[1])]
    units.append(encoder.encode(frames[2], idr=True))
    assert NAL_SPS in {u.type for u in nal_units(units[2])}
    assert NAL_IDR_SLICE in {u.type for u in nal_units(units[2])}
    late = H264Decoder(320, 192)
    assert psnr(late.decode(units[2], start=True), frames[2]) >= 35
    assert psnr(late.decode(encoder.encode(frames[3]), start=False), frames[3]) >= 35


def test_the_encoder_reads_a_view_of_a_bigger_frame() -> None:
    screen = photo(300, 200)
    encoder, decoder = H264Encoder(101, 51), H264Decoder(101, 51)
    picture = decoder.decode(encoder.encode(screen[10:61, 20:121]), start=True)
    assert psnr(picture, screen[10:61, 20:121]) >= 35


@pytest.fixture(scope="module")
def units() -> list[bytes]:
    encoder = H264Encoder(96, 64)
    return [encoder.encode(frame) for frame in video_frames(96, 64, 3)]


def refused(decoder: H264Decoder, data: bytes, *, start: bool) -> None:
    with pytest.raises(CodecError):
        decoder.decode(data, start=start)


def test_garbage_is_refused_as_codec_error() -> None:
    rng = np.random.default_rng(1)
    for size in (10, 500, 5000):
        garbage = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        refused(H264Decoder(96, 64), garbage, start=True)
        refused(H264Decoder(96, 64), b"\x00\x00\x00\x01" + garbage, start=True)


def test_a_truncated_key_picture_is_refused(units: list[bytes]) -> None:
    # Losing only the last byte or two can go unnoticed (they may be trailing bits):
    # integrity is the encrypted transport's job. Anything more is a decode error.
    for cut in (10, len(units[0]) // 3, len(units[0]) * 2 // 3, len(units[0]) - 8):
        refused(H264Decoder(96, 64), units[0][:cut], start=True)


def test_a_stream_must_start_with_its_key_picture(units: list[bytes]) -> None:
    refused(H264Decoder(96, 64), units[1], start=True)
    refused(H264Decoder(96, 64), units[1], start=False)  # no SPS/PPS yet: libavcodec refuses


def test_a_stream_of_another_size_is_refused(units: list[bytes]) -> None:
    refused(H264Decoder(94, 64), units[0], start=True)
    refused(H264Decoder(96, 62), units[0], start=True)


def test_two_pictures_in_one_access_unit_are_refused(units: list[bytes]) -> None:
    decoder = H264Decoder(96, 64)
    decoder.decode(units[0], start=True)
    refused(decoder, units[1] + units[2], start=False)


def x264_settings(monkeypatch: pytest.MonkeyPatch, encoder: H264Encoder) -> set[str]:
    """The settings x264 reports in the SEI unit of its first access unit."""
    seen: list[bytes] = []
    monkeypatch.setattr(h264, "strip_sei", lambda data: seen.append(data) or data)
    encoder.encode(np.zeros((encoder.height, encoder.width, 4), np.uint8))
    (first,) = seen
    options = first.split(b"options: ", 1)[1].split(b"\x00", 1)[0]
    return set(options.decode().split())


def test_regions_use_superfast_without_subpixel_weighted_prediction_and_8x8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    region = x264_settings(monkeypatch, H264Encoder(64, 64))
    # CABAC, deblocking, intra 4×4 in I and P pictures; none of the three tools.
    assert {"cabac=1", "deblock=1:0:0", "analyse=0x1:0x1"} <= region
    assert {"subme=0", "weightp=0", "8x8dct=0", "aq=0", "bframes=0"} <= region
    # A named preset is taken as it is (the benchmarks' baselines).
    superfast = x264_settings(monkeypatch, H264Encoder(64, 64, preset="superfast"))
    assert {"subme=1", "weightp=1", "8x8dct=1", "analyse=0x3:0x3", "aq=0"} <= superfast
