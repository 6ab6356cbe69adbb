"""Windows: the take-back hotkey through RegisterHotKey, and local activity through
low-level mouse and keyboard hooks, whose ``LLMHF_INJECTED`` / ``LLKHF_INJECTED`` flag
marks SendInput events (ours) apart from the person's hardware.

Written to the Win32 documentation (ctypes, no extra package); it cannot run on this
project's Linux CI, so only :func:`is_injected` is tested there. Hooks and the hotkey
belong to the thread that installs them, which must pump messages: everything here
runs on one thread with a GetMessage loop, stopped with WM_QUIT.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from applet.local_input import ActivityPause

log = logging.getLogger("lifeline.applet")

WH_KEYBOARD_LL, WH_MOUSE_LL = 13, 14
WM_HOTKEY, WM_QUIT, WM_TIMER = 0x0312, 0x0012, 0x0113
MOD_ALT, MOD_CONTROL, MOD_NOREPEAT = 0x0001, 0x0002, 0x4000
VK_PAUSE = 0x13
LLKHF_INJECTED = 0x10
LLMHF_INJECTED = 0x01
HOTKEY_ID = 0x4C4C  # "LL"


def is_injected(flags: int, *, keyboard: bool) -> bool:
    """Whether a low-level hook event came from SendInput rather than a device."""
    return bool(flags & (LLKHF_INJECTED if keyboard else LLMHF_INJECTED))


class WindowsLocalInput:
    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._thread_id = 0
        self._started = threading.Event()

    def start(self, on_hotkey: Callable[[], None], on_activity: Callable[[bool], None]) -> None:
        self._thread = threading.Thread(
            target=self._run,
            args=(on_hotkey, on_activity),
            name="lifeline-local-input",
            daemon=True,
        )
        self._thread.start()
        self._started.wait(5)

    def stop(self) -> None:
        if self._thread_id:
            ctypes.windll.user32.PostThreadMessageW(self._thread_id, WM_QUIT, 0, 0)  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join(2)

    def _run(self, on_hotkey: Callable[[], None], on_activity: Callable[[bool], None]) -> None:
        from ctypes import wintypes

        user32: Any = ctypes.windll.user32  # type: ignore[attr-defined]
        kernel32: Any = ctypes.windll.kernel32  # type: ignore[attr-defined]
        self._thread_id = kernel32.GetCurrentThreadId()
        pause = ActivityPause()

        class KBDLLHOOKSTRUCT(ctypes.Structure):
            _fields_ = [
                ("vkCode", wintypes.DWORD), ("scanCode", wintypes.DWORD),
                ("flags", wintypes.DWORD), ("time", wintypes.DWORD),
                ("dwExtraInfo", ctypes.c_void_p),
            ]  # fmt: skip

        class MSLLHOOKSTRUCT(ctypes.Structure):
            _fields_ = [
                ("pt", wintypes.POINT), ("mouseData", wintypes.DWORD),
                ("flags", wintypes.DWORD), ("time", wintypes.DWORD),
                ("dwExtraInfo", ctypes.c_void_p),
            ]  # fmt: skip

        hook_proc: Any = ctypes.WINFUNCTYPE(  # type: ignore[attr-defined]
            ctypes.c_ssize_t, ctypes.c_int, wintypes.WPARAM, wintypes.LPARAM
        )

        def seen(flags: int, keyboard: bool) -> None:
            if not is_injected(flags, keyboard=keyboard) and pause.saw_local(time.monotonic()):
                on_activity(True)

        def on_keyboard(code: int, wparam: int, lparam: int) -> int:
            if code >= 0:
                seen(ctypes.cast(lparam, ctypes.POINTER(KBDLLHOOKSTRUCT))[0].flags, True)
            return int(user32.CallNextHookEx(None, code, wparam, lparam))

        def on_mouse(code: int, wparam: int, lparam: int) -> int:
            if code >= 0:
                seen(ctypes.cast(lparam, ctypes.POINTER(MSLLHOOKSTRUCT))[0].flags, False)
            return int(user32.CallNextHookEx(None, code, wparam, lparam))

        # Kept in locals for the thread's life: a collected callback would crash Windows.
        keyboard_hook, mouse_hook = hook_proc(on_keyboard), hook_proc(on_mouse)
        hooks = [
            user32.SetWindowsHookExW(WH_KEYBOARD_LL, keyboard_hook, None, 0),
            user32.SetWindowsHookExW(WH_MOUSE_LL, mouse_hook, None, 0),
        ]
        if not user32.RegisterHotKey(
            None, HOTKEY_ID, MOD_CONTROL | MOD_ALT | MOD_NOREPEAT, VK_PAUSE
        ):
            log.warning("Ctrl+Alt+Pause is taken by another program; use End session")
        timer = user32.SetTimer(None, 0, 100, None)  # to end pauses when the person stops
        self._started.set()
        msg = wintypes.MSG()
        try:
            while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
                if msg.message == WM_HOTKEY and msg.wParam == HOTKEY_ID:
                    on_hotkey()
                elif msg.message == WM_TIMER and pause.tick(time.monotonic()):
                    on_activity(False)
        finally:
            user32.KillTimer(None, timer)
            user32.UnregisterHotKey(None, HOTKEY_ID)
            for hook in hooks:
                if hook:
                    user32.UnhookWindowsHookEx(hook)
