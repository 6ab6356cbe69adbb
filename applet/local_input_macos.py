"""macOS: the take-back hotkey and local activity through one listen-only Quartz event
tap on the login session (``CGEventTapCreate(kCGSessionEventTap, …,
kCGEventTapOptionListenOnly, …)``), which sees every keyboard and mouse event before
any application does and can neither change nor swallow them.

* **The hotkey is Control+Option+Esc.** Mac keyboards have no Pause key; Esc is on all
  of them, and Control+Option+Esc is not taken by macOS (Command+Option+Esc, Force
  Quit, is). Like Ctrl+Alt+Pause on X11 it matches with any other modifier held, so
  the technician's held Shift or Command cannot defeat it. Since the tap only listens,
  the focused program also sees the keystroke.
* **Local or injected.** An event carries the Unix process id of whoever posted it
  (``kCGEventSourceUnixProcessID``) and the state table of its source
  (``kCGEventSourceStateID``). The person's hardware arrives through the HID system
  state table; our injector (pynput, in this process) posts events with our pid. So an
  event is the person's when it comes from the HID system state and not from us; events
  other programs synthesise (with the combined-session or a private state) count as
  injected, as XTEST input does on X11.

macOS lets the tap see key presses only once the person has allowed Lifeline under
Privacy & Security (Accessibility, which remote control needs anyway, or Input
Monitoring); until then ``CGEventTapCreate`` returns NULL and :class:`MacLocalInput`
raises ``OSError``: the session goes on with the Revoke and End session buttons.

Written to Apple's Quartz Event Services documentation through pyobjc's Quartz
(pyobjc-framework-Quartz, which pynput, our macOS injector, already requires; imported
lazily: it exists only on macOS); it cannot run on this project's Linux CI, so only
:func:`classify` is tested there (tests/applet/test_local_input_macos.py).
"""

from __future__ import annotations

import enum
import importlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from applet.local_input import ActivityPause

log = logging.getLogger("lifeline.applet")

# CGEventTypes.h (the values are part of the ABI).
LEFT_MOUSE_DOWN, LEFT_MOUSE_UP, RIGHT_MOUSE_DOWN, RIGHT_MOUSE_UP = 1, 2, 3, 4
MOUSE_MOVED, LEFT_MOUSE_DRAGGED, RIGHT_MOUSE_DRAGGED = 5, 6, 7
KEY_DOWN, KEY_UP, FLAGS_CHANGED = 10, 11, 12
SCROLL_WHEEL = 22
OTHER_MOUSE_DOWN, OTHER_MOUSE_UP, OTHER_MOUSE_DRAGGED = 25, 26, 27
TAP_DISABLED_BY_TIMEOUT, TAP_DISABLED_BY_USER_INPUT = 0xFFFFFFFE, 0xFFFFFFFF
#: Every event the person makes with a keyboard, mouse or trackpad.
INPUT_EVENTS = (
    LEFT_MOUSE_DOWN, LEFT_MOUSE_UP, RIGHT_MOUSE_DOWN, RIGHT_MOUSE_UP, MOUSE_MOVED,
    LEFT_MOUSE_DRAGGED, RIGHT_MOUSE_DRAGGED, KEY_DOWN, KEY_UP, FLAGS_CHANGED, SCROLL_WHEEL,
    OTHER_MOUSE_DOWN, OTHER_MOUSE_UP, OTHER_MOUSE_DRAGGED,
)  # fmt: skip
EVENT_MASK = sum(1 << t for t in INPUT_EVENTS)  # CGEventMaskBit for each

# CGEventField keys.
KEYBOARD_EVENT_KEYCODE = 9
EVENT_SOURCE_UNIX_PROCESS_ID = 41
EVENT_SOURCE_STATE_ID = 45
# CGEventSourceStateID: the table of the HID system, i.e. of the hardware.
HID_SYSTEM_STATE = 1
# CGEventFlags.
FLAG_CONTROL, FLAG_OPTION = 0x00040000, 0x00080000
#: kVK_Escape (Carbon's HIToolbox/Events.h): the same on every keyboard layout.
KEYCODE_ESCAPE = 0x35


class Seen(enum.Enum):
    HOTKEY = "hotkey"
    LOCAL = "local"
    #: macOS switched the tap off (it was slow, or secure input): switch it back on.
    TAP_DISABLED = "tap_disabled"


