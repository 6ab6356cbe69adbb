"""X11: the take-back hotkey through a passive key grab on the root window, and local
activity through XInput2 raw events, whose source device tells the person's hardware
from the XTEST device our injector (and xdotool) use."""

from __future__ import annotations

import contextlib
import itertools
import logging
import select
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from applet.local_input import ActivityPause

log = logging.getLogger("lifeline.applet")

_RAW_EVENTS = (13, 14, 15, 16, 17)  # RawKeyPress … RawMotion
#: Modifiers the person (or the technician's held keys) may add to Ctrl+Alt.
_OTHER_MODIFIERS = ("ShiftMask", "LockMask", "Mod2Mask", "Mod3Mask", "Mod4Mask", "Mod5Mask")


class X11LocalInput:
    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import XK, X, display
        from Xlib.ext import xinput

        self._X = X
        self._display: Any = display.Display(display_name)
        self._root = self._display.screen().root
        self._keycode = self._display.keysym_to_keycode(XK.string_to_keysym("Pause"))
        self._xi_opcode: int | None = None
        self._injected: set[int] = set()
        if self._display.has_extension("XInputExtension"):
            version = self._display.xinput_query_version()
            if (version.major_version, version.minor_version) >= (2, 0):
                self._xi_opcode = self._display.query_extension("XInputExtension").major_opcode
                self._injected = _xtest_devices(self._display, xinput)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def can_tell_local_input(self) -> bool:
        return self._xi_opcode is not None

    def start(self, on_hotkey: Callable[[], None], on_activity: Callable[[bool], None]) -> None:
        X = self._X
        base = X.ControlMask | X.Mod1Mask
        others = [getattr(X, name) for name in _OTHER_MODIFIERS]
        for n in range(len(others) + 1):
            for combo in itertools.combinations(others, n):
                mods = base | sum(combo)
                self._root.grab_key(self._keycode, mods, False, X.GrabModeAsync, X.GrabModeAsync)
        if self._xi_opcode is not None:
            from Xlib.ext import xinput

            mask = sum(1 << e for e in _RAW_EVENTS)
            self._root.xinput_select_events([(xinput.AllDevices, mask)])
        self._display.sync()
        self._thread = threading.Thread(
            target=self._watch,
            args=(on_hotkey, on_activity),
            name="lifeline-local-input",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        with contextlib.suppress(Exception):
            self._display.close()

    def _watch(self, on_hotkey: Callable[[], None], on_activity: Callable[[bool], None]) -> None:
        pause = ActivityPause()
        fd = self._display.fileno()
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([fd], [], [], 0.1)
                now = time.monotonic()
                if readable or self._display.pending_events():
                    while self._display.pending_events():
                        event = self._display.next_event()
                        if event.type == self._X.KeyPress and event.detail == self._keycode:
                            log.info("take-back hotkey pressed")
                            on_hotkey()
                        elif self._is_local(event) and pause.saw_local(now):
                            on_activity(True)
                if pause.tick(now):
                    on_activity(False)
        except Exception:
            if not self._stop.is_set():
                log.exception("watching the keyboard and mouse failed")

    def _is_local(self, event: Any) -> bool:
        if self._xi_opcode is None or getattr(event, "extension", None) != self._xi_opcode:
            return False
        if event.evtype not in _RAW_EVENTS or not isinstance(event.data, bytes | bytearray):
            return False
        # xXIRawEvent after the generic header: deviceid u16, time u32, detail u32,
        # sourceid u16 (X11 byte order is the client's, as python-xlib asked).
        if len(event.data) < 12:
            return False
        (sourceid,) = struct.unpack_from("=H", event.data, 10)
        return sourceid not in self._injected


def _xtest_devices(display: Any, xinput: Any) -> set[int]:
    """The XTEST slave devices of the virtual core master: where injected input (ours,
    or any XTEST client's) comes from. Everything else is the person's hardware."""
    info = display.xinput_query_device(xinput.AllDevices)
    masters = {d.deviceid for d in info.devices if d.name.startswith("Virtual core ")}
    return {
        d.deviceid
        for d in info.devices
        if d.name.startswith("Virtual core XTEST") and d.attachment in masters
    }
