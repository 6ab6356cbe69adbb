"""BGRA frames seen as rows of machine words, so a compare touches 2 pixels at a time.

X11 leaves garbage in the alpha byte, so every comparison and hash masks it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: A frame as the capturer gives it: height × width × 4 bytes, blue green red alpha.
BgraFrame = NDArray[np.uint8]
Words = NDArray[Any]

_MASK_PAIR = 0x00FFFFFF00FFFFFF
_MASK_ONE = 0x00FFFFFF


@dataclass(frozen=True, slots=True)
class FrameWords:
    """How frames of one size map to words: two pixels per uint64, or one per uint32
    when the width is odd."""

    width: int
    height: int
    pixels_per_word: int

    @classmethod
    def for_size(cls, width: int, height: int) -> FrameWords:
        return cls(width, height, 2 if width % 2 == 0 else 1)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype("<u8") if self.pixels_per_word == 2 else np.dtype("<u4")

    @property
    def mask(self) -> np.unsignedinteger[Any]:
        """AND a word with this to drop the alpha bytes."""
        if self.pixels_per_word == 2:
            return np.uint64(_MASK_PAIR)
        return np.uint32(_MASK_ONE)

    @property
    def words_per_row(self) -> int:
        return self.width // self.pixels_per_word

    def view(self, frame: BgraFrame) -> Words:
        """The frame as a height × words_per_row array sharing its memory.

        The frame must be C-contiguous and of this size.
        """
        return frame.reshape(self.height, self.width * 4).view(self.dtype)


def pixels_u32(frame: BgraFrame) -> NDArray[np.uint32]:
    """The frame as height × width little-endian uint32 (0xAARRGGBB), sharing memory."""
    height, width = frame.shape[:2]
    return frame.reshape(height, width * 4).view("<u4")


def opaque(pixels: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """A copy of the pixels with the alpha byte cleared (0x00RRGGBB)."""
    return np.bitwise_and(pixels, np.uint32(_MASK_ONE))
