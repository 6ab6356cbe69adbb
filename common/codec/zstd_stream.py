"""One zstd stream per keyframe interval, flushed at the end of every update.

Later updates refer back to earlier ones (a glyph seen once is cheap the next time), so
every update must be decompressed, in order, by a stream that saw the same keyframe.
A keyframe restarts both sides: that is where a new viewer or a recorder can join.
"""

from __future__ import annotations

import enum

import zstandard

from common.errors import CodecError

LEVEL = 3
#: The level of `StreamMode.FAST`: on updates that are mostly H.264 it saves the same
#: 3 % of their bytes as level 3, in a third of the time: 0.05 ms against 0.15 for the
#: 31 kB update of a 640×360 video on its own, 0.13 against 0.57 in the encoder, whose
#: frames keep pushing zstd's tables out of the cache.
FAST_LEVEL = 1
#: The window the encoder uses and the largest a decoder accepts (4 MiB).
WINDOW_LOG = 22
#: Compressed bytes fed to the decompressor per call. Each zstd block costs at least
#: 4 bytes and yields at most 128 KiB, so one call overshoots the budget by at most
#: (FEED / 4 + 1) × 128 KiB = 16.1 MiB before the check below stops it.
FEED = 512


#: Long-distance matching: a hash of every 16th position (zstd's default samples fewer),
#: matches of 32 bytes or more (default 64). On the screen updates of a recorded office
#: minute: 257 kB without it, 213 kB with zstd's defaults, 166 kB with these; they read
#: 4.5 ns a byte, against 0.9 ns without and 2.3 ns with the defaults.
LDM_HASH_RATE_LOG = 4
LDM_MIN_MATCH = 32


class StreamMode(enum.Enum):
    """How the encoder's zstd stream compresses (the decoder reads them all alike)."""

    #: Level 3 with long-distance matching: what screens of text and windows need.
    LONG = "long"
    #: Level 3 alone: large updates keep coming (a terminal scrolling fast).
    PLAIN = "plain"
    #: `FAST_LEVEL`: updates are mostly H.264 (a video playing).
    FAST = "fast"


def _compressor(mode: StreamMode) -> zstandard.ZstdCompressor:
    if mode == StreamMode.FAST:
        params = zstandard.ZstdCompressionParameters.from_level(FAST_LEVEL, window_log=WINDOW_LOG)
    else:
        long_matches = mode == StreamMode.LONG
        ldm = {"ldm_hash_rate_log": LDM_HASH_RATE_LOG, "ldm_min_match": LDM_MIN_MATCH}
        params = zstandard.ZstdCompressionParameters.from_level(
            LEVEL, window_log=WINDOW_LOG, enable_ldm=long_matches, **(ldm if long_matches else {})
        )
    return zstandard.ZstdCompressor(compression_params=params)


class CompressionStream:
    """The encoder's side: call `restart` at every keyframe (and to change its
    `StreamMode`), `compress_update` per update.

    Long-distance matching finds a page of text sent minutes before when the person
    brings its window back, and the lines of a text seen before (an office minute: 35 %
    fewer bytes). It reads every byte again: about 1.8 ms more on each update of a
    terminal scrolling 500 lines a second, whose bodies are 0.5 MB. The encoder turns it
    off while updates that large keep coming, and uses a faster level while a video
    plays (`common.codec.encoder`)."""

    def __init__(self, mode: StreamMode = StreamMode.LONG) -> None:
        self._contexts = {each: _compressor(each) for each in StreamMode}
        self.mode = mode
        self._stream = self._contexts[mode].compressobj()

    def restart(self, mode: StreamMode | None = None) -> None:
        if mode is not None:
            self.mode = mode
        self._stream = self._contexts[self.mode].compressobj()

    def compress_update(self, body: bytes) -> bytes:
        """Compresses `body` and flushes, so the decoder can decode it all right away."""
        return self._stream.compress(body) + self._stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)


class DecompressionStream:
    """The decoder's side. A fresh instance decodes from a keyframe on; after any
    `CodecError` it is broken for good, so start a fresh one at the next keyframe."""

    def __init__(self) -> None:
        context = zstandard.ZstdDecompressor(max_window_size=1 << WINDOW_LOG)
        self._stream = context.decompressobj()

    def decompress_update(self, data: bytes | memoryview, length: int) -> bytes:
        """The `length` bytes that `data` decompresses to, or `CodecError` if it yields
        any other amount or is not valid zstd. Memory stays within length + 16.1 MiB."""
        out = []
        produced = 0
        view = memoryview(data)
        try:
            for start in range(0, len(view), FEED):
                chunk = self._stream.decompress(view[start : start + FEED])
                produced += len(chunk)
                if produced > length:
                    raise CodecError("A screen update decompresses to more than it declares.")
                out.append(chunk)
        except zstandard.ZstdError as error:
            raise CodecError("A screen update is not valid compressed data.") from error
        if produced != length:
            raise CodecError("A screen update decompresses to less than it declares.")
        return b"".join(out)
