"""The pointer, sent apart from the picture: where it is and what it looks like, so
moving it costs no video bits. One backend per OS behind :class:`CursorSource`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

#: Larger cursors are cut to this size (hostile or buggy themes included).
MAX_CURSOR_SIDE = 128


@dataclass(frozen=True)
class CursorShape:
    #: Changes whenever the shape does (the OS's own serial where it has one).
    serial: int
    width: int
    height: int
    hot_x: int
    hot_y: int
    #: width × height pixels, 4 bytes each: blue, green, red, alpha (premultiplied).
    bgra: bytes


@dataclass(frozen=True)
class CursorState:
    #: Desktop coordinates of the hot spot.
    x: int
    y: int
    shape: CursorShape


class CursorSource(Protocol):
    def read(self) -> CursorState:
        """The pointer now. Cheap enough to call 60 times a second."""
        ...

    def close(self) -> None: ...


def open_cursor_source() -> CursorSource | None:
    """The source for this OS, or None where none is built (the console then draws its
    own pointer at the last position it sent)."""
    if sys.platform.startswith("linux"):
        from applet.cursor_x11 import X11CursorSource

        return X11CursorSource()
    return None
