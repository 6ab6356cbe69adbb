"""Screen capture behind a small protocol, so the screen service never sees the OS.

:class:`MssCapturer` uses ``mss``, which grabs through XShm on X11, GDI/DXGI on Windows
and CoreGraphics on macOS; tests run it on a real Xvfb display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

BgraFrame = npt.NDArray[np.uint8]
#: (x0, y0, x1, y1) in a monitor's own pixels, end-exclusive.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Monitor:
    index: int
    left: int
    top: int
    width: int
    height: int
    primary: bool


#: The index of "every monitor at once" (the smallest rectangle holding them all).
ALL_MONITORS = -1


def all_monitors(monitors: list[Monitor]) -> Monitor:
    left = min(m.left for m in monitors)
    top = min(m.top for m in monitors)
    right = max(m.left + m.width for m in monitors)
    bottom = max(m.top + m.height for m in monitors)
    return Monitor(ALL_MONITORS, left, top, right - left, bottom - top, primary=False)


class Capturer(Protocol):
    def monitors(self) -> list[Monitor]:
        """The monitors, in the order the console's monitor picker shows them."""
        ...

    def grab(self, monitor: Monitor, area: Box | None = None) -> BgraFrame:
        """One frame of ``monitor``: height × width × 4 uint8, B G R and a junk byte.

        With ``area`` (the only part that can have changed since the last grab of this
        monitor, as X DAMAGE says), a capturer may read just that part of the screen
        and return the last frame brought up to date, the same array: a caller that
        passes ``area`` must not keep frames across grabs."""
        ...

    def close(self) -> None: ...


class MssCapturer:
    def __init__(self) -> None:
        import mss  # lazily: a headless tool that never captures must still start

        self._mss: Any = mss.MSS()
        #: The last whole frame grabbed, and of which monitor, for grabs of an area.
        self._last: tuple[Monitor, BgraFrame] | None = None

    def monitors(self) -> list[Monitor]:
        # mss lists the union of all monitors first; the real ones follow.
        return [
            Monitor(i, m["left"], m["top"], m["width"], m["height"], bool(m.get("is_primary")))
            for i, m in enumerate(self._mss.monitors[1:])
        ]

    def grab(self, monitor: Monitor, area: Box | None = None) -> BgraFrame:
        """Reads only ``area`` when given (a 640×448 video: 0.1 CPU-ms instead of 0.4
        to 1 for the whole 1080p screen, the X server's copy smaller in proportion).
        An area of at least half the screen is read as a whole new frame: copying it
        into the last one would cost more than reading the rest (a scrolling terminal:
        1.7 CPU-ms a grab against 0.9)."""
        last = self._last
        x0, y0, x1, y1 = 0, 0, monitor.width, monitor.height
        if area is not None:
            x0, y0 = max(area[0], 0), max(area[1], 0)
            x1, y1 = min(area[2], monitor.width), min(area[3], monitor.height)
        large = 2 * max(x1 - x0, 0) * max(y1 - y0, 0) >= monitor.width * monitor.height
        if area is None or large or last is None or last[0] != monitor:
            frame = self._read(monitor.left, monitor.top, monitor.width, monitor.height)
            self._last = (monitor, frame)
            return frame
        frame = last[1]
        if x0 < x1 and y0 < y1:
            part = self._read(monitor.left + x0, monitor.top + y0, x1 - x0, y1 - y0)
            frame[y0:y1, x0:x1] = part
        return frame

    def _read(self, left: int, top: int, width: int, height: int) -> BgraFrame:
        shot = self._mss.grab({"left": left, "top": top, "width": width, "height": height})
        return np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)

    def close(self) -> None:
        self._mss.close()


def open_capturer() -> Capturer:
    return MssCapturer()
