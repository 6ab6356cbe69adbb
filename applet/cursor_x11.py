"""X11: QueryPointer gives the position (XFixes' own position lags on some servers, Xvfb
among them); XFixesGetCursorImage the shape and its serial, asked for only after the
server said the shape changed (an XFixes CursorNotify event), since the image is the
costly part of a read (a reply of width × height pixels, about 100 µs of Python)."""

from __future__ import annotations

import struct
from typing import Any

from applet.cursor import MAX_CURSOR_SIDE, CursorShape, CursorState


class X11CursorSource:
    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display
        from Xlib.ext import xfixes

        self._display: Any = display.Display(display_name)
        if not self._display.has_extension("XFIXES"):
            self._display.close()
            raise OSError("the X server has no XFIXES extension")
        self._display.xfixes_query_version()
        self._root = self._display.screen().root
        self._display.xfixes_select_cursor_input(self._root, xfixes.XFixesDisplayCursorNotifyMask)
        first_event = self._display.query_extension("XFIXES").first_event
        self._cursor_notify = first_event + xfixes.XFixesCursorNotify
        self._shape: CursorShape | None = None

    def read(self) -> CursorState:
        # A round trip: any event the server sent before it is in the queue now.
        pointer = self._root.query_pointer()
        changed = self._shape is None
        while self._display.pending_events():
            changed |= self._display.next_event().type == self._cursor_notify
        shape = self._shape
        if changed:
            reply = self._display.xfixes_get_cursor_image(None)
            if shape is None or shape.serial != reply.cursor_serial:
                shape = self._shape = _shape(reply)
        assert shape is not None
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
