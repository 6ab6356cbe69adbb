"""The technician's side of the screen: updates decoded off the event loop, in order,
into a framebuffer the viewer paints; the cursor kept apart.

Decoding runs on one worker thread (updates must be applied in order); the caller gets
the changed rectangles back. A :class:`~common.errors.CodecError` leaves the picture as
it was and asks the applet for a keyframe (``screen_keyframe``), once until one arrives.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from common.codec import ScreenDecoder
from common.codec.wire_format import Rect
from common.errors import CodecError, ProtocolError

log = logging.getLogger("lifeline.console")

MAX_CURSOR_SIDE = 128


@dataclass
class CursorView:
    x: int = -1
    y: int = -1
    width: int = 0
    height: int = 0
    hot_x: int = 0
    hot_y: int = 0
    #: Goes up by one with every new shape, so painters rebuild their image only then.
    shape_version: int = 0
    #: height × width × 4 uint8 (B, G, R, premultiplied alpha), or empty.
    image: np.ndarray[Any, np.dtype[np.uint8]] = field(
        default_factory=lambda: np.zeros((0, 0, 4), np.uint8)
    )


class ScreenView:
    def __init__(self) -> None:
        self.decoder = ScreenDecoder()
        self.cursor = CursorView()
        #: Held while the decoder writes; a painter copies the framebuffer under it.
        self.lock = threading.Lock()
        self.frames = 0
        self.bytes = 0
        self.keyframe_requested = False
        self._worker = concurrent.futures.ThreadPoolExecutor(1, "lifeline-decode")

    async def update(self, data: bytes) -> list[Rect] | None:
        """Applies one update; returns the rectangles that changed, or None when the
        update could not be used (then a keyframe must be asked for: see
        :attr:`needs_keyframe_request`)."""
        loop = asyncio.get_running_loop()
        try:
            rects = await loop.run_in_executor(self._worker, self._decode, data)
        except CodecError as exc:
            log.warning("a screen update could not be decoded: %s", exc)
            return None
        self.frames += 1
        self.bytes += len(data)
        self.keyframe_requested = False
        return rects

    def _decode(self, data: bytes) -> list[Rect]:
        with self.lock:
            return self.decoder.decode(data)

    @property
    def needs_keyframe_request(self) -> bool:
        """True once per lost picture: ask the applet for a keyframe now."""
        if self.decoder.needs_keyframe and not self.keyframe_requested:
            self.keyframe_requested = True
            return True
        return False

    def cursor_moved(self, x: int, y: int) -> None:
        self.cursor.x, self.cursor.y = x, y

    def cursor_shape(self, message: dict[str, Any]) -> None:
        width, height = message["width"], message["height"]
        if not (0 <= width <= MAX_CURSOR_SIDE and 0 <= height <= MAX_CURSOR_SIDE):
            raise ProtocolError("A cursor shape is larger than allowed.")
        data = message["bgra"]
        if len(data) != width * height * 4:
            raise ProtocolError("A cursor shape's pixels do not match its size.")
        self.cursor.width, self.cursor.height = width, height
        self.cursor.hot_x = min(max(message["hot_x"], 0), max(width - 1, 0))
        self.cursor.hot_y = min(max(message["hot_y"], 0), max(height - 1, 0))
        self.cursor.image = np.frombuffer(data, np.uint8).reshape(height, width, 4).copy()
        self.cursor.shape_version += 1

    def close(self) -> None:
        self._worker.shutdown(wait=True)
