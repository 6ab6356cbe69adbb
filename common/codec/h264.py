"""One H.264 stream per video region, through PyAV: libx264 on the sending side,
libavcodec's decoder on the receiving side.

Pictures are 4:4:4 (coloured text stays sharp), 8-bit, full-range BT.601 YCbCr (the JPEG
matrix): both sides convert with that matrix whatever the stream's own colour tags say.
The conversion runs in libswscale through one reused `VideoReformatter` per stream, into
and out of frames allocated once, never `VideoFrame.from_ndarray(...).reformat()` per
picture (docs/codec.md, section 5, has the measurements).

A stream's pictures have even sides (the region's size rounded up; the encoder repeats the
last column or row), so any H.264 decoder accepts them; the decoder paints only the region.
"""

from __future__ import annotations

from fractions import Fraction

import av
import av.error
import numpy as np
from av.codec.context import Flags
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType, VideoFrame
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter
from numpy.typing import NDArray

from common.codec.frame_words import BgraFrame
from common.codec.h264_syntax import check_access_unit, strip_sei
from common.errors import CodecError

#: x264's constant-quality factor. 23 is x264's default; on photos and video it gives
#: 38–40 dB PSNR over the region here (docs/codec.md, section 8).
CRF = 23
#: Video regions use x264's superfast preset without three of its tools
#: (`REGION_PARAMS`): sub-pixel refinement, weighted prediction and 8×8 transforms (and
#: so 8×8 intra partitions). CABAC, the deblocking filter and intra 4×4 partitions stay:
#: they save 13–39% of the bytes. The three cost about 0.7 ms of x264's 5.2 ms a picture
#: of a grainy 640×448 video, for a few per cent of bytes either way (docs/codec.md,
#: section 8).
PRESET = "superfast"
REGION_PARAMS = "subme=0:weightp=0:8x8dct=0:partitions=i4x4"
#: A region that has played like a video for a while (`video_regions.STEADY_PICTURES`)
#: goes over to plain ultrafast: 3.1 ms instead of 5.5 a picture of a grainy 640×448
#: video (copy and conversion included), for 22 % more bytes at the same PSNR. Photos and
#: pages that scroll keep the settings above, which spend their CPU where it saves most.
STEADY_PRESET = "ultrafast"
#: x264 settings for interactive use: no lookahead, no B-frames, one packet per picture;
#: no periodic keyframes (the screen codec's keyframes restart the stream instead); no
#: adaptive quantisation (superfast turns it on): it moves bits from flat areas (the
#: background of text) to textured ones, costing PSNR for no gain on screens.
X264_OPTIONS = {
    "tune": "zerolatency",
    "forced-idr": "1",
    "x264-params": "keyint=infinite:scenecut=0:aq-mode=0",
}
#: Regions this large get x264's sliced threads; smaller ones encode faster on one.
THREADED_AREA = 1024 * 1024
_FORMATS_444 = frozenset({"yuv444p", "yuvj444p"})


def coded_size(width: int, height: int) -> tuple[int, int]:
    """The size of a region's H.264 pictures: each side rounded up to even."""
    return width + (width & 1), height + (height & 1)


