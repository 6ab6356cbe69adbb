"""The access-unit checks that run before libavcodec sees a peer's H.264 data."""

from __future__ import annotations

import contextlib
from fractions import Fraction

import av
import numpy as np
import pytest
from av.video.codeccontext import VideoCodecContext

from benchmarks.synthetic_screens import photo
from common.codec.h264 import H264Encoder
from common.codec.h264_syntax import (
    MAX_NAL_UNITS,
    NAL_IDR_SLICE,
    NAL_PPS,
    NAL_SEI,
    NAL_SLICE,
    NAL_SPS,
    check_access_unit,
    nal_units,
    parse_sps,
    strip_sei,
)
from common.errors import CodecError


def x264_stream(width: int, height: int, pix_fmt: str, params: str, frames: int = 2) -> list[bytes]:
    """Access units straight from libx264 (SEI included), for streams we never send."""
    context = av.CodecContext.create("libx264", "w")
    assert isinstance(context, VideoCodecContext)
    context.width, context.height, context.pix_fmt = width, height, pix_fmt
    context.time_base = Fraction(1, 30)
    context.options = {"preset": "ultrafast", "tune": "zerolatency", "x264-params": params}
    units = []
    for index in range(frames):
        picture = av.VideoFrame.from_ndarray(photo(width, height, seed=index), format="bgra")
        picture = picture.reformat(format=pix_fmt)
        picture.pts = index
        units.append(b"".join(bytes(p) for p in context.encode(picture)))
    return units


@pytest.fixture(scope="module")
def ours() -> list[bytes]:
    encoder = H264Encoder(94, 50)
    return [encoder.encode(photo(94, 50, seed=i)) for i in range(3)]


def sps_payload(unit: bytes) -> bytes:
    sps = next(u for u in nal_units(unit) if u.type == NAL_SPS)
    return unit[sps.header + 1 : sps.end]


def test_our_first_access_unit_is_a_complete_key_picture_without_sei(ours: list[bytes]) -> None:
    assert [u.type for u in nal_units(ours[0])][:2] == [NAL_SPS, NAL_PPS]
    assert {u.type for u in nal_units(ours[0])} == {NAL_SPS, NAL_PPS, NAL_IDR_SLICE}
    assert {u.type for u in nal_units(ours[1])} == {NAL_SLICE}
    sps = parse_sps(sps_payload(ours[0]))
    assert (sps.profile_idc, sps.chroma_format_idc) == (244, 3)
    assert (sps.bit_depth_luma, sps.bit_depth_chroma, sps.max_num_ref_frames) == (8, 8, 1)
    assert (sps.width, sps.height) == (94, 50)
    check_access_unit(ours[0], 94, 50, start=True)
    check_access_unit(ours[1], 94, 50, start=False)


def test_strip_sei_keeps_every_other_unit_byte_for_byte() -> None:
    first = x264_stream(64, 32, "yuv444p", "")[0]
    assert NAL_SEI in {u.type for u in nal_units(first)}
    stripped = strip_sei(first)
    assert [u.type for u in nal_units(stripped)] == [
        u.type for u in nal_units(first) if u.type != NAL_SEI
    ]
    assert len(first) - len(stripped) > 300  # x264's settings, as text
    assert strip_sei(stripped) == stripped


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "too short"),
        (b"\x00\x00\x02\x65\x88", "no start code"),
        (b"\x07\x00\x00\x01\x65\x88", "junk before the start code"),
        (b"\x00\x00\x01\x65\x00\x00\x01", "empty unit"),
        (b"\x00\x00\x01\xe5\x88\x84", "forbidden bit"),
        (b"\x00\x00\x01\x65\x88" * (MAX_NAL_UNITS + 1), "too many units"),
    ],
)
def test_malformed_byte_streams_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(CodecError):
        nal_units(data)


def test_a_start_must_be_sps_pps_and_idr(ours: list[bytes]) -> None:
    with pytest.raises(CodecError, match="key picture"):
        check_access_unit(ours[1], 94, 50, start=True)
    units = nal_units(ours[0])
    without_pps = b"".join(ours[0][u.begin : u.end] for u in units if u.type != NAL_PPS)
    with pytest.raises(CodecError, match="key picture"):
        check_access_unit(without_pps, 94, 50, start=True)
    only_headers = b"".join(ours[0][u.begin : u.end] for u in units if u.type in (7, 8))
    with pytest.raises(CodecError, match="no picture"):
        check_access_unit(only_headers, 94, 50, start=False)


def test_units_we_never_send_are_refused() -> None:
    with_sei = x264_stream(64, 32, "yuv444p", "")[0]
    with pytest.raises(CodecError, match="kind"):
        check_access_unit(with_sei, 64, 32, start=True)


@pytest.mark.parametrize(
    ("pix_fmt", "params", "size", "reason"),
    [
        ("yuv420p", "", (64, 32), "4:4:4"),
        ("yuv444p10le", "", (64, 32), "4:4:4"),
        ("yuv444p", "ref=3", (64, 32), "reference pictures"),
        ("yuv444p", "", (66, 32), "size"),
    ],
)
def test_sequence_parameters_must_match_what_we_send(
    pix_fmt: str, params: str, size: tuple[int, int], reason: str
) -> None:
    first = strip_sei(x264_stream(64, 32, pix_fmt, params)[0])
    with pytest.raises(CodecError, match=reason):
        check_access_unit(first, *size, start=True)


def test_a_truncated_or_bloated_sps_is_refused(ours: list[bytes]) -> None:
    payload = sps_payload(ours[0])
    parsed = []
    for cut in range(len(payload) + 1):
        with contextlib.suppress(CodecError):
            parse_sps(payload[:cut])
            parsed.append(cut)
    # Parsing stops at the cropping window: only cuts in the VUI after it still parse.
    assert parsed == list(range(parsed[0], len(payload) + 1))
    assert parsed[0] >= 8
    with pytest.raises(CodecError, match="too long"):
        parse_sps(payload + bytes(4096))
    with pytest.raises(CodecError, match="malformed"):
        parse_sps(payload[:3] + bytes(8))  # an Exp-Golomb code of more than 31 zeros


def test_random_sps_payloads_raise_only_codec_error() -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        payload = rng.integers(0, 256, int(rng.integers(0, 80)), dtype=np.uint8).tobytes()
        with contextlib.suppress(CodecError):
            check_access_unit(
                b"\x00\x00\x01\x67" + payload + b"\x00\x00\x01\x65\x88", 64, 32, start=False
            )
