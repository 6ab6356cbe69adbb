"""The person's own keyboard and mouse: the take-back hotkey, and pausing remote input
while they use them. One backend per OS behind :class:`LocalInputWatch`.

* The **take-back hotkey** (:data:`TakeBackHotkey.LABEL`: Ctrl+Alt+Pause, on macOS
  Control+Option+Esc) revokes remote control at once. It is taken from the OS, so it
  works whatever window has focus and while the technician is typing (their held
  modifiers do not stop it).
* **Local activity**: where the OS can tell the person's input from injected input
  (X11: XInput2 source devices; Windows: the injected-event flag of low-level hooks;
  macOS: the source process and state table of Quartz events), any local input pauses
  remote input until the person has been still for :data:`QUIET_AFTER` seconds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Protocol

#: Seconds without local input before remote input resumes.
QUIET_AFTER = 1.0


class TakeBackHotkey:
    #: Mac keyboards have no Pause key (applet/local_input_macos.py).
    LABEL = "Control+Option+Esc" if sys.platform == "darwin" else "Ctrl+Alt+Pause"


class LocalInputWatch(Protocol):
    def start(self, on_hotkey: Callable[[], None], on_activity: Callable[[bool], None]) -> None:
        """Begins watching. Callbacks run on the watch's own thread: ``on_hotkey()``
        when the hotkey is pressed, ``on_activity(True)`` when local input begins and
        ``on_activity(False)`` once it has stopped."""
        ...

    def stop(self) -> None: ...


class ActivityPause:
    """When remote input is paused, given the times local input was seen."""

    def __init__(self, quiet_after: float = QUIET_AFTER) -> None:
        self.quiet_after = quiet_after
        self.paused = False
        self._last = 0.0

    def saw_local(self, now: float) -> bool:
        """Local input at ``now``; True when this starts a pause."""
        self._last = now
        if self.paused:
            return False
        self.paused = True
        return True

    def tick(self, now: float) -> bool:
        """Call often; True when the pause ends now."""
        if self.paused and now - self._last >= self.quiet_after:
            self.paused = False
            return True
        return False


def open_local_input() -> LocalInputWatch | None:
    """The watch for this OS, or None where none is built (the session goes on
    without a hotkey; the End session and Revoke buttons still work)."""
    if sys.platform.startswith("linux"):
        from applet.local_input_x11 import X11LocalInput

        return X11LocalInput()
    if sys.platform == "win32":
        from applet.local_input_windows import WindowsLocalInput

        return WindowsLocalInput()
    if sys.platform == "darwin":
        from applet.local_input_macos import MacLocalInput

        return MacLocalInput()
    return None