class H264Encoder:
    """Encodes successive pictures of one region (a fixed size) into Annex-B access units.

    The first picture, and any with `idr=True`, is an IDR picture preceded by its SPS and
    PPS, where a decoder can start.
    """

    def __init__(
        self, width: int, height: int, *, crf: int = CRF, preset: str | None = None
    ) -> None:
        """By default with the video regions' settings; a named x264 `preset` is taken as
        it is (with `X264_OPTIONS`), for comparisons."""
        self.width, self.height = width, height
        params = X264_OPTIONS["x264-params"]
        if preset is None:
            preset, params = PRESET, f"{params}:{REGION_PARAMS}"
        self.preset = preset
        coded_width, coded_height = coded_size(width, height)
        context = av.CodecContext.create("libx264", "w")
        assert isinstance(context, VideoCodecContext)
        context.width, context.height, context.pix_fmt = coded_width, coded_height, "yuv444p"
        context.time_base = Fraction(1, 30)
        context.color_range = ColorRange.JPEG
        context.colorspace = Colorspace.ITU601
        context.thread_count = 0 if coded_width * coded_height >= THREADED_AREA else 1
        context.options = {**X264_OPTIONS, "x264-params": params, "preset": preset, "crf": str(crf)}
        context.open()
        self._context = context
        self._source = VideoFrame(coded_width, coded_height, "bgra")
        plane = self._source.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(coded_height, plane.line_size)
        self._pixels = rows[:, : 4 * coded_width].reshape(coded_height, coded_width, 4)
        self._reformatter = VideoReformatter()
        self._pts = 0

    def encode(self, pixels: BgraFrame, *, idr: bool = False) -> bytes:
        """One access unit for `pixels` (height × width × 4, B G R and ignored alpha)."""
        height, width = self.height, self.width
        target = self._pixels
        target[:height, :width] = pixels
        if width != target.shape[1]:
            target[:height, width] = target[:height, width - 1]
        if height != target.shape[0]:
            target[height] = target[height - 1]
        picture = self._reformatter.reformat(
            self._source,
            format="yuv444p",
            src_colorspace=Colorspace.ITU601,
            dst_colorspace=Colorspace.ITU601,
            dst_color_range=ColorRange.JPEG,
        )
        picture.pts = self._pts
        if idr:
            picture.pict_type = PictureType.I
        first = self._pts == 0
        self._pts += 1
        packets = self._context.encode(picture)
        if len(packets) != 1:
            raise RuntimeError(f"libx264 returned {len(packets)} packets for one picture")
        data = bytes(packets[0])
        return strip_sei(data) if first else data


class H264Decoder:
    """Decodes one region's stream, each access unit to exactly one picture, and refuses
    (`CodecError`) anything else. After an error it is not reusable: the stream restarts
    at the next keyframe with a new decoder."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._coded = coded_size(width, height)
        context = av.CodecContext.create("h264", "r")
        assert isinstance(context, VideoCodecContext)
        # One thread: frame threads would hold pictures back, and decoding is cheap.
        context.thread_count = 1
        context.flags |= Flags.low_delay
        coded_width, coded_height = self._coded
        context.options = {
            # Refuse minor bitstream errors instead of concealing them.
            "err_detect": "explode",
            # libavcodec allocates rows padded to 64 pixels and macroblock rows of 16.
            "max_pixels": str((coded_width + 64) * (coded_height + 16)),
        }
        context.open()
        self._context = context
        self._reformatter = VideoReformatter()

    def decode(self, data: bytes, *, start: bool) -> NDArray[np.uint8]:
        """The region's picture (height × width × 3, B G R) that `data` decodes to.
        `start`: the first access unit of the stream, which must be an IDR picture."""
        coded_width, coded_height = self._coded
        check_access_unit(data, coded_width, coded_height, start=start)
        try:
            frames = self._context.decode(av.Packet(data))
        except av.error.FFmpegError as error:
            raise CodecError("A video region could not be decoded.") from error
        if len(frames) != 1:
            raise CodecError("A video region's data is not exactly one picture.")
        frame = frames[0]
        if (
            frame.is_corrupt
            or (frame.width, frame.height) != self._coded
            or frame.format.name not in _FORMATS_444
            or (start and not frame.key_frame)
        ):
            raise CodecError("A video region decoded to a picture it does not describe.")
        picture = self._reformatter.reformat(
            frame,
            format="bgr24",
            src_colorspace=Colorspace.ITU601,
            dst_colorspace=Colorspace.ITU601,
            src_color_range=ColorRange.JPEG,
            dst_color_range=ColorRange.JPEG,
        )
        plane = picture.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(coded_height, plane.line_size)
        # The array keeps the plane, and so the picture, alive.
        pixels = rows[:, : 3 * coded_width].reshape(coded_height, coded_width, 3)
        return pixels[: self.height, : self.width]