def classify(
    event_type: int, keycode: int, flags: int, source_pid: int, source_state: int, our_pid: int
) -> Seen | None:
    """What one tapped event means for us: the take-back hotkey (from anyone: a
    technician who presses it only gives up their own control), the person's own input,
    or nothing (input we or another program injected)."""
    if event_type in (TAP_DISABLED_BY_TIMEOUT, TAP_DISABLED_BY_USER_INPUT):
        return Seen.TAP_DISABLED
    both = FLAG_CONTROL | FLAG_OPTION
    if event_type == KEY_DOWN and keycode == KEYCODE_ESCAPE and flags & both == both:
        return Seen.HOTKEY
    if event_type in INPUT_EVENTS and source_pid != our_pid and source_state == HID_SYSTEM_STATE:
        return Seen.LOCAL
    return None


class MacLocalInput:
    def __init__(self) -> None:
        try:
            Quartz: Any = importlib.import_module("Quartz")  # pyobjc: macOS only, untyped
        except ImportError as exc:
            raise OSError(f"pyobjc's Quartz is missing: {exc}") from exc
        self._quartz = Quartz
        self._pid = os.getpid()
        self._pause = ActivityPause()
        self._on_hotkey: Callable[[], None] = lambda: None
        self._on_activity: Callable[[bool], None] = lambda _paused: None
        # Kept for the tap's life: pyobjc calls it for as long as the tap exists.
        self._callback = self._tapped
        self._tap: Any = Quartz.CGEventTapCreate(
            Quartz.kCGSessionEventTap,
            Quartz.kCGHeadInsertEventTap,
            Quartz.kCGEventTapOptionListenOnly,
            EVENT_MASK,
            self._callback,
            None,
        )
        if self._tap is None:
            raise OSError(
                "macOS does not let Lifeline watch the keyboard yet (Privacy & Security → "
                "Accessibility or Input Monitoring)"
            )
        Quartz.CGEventTapEnable(self._tap, False)  # until start() services it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_hotkey: Callable[[], None], on_activity: Callable[[bool], None]) -> None:
        self._on_hotkey, self._on_activity = on_hotkey, on_activity
        self._thread = threading.Thread(target=self._run, name="lifeline-local-input", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)

    def _run(self) -> None:
        Q = self._quartz
        source = Q.CFMachPortCreateRunLoopSource(None, self._tap, 0)
        loop = Q.CFRunLoopGetCurrent()
        Q.CFRunLoopAddSource(loop, source, Q.kCFRunLoopDefaultMode)
        Q.CGEventTapEnable(self._tap, True)
        try:
            while not self._stop.is_set():
                # Short turns, so a pause ends on time and stop() is noticed.
                Q.CFRunLoopRunInMode(Q.kCFRunLoopDefaultMode, 0.1, False)
                if self._pause.tick(time.monotonic()):
                    self._on_activity(False)
        except Exception:
            log.exception("watching the keyboard and mouse failed")
        finally:
            Q.CGEventTapEnable(self._tap, False)
            Q.CFRunLoopRemoveSource(loop, source, Q.kCFRunLoopDefaultMode)
            Q.CFMachPortInvalidate(self._tap)

    def _tapped(self, proxy: Any, event_type: int, event: Any, refcon: Any) -> Any:
        Q = self._quartz
        try:
            keycode = flags = source_pid = source_state = 0
            if event_type in INPUT_EVENTS:  # the tap-disabled notices carry no event
                keycode = Q.CGEventGetIntegerValueField(event, KEYBOARD_EVENT_KEYCODE)
                flags = Q.CGEventGetFlags(event)
                source_pid = Q.CGEventGetIntegerValueField(event, EVENT_SOURCE_UNIX_PROCESS_ID)
                source_state = Q.CGEventGetIntegerValueField(event, EVENT_SOURCE_STATE_ID)
            seen = classify(event_type, keycode, flags, source_pid, source_state, self._pid)
            if seen is Seen.TAP_DISABLED:
                Q.CGEventTapEnable(self._tap, True)
            elif seen is Seen.HOTKEY:
                log.info("take-back hotkey pressed")
                self._on_hotkey()
            elif seen is Seen.LOCAL and self._pause.saw_local(time.monotonic()):
                self._on_activity(True)
        except Exception:
            # An exception escaping into Quartz would end the process.
            log.exception("could not handle a keyboard or mouse event")
        return event
