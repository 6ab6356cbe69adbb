"""The decoder's H.264 streams, one per stream id, and the rules VIDEO records obey.

* A START record begins stream `id` afresh (a new libavcodec decoder) at its rectangle,
  and ends every other stream whose rectangle overlaps it: the encoder's regions never
  overlap, so live streams cover each part of the screen at most once, and their memory
  stays bounded by the screen's area.
* Any other record continues a live stream, with exactly the rectangle it started with.
* A keyframe ends every stream first, so its VIDEO records must all be STARTs.
* An id appears at most once per update.

`VideoStreams.decode` works on a copy of the table, which the caller keeps only if the
whole update is good: after a `CodecError` the decoder waits for a keyframe, which
replaces everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from common.codec.h264 import H264Decoder
from common.codec.wire_format import Rect
from common.errors import CodecError


@dataclass(frozen=True, slots=True)
class VideoPacket:
    """A parsed VIDEO record, not yet decoded."""

    rect: Rect
    stream: int
    start: bool
    data: bytes


@dataclass(frozen=True, slots=True)
class _Stream:
    rect: Rect
    decoder: H264Decoder


class VideoStreams:
    def __init__(self, streams: dict[int, _Stream] | None = None) -> None:
        self._streams = {} if streams is None else streams

    def decode(
        self, packets: list[VideoPacket], *, keyframe: bool
    ) -> tuple[VideoStreams, list[NDArray[np.uint8]]]:
        """The table after these packets, and each packet's picture (h × w × 3, B G R).

        Raises `CodecError`. Live streams are fed in place, so after an error this table
        is no longer trustworthy: wait for a keyframe, which starts from an empty one."""
        streams = {} if keyframe else dict(self._streams)
        seen: set[int] = set()
        pictures = []
        for packet in packets:
            if packet.stream in seen:
                raise CodecError("A screen update paints one video region twice.")
            seen.add(packet.stream)
            rect = packet.rect
            if packet.start:
                for other, stream in list(streams.items()):
                    if other != packet.stream and _overlap(stream.rect, rect):
                        del streams[other]
                streams[packet.stream] = _Stream(rect, H264Decoder(rect.width, rect.height))
            elif packet.stream not in streams or streams[packet.stream].rect != rect:
                raise CodecError("A screen update continues a video region that never started.")
            decoder = streams[packet.stream].decoder
            pictures.append(decoder.decode(packet.data, start=packet.start))
        return VideoStreams(streams), pictures


def _overlap(a: Rect, b: Rect) -> bool:
    return (
        a.x < b.x + b.width
        and b.x < a.x + a.width
        and a.y < b.y + b.height
        and b.y < a.y + a.height
    )
