"""Input injection behind a small protocol, one backend per OS (X11 for now)."""

from __future__ import annotations

import sys
from typing import Protocol


class Injector(Protocol):
    def move(self, x: int, y: int) -> None:
        """Absolute desktop coordinates; backends clamp them to the screen."""
        ...

    def button(self, name: str, down: bool) -> None:
        """``left``, ``middle`` or ``right``; ValueError for anything else."""
        ...

    def scroll(self, steps: int) -> None: ...

    def press_key(self, name: str, down: bool) -> bool:
        """A named key (``Enter``, ``Control``, ``F5``: W3C key values) or the key that
        makes one character; ValueError for an unknown name. False when the desktop's
        layout has no such key."""
        ...

    def type_text(self, text: str) -> int:
        """Types text in the desktop's current layout; returns characters typed."""
        ...

    def release_all(self) -> None:
        """Lets go of every key and button held: on revoke, prompt and session end."""
        ...

    def close(self) -> None: ...


def open_injector(width: int = 0, height: int = 0) -> Injector:
    """The injector for this OS; ``width`` × ``height`` bound pointer moves where the
    backend cannot read the desktop's size itself."""
    if sys.platform.startswith("linux"):
        from applet.inject_x11 import X11Injector

        return X11Injector()
    if sys.platform in ("win32", "darwin"):
        from applet.inject_pynput import PynputInjector

        return PynputInjector(width or 65536, height or 65536)
    raise NotImplementedError(f"input injection is not built for {sys.platform} yet")
