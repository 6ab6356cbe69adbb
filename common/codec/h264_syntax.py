"""Just enough H.264 syntax to check a peer's access unit before libavcodec sees it.

libavcodec's decoder is robust against garbage, but a well-formed hostile stream can still
make it allocate: a sequence parameter set (SPS) declares the picture size and how many
reference pictures the decoder keeps. So every SPS is parsed here (ITU-T H.264 section
7.3.2.1.1) and must describe exactly what our encoder sends: High 4:4:4 Predictive, 8 bits,
progressive, the stream's size, at most `MAX_REF_FRAMES` reference pictures. Everything
else about the bitstream is left to libavcodec.

An access unit is Annex-B byte-stream: NAL units, each after a 00 00 01 start code (or
00 00 00 01). Pure logic: no PyAV here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import CodecError

NAL_SLICE = 1
NAL_IDR_SLICE = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
#: What our encoder sends once its informational SEI is stripped.
ALLOWED_NAL_TYPES = frozenset({NAL_SLICE, NAL_IDR_SLICE, NAL_SPS, NAL_PPS})
#: x264 writes one slice per thread; a handful of NAL units per picture is normal.
MAX_NAL_UNITS = 64
#: A real SPS is ~30 bytes; full scaling lists would take ~1.5 KiB.
MAX_SPS_BYTES = 2048
#: libavcodec keeps about this many pictures plus two per stream; x264 ultrafast uses 1.
MAX_REF_FRAMES = 1
PROFILE_HIGH_444 = 244
CHROMA_444 = 3
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


@dataclass(frozen=True, slots=True)
class NalUnit:
    """One NAL unit of an access unit: `begin` is where its start code begins (a 4-byte
    start code included), `header` the offset of its header byte, `end` where it ends."""

    type: int
    begin: int
    header: int
    end: int


@dataclass(frozen=True, slots=True)
class SequenceParameters:
    profile_idc: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    max_num_ref_frames: int
    frame_mbs_only: bool
    width: int
    height: int


def nal_units(data: bytes) -> list[NalUnit]:
    """The NAL units of an Annex-B access unit. Raises `CodecError` if it does not start
    with a start code, has an empty or malformed unit, or too many of them."""
    array = np.frombuffer(data, np.uint8)
    if array.size < 4:
        raise CodecError("A video picture is too short.")
    codes = np.flatnonzero((array[:-2] == 0) & (array[1:-1] == 0) & (array[2:] == 1))
    if codes.size == 0 or codes[0] > 1 or (codes[0] == 1 and array[0] != 0):
        raise CodecError("A video picture does not start with a start code.")
    if codes.size > MAX_NAL_UNITS:
        raise CodecError("A video picture has too many parts.")
    begins = [int(c) - 1 if c and array[c - 1] == 0 else int(c) for c in codes]
    units = []
    for index, code in enumerate(codes):
        header = int(code) + 3
        end = begins[index + 1] if index + 1 < len(begins) else len(data)
        if header >= end:
            raise CodecError("A video picture has an empty part.")
        byte = data[header]
        if byte & 0x80:
            raise CodecError("A video picture has a malformed part.")
        units.append(NalUnit(byte & 0x1F, begins[index], header, end))
    return units


def strip_sei(data: bytes) -> bytes:
    """The access unit without its SEI units (x264 puts ~600 bytes of its settings in
    the first one; decoders ignore them)."""
    units = nal_units(data)
    if all(unit.type != NAL_SEI for unit in units):
        return data
    return b"".join(data[u.begin : u.end] for u in units if u.type != NAL_SEI)


def check_access_unit(data: bytes, width: int, height: int, *, start: bool) -> None:
    """Refuses (`CodecError`) an access unit our encoder would not have sent for a stream
    of `width` × `height` pictures. The first of a stream (`start`) must carry an SPS, a
    PPS and an IDR picture."""
    units = nal_units(data)
    types = {unit.type for unit in units}
    if not types <= ALLOWED_NAL_TYPES:
        raise CodecError("A video picture has parts of a kind this program does not accept.")
    if not types & {NAL_SLICE, NAL_IDR_SLICE}:
        raise CodecError("A video picture has no picture data.")
    if start and not (types >= {NAL_SPS, NAL_PPS, NAL_IDR_SLICE} and NAL_SLICE not in types):
        raise CodecError("A video region does not start with a complete key picture.")
    for unit in units:
        if unit.type == NAL_SPS:
            _check_sps(parse_sps(data[unit.header + 1 : unit.end]), width, height)


def _check_sps(sps: SequenceParameters, width: int, height: int) -> None:
    if (
        sps.profile_idc != PROFILE_HIGH_444
        or sps.chroma_format_idc != CHROMA_444
        or (sps.bit_depth_luma, sps.bit_depth_chroma) != (8, 8)
        or not sps.frame_mbs_only
    ):
        raise CodecError("A video region is not 8-bit 4:4:4 progressive H.264.")
    if sps.max_num_ref_frames > MAX_REF_FRAMES:
        raise CodecError("A video region asks for too many reference pictures.")
    if (sps.width, sps.height) != (width, height):
        raise CodecError("A video region's pictures do not have the region's size.")


def parse_sps(payload: bytes) -> SequenceParameters:
    """Parses an SPS up to its cropping window (the part after the NAL header byte).
    Raises `CodecError` when it is malformed or longer than `MAX_SPS_BYTES`."""
    if len(payload) > MAX_SPS_BYTES:
        raise CodecError("A video region's parameters are too long.")
    bits = _BitReader(payload.replace(b"\x00\x00\x03", b"\x00\x00"))
    profile_idc = bits.u(8)
    bits.u(16)  # constraint flags, level_idc
    bits.ue(31)  # seq_parameter_set_id
    chroma_format_idc, depth_luma, depth_chroma = 1, 8, 8
    if profile_idc in _HIGH_PROFILES:
        chroma_format_idc = bits.ue(3)
        if chroma_format_idc == CHROMA_444 and bits.u(1):
            raise CodecError("A video region codes its colour planes separately.")
        depth_luma = 8 + bits.ue(6)
        depth_chroma = 8 + bits.ue(6)
        bits.u(1)  # qpprime_y_zero_transform_bypass_flag
        if bits.u(1):  # seq_scaling_matrix_present_flag
            for index in range(12 if chroma_format_idc == CHROMA_444 else 8):
                if bits.u(1):
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue(12)  # log2_max_frame_num_minus4
    poc_type = bits.ue(2)
    if poc_type == 0:
        bits.ue(12)  # log2_max_pic_order_cnt_lsb_minus4
    elif poc_type == 1:
        bits.u(1)
        bits.se()
        bits.se()
        for _ in range(bits.ue(255)):
            bits.se()
    max_num_ref_frames = bits.ue(16)
    bits.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = bits.ue(1023) + 1
    height_units = bits.ue(1023) + 1
    frame_mbs_only = bool(bits.u(1))
    if not frame_mbs_only:
        bits.u(1)  # mb_adaptive_frame_field_flag
    bits.u(1)  # direct_8x8_inference_flag
    # Crop units are 1 pixel for 4:4:4 frames; other formats are refused anyway.
    crop = (bits.ue(8192), bits.ue(8192), bits.ue(8192), bits.ue(8192)) if bits.u(1) else (0,) * 4
    height_mbs = height_units * (1 if frame_mbs_only else 2)
    return SequenceParameters(
        profile_idc=profile_idc,
        chroma_format_idc=chroma_format_idc,
        bit_depth_luma=depth_luma,
        bit_depth_chroma=depth_chroma,
        max_num_ref_frames=max_num_ref_frames,
        frame_mbs_only=frame_mbs_only,
        width=16 * width_mbs - crop[0] - crop[1],
        height=16 * height_mbs - crop[2] - crop[3],
    )


def _skip_scaling_list(bits: _BitReader, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last


class _BitReader:
    """Reads bits MSB first; every read past the end is a `CodecError`."""

    def __init__(self, data: bytes) -> None:
        self._bits = "".join(f"{byte:08b}" for byte in data)
        self._pos = 0

    def u(self, count: int) -> int:
        end = self._pos + count
        if end > len(self._bits):
            raise CodecError("A video region's parameters end too soon.")
        value = int(self._bits[self._pos : end], 2)
        self._pos = end
        return value

    def ue(self, limit: int = 0xFFFFFFFE) -> int:
        """An unsigned Exp-Golomb number, refused above `limit`."""
        one = self._bits.find("1", self._pos, self._pos + 32)
        if one < 0:
            raise CodecError("A video region's parameters are malformed.")
        zeros = one - self._pos
        self._pos = one + 1
        value = (1 << zeros) - 1 + (self.u(zeros) if zeros else 0)
        if value > limit:
            raise CodecError("A video region's parameters are out of range.")
        return value

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)
