"""Replays a recording at a constant frame rate: the screen updates through the same
decoder the console uses, the remote cursor drawn into the picture where it was.

Frame ``k`` shows the session as it was ``k / fps`` seconds after its first picture
(the first keyframe; before it there is nothing to show). A frame whose picture and
cursor did not change since the previous one is marked ``changed=False``, so an encoder
can let the previous frame stand (docs/rcrec.md §3).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from common.codec import ScreenDecoder, read_update_header
from common.errors import CodecError
from common.recording.format import Kind
from common.recording.reader import Record, RecordingReader

log = logging.getLogger(__name__)

Picture = npt.NDArray[np.uint8]  # height × width × 3, B G R
MAX_CURSOR = 128


@dataclass
class Cursor:
    x: int = -1
    y: int = -1
    hot_x: int = 0
    hot_y: int = 0
    #: height × width × 4, premultiplied B G R A; empty until a shape arrives.
    shape: npt.NDArray[np.uint8] | None = None


@dataclass(frozen=True)
class ReplayFrame:
    index: int
    #: Milliseconds since the recording started.
    time_ms: int
    picture: Picture
    changed: bool


def draw_cursor(picture: Picture, cursor: Cursor, *, in_place: bool = False) -> Picture:
    """``picture`` with the cursor drawn in: a copy when there is one to draw, or
    ``picture`` itself drawn on when ``in_place``."""
    shape = cursor.shape
    if shape is None or cursor.x < 0:
        return picture
    height, width = picture.shape[:2]
    left, top = cursor.x - cursor.hot_x, cursor.y - cursor.hot_y
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + shape.shape[1], width), min(top + shape.shape[0], height)
    if x0 >= x1 or y0 >= y1:
        return picture
    out = picture if in_place else picture.copy()
    part = shape[y0 - top : y1 - top, x0 - left : x1 - left].astype(np.uint16)
    alpha = part[..., 3:4]
    under = out[y0:y1, x0:x1].astype(np.uint16)
    out[y0:y1, x0:x1] = (part[..., :3] + under * (255 - alpha) // 255).clip(0, 255)
    return out


class Replay:
    def __init__(self, reader: RecordingReader) -> None:
        self.reader = reader
        self.decoder = ScreenDecoder()
        self.cursor = Cursor()
        #: Updates that could not be decoded (skipped until the next keyframe).
        self.skipped = 0
        self.complete = False
        self.stopped: str | None = None
        self._records: Iterator[Record] = iter(())
        self._cursor_at: dict[int, tuple[int, int, dict[str, Any] | None]] = {}
        self._pending: Record | None = None

    def scan(self) -> tuple[int | None, int, tuple[int, int] | None]:
        """(time of the first picture, time of the last record, size of the first
        picture) without decoding anything."""
        first = size = None
        last = 0
        for record in self.reader.records():
            last = record.time_ms
            if first is None and record.kind == Kind.SCREEN:
                try:
                    header = read_update_header(record.payload.get("data", b""))
                except CodecError:
                    continue
                if header.keyframe:
                    first, size = record.time_ms, (header.width, header.height)
        #: Whether the file was closed properly, and if not why reading stopped.
        self.complete, self.stopped = self.reader.complete, self.reader.stopped
        return first, last, size

    def frames(self, fps: float) -> Iterator[ReplayFrame]:
        first, last, _ = self.scan()
        if first is None:
            return
        count = max(1, int((last - first) * fps / 1000) + 1)
        records = self.reader.records()
        pending: Record | None = next(records, None)
        previous: Picture | None = None
        for index in range(count):
            at = first + int(index * 1000 / fps)
            changed = False
            while pending is not None and pending.time_ms <= at:
                changed |= self._apply(pending)
                pending = next(records, None)
            if self.decoder.framebuffer.size == 0:
                continue
            if previous is None or changed:
                previous = draw_cursor(self.decoder.framebuffer.copy(), self.cursor, in_place=True)
                yield ReplayFrame(index, at, previous, True)
            else:
                yield ReplayFrame(index, at, previous, False)

    # ---- random access, for a player --------------------------------------------------

    def keyframes(self) -> list[tuple[int, int]]:
        """(time_ms, offset) of every keyframe, read through the file once; the cursor
        in effect at each is remembered, since seeking skips the records before it."""
        found: list[tuple[int, int]] = []
        x = y = -1
        shape: dict[str, Any] | None = None
        self._cursor_at = {}
        for record in self.reader.records():
            if record.kind == Kind.CURSOR:
                px, py = record.payload.get("x"), record.payload.get("y")
                if isinstance(px, int) and isinstance(py, int):
                    x, y = px, py
            elif record.kind == Kind.CURSOR_SHAPE:
                shape = record.payload
            elif record.kind == Kind.SCREEN and _is_keyframe(record):
                found.append((record.time_ms, record.offset))
                self._cursor_at[record.offset] = (x, y, shape)
        self.complete, self.stopped = self.reader.complete, self.reader.stopped
        return found

    def seek(self, time_ms: int, keyframes: list[tuple[int, int]]) -> None:
        """Shows the recording as it was at ``time_ms``: decoding restarts at the last
        keyframe before it (from :meth:`keyframes`)."""
        start = keyframes[0][1] if keyframes else None
        for at, offset in keyframes:
            if at <= time_ms:
                start = offset
        self.decoder = ScreenDecoder()
        if start is not None and start in self._cursor_at:
            x, y, shape = self._cursor_at[start]
            self.cursor = Cursor(x, y)
            if shape is not None:
                self._shape(shape)
        self._records = self.reader.records(start=start)
        self._pending = next(self._records, None)
        self.advance_to(time_ms)

    def advance_to(self, time_ms: int) -> bool:
        """Applies what happened up to ``time_ms``; True if the picture changed."""
        changed = False
        while self._pending is not None and self._pending.time_ms <= time_ms:
            changed |= self._apply(self._pending)
            self._pending = next(self._records, None)
        return changed

    def picture(self) -> Picture | None:
        if self.decoder.framebuffer.size == 0:
            return None
        return draw_cursor(self.decoder.framebuffer.copy(), self.cursor)

    def _apply(self, record: Record) -> bool:
        """Applies one record; True when what a viewer sees changed."""
        payload: dict[str, Any] = record.payload
        if record.kind == Kind.SCREEN:
            data = payload.get("data")
            if not isinstance(data, bytes):
                return False
            try:
                if self.decoder.needs_keyframe and not read_update_header(data).keyframe:
                    return False
                return bool(self.decoder.decode(data))
            except CodecError as exc:
                self.skipped += 1
                log.warning("a screen update in the recording was skipped: %s", exc)
                return False
        if record.kind == Kind.CURSOR:
            x, y = payload.get("x"), payload.get("y")
            if isinstance(x, int) and isinstance(y, int):
                self.cursor.x, self.cursor.y = x, y
                return True
        if record.kind == Kind.CURSOR_SHAPE:
            return self._shape(payload)
        return False

    def _shape(self, payload: dict[str, Any]) -> bool:
        width, height, bgra = payload.get("width"), payload.get("height"), payload.get("bgra")
        if not (isinstance(width, int) and isinstance(height, int) and isinstance(bgra, bytes)):
            return False
        if not (0 < width <= MAX_CURSOR and 0 < height <= MAX_CURSOR):
            return False
        if len(bgra) != width * height * 4:
            return False
        self.cursor.shape = np.frombuffer(bgra, np.uint8).reshape(height, width, 4)
        hot_x, hot_y = payload.get("hot_x"), payload.get("hot_y")
        self.cursor.hot_x = hot_x if isinstance(hot_x, int) else 0
        self.cursor.hot_y = hot_y if isinstance(hot_y, int) else 0
        return True


def _is_keyframe(record: Record) -> bool:
    data = record.payload.get("data")
    try:
        return isinstance(data, bytes) and read_update_header(data).keyframe
    except CodecError:
        return False
