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

    def grab(self, monitor: Monitor) -> BgraFrame:
        """One frame of ``monitor``: height × width × 4 uint8, B G R and a junk byte."""
        ...

    def close(self) -> None: ...


class MssCapturer:
    def __init__(self) -> None:
        import mss  # lazily: a headless tool that never captures must still start

        self._mss: Any = mss.MSS()

    def monitors(self) -> list[Monitor]:
        # mss lists the union of all monitors first; the real ones follow.
        return [
            Monitor(i, m["left"], m["top"], m["width"], m["height"], bool(m.get("is_primary")))
            for i, m in enumerate(self._mss.monitors[1:])
        ]

    def grab(self, monitor: Monitor) -> BgraFrame:
        area = {
            "left": monitor.left,
            "top": monitor.top,
            "width": monitor.width,
            "height": monitor.height,
        }
        shot = self._mss.grab(area)
        return np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)

    def close(self) -> None:
        self._mss.close()


def open_capturer() -> Capturer:
    return MssCapturer()
