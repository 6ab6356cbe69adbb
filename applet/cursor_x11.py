"""X11: XFixesGetCursorImage gives the shape and its serial; QueryPointer the position
(XFixes' own position lags on some servers, Xvfb among them)."""

from __future__ import annotations

import struct
from typing import Any

from applet.cursor import MAX_CURSOR_SIDE, CursorShape, CursorState


class X11CursorSource:
    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display

        self._display: Any = display.Display(display_name)
        if not self._display.has_extension("XFIXES"):
            self._display.close()
            raise OSError("the X server has no XFIXES extension")
        self._display.xfixes_query_version()
        self._root = self._display.screen().root
        self._shape: CursorShape | None = None

    def read(self) -> CursorState:
        reply = self._display.xfixes_get_cursor_image(None)
        shape = self._shape
        if shape is None or shape.serial != reply.cursor_serial:
            shape = self._shape = _shape(reply)
        pointer = self._root.query_pointer()
        return CursorState(pointer.root_x, pointer.root_y, shape)

    def close(self) -> None:
        self._display.close()


def _shape(reply: Any) -> CursorShape:
    width, height = reply.width, reply.height
    pixels = reply.cursor_image  # ARGB as 32-bit integers, row by row
    w, h = min(width, MAX_CURSOR_SIDE), min(height, MAX_CURSOR_SIDE)
    if len(pixels) < width * height:
        w = h = 0
    rows = (pixels[y * width : y * width + w] for y in range(h))
    bgra = b"".join(struct.pack(f"<{w}I", *row) for row in rows)  # little-endian ARGB = BGRA
    return CursorShape(
        reply.cursor_serial,
        w,
        h,
        min(reply.xhot, max(w - 1, 0)),
        min(reply.yhot, max(h - 1, 0)),
        bgra,
    )
