"""A real X display for tests: Xvfb started here, with the programs tests drive on it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from console.demo_desktop import DesktopError, start_xvfb, stop_xvfb


@contextmanager
def xvfb(width: int = 1280, height: int = 720) -> Iterator[str]:
    """Starts Xvfb on a free display number; yields the DISPLAY value."""
    try:
        server, display = start_xvfb(width, height)
    except DesktopError as exc:
        pytest.fail(str(exc))
    try:
        yield display
    finally:
        stop_xvfb(server)


@contextmanager
def running(
    args: list[str], display: str, settle: float = 0.5
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs an X client on ``display`` for the duration of the block."""
    proc = subprocess.Popen(args, env={**os.environ, "DISPLAY": display})
    try:
        time.sleep(settle)
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def pointer(display: str) -> tuple[int, int]:
    """Where the X server says the pointer is."""
    out = subprocess.run(
        ["xdotool", "getmouselocation"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DISPLAY": display},
    ).stdout
    fields = dict(part.split(":") for part in out.split())
    return int(fields["x"]), int(fields["y"])


def xdotool(display: str, *args: str, timeout: float = 10) -> str:
    """Runs xdotool on ``display`` (a person's hands, for tests); returns its output."""
    return subprocess.run(
        ["xdotool", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
        env={**os.environ, "DISPLAY": display},
    ).stdout


def press_in_window(display: str, title: str, keys: str) -> None:
    """Waits for a window whose title contains ``title``, focuses it and presses
    ``keys`` (e.g. ``alt+a``) the way a person at the keyboard would."""
    window = xdotool(display, "search", "--sync", "--onlyvisible", "--name", title).split()[0]
    xdotool(display, "windowfocus", "--sync", window)
    xdotool(display, "key", "--clearmodifiers", keys)


class Hardware:
    """The person's own mouse and keyboard on Xvfb: events from its ``Xvfb mouse`` and
    ``Xvfb keyboard`` devices (XTEST's device variant through libXtst), which XInput2
    reports with their own source ids, unlike XTEST's virtual core devices that the
    injector and xdotool use."""

    def __init__(self, display: str) -> None:
        import ctypes

        self._c = ctypes
        x11 = ctypes.CDLL("libX11.so.6")
        xi = ctypes.CDLL("libXi.so.6")
        self._xt = xt = ctypes.CDLL("libXtst.so.6")
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        xi.XOpenDevice.restype = ctypes.c_void_p
        xi.XOpenDevice.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        xt.XTestFakeDeviceMotionEvent.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
            ctypes.POINTER(ctypes.c_int), ctypes.c_int, ctypes.c_ulong,
        ]  # fmt: skip
        xt.XTestFakeDeviceKeyEvent.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
            ctypes.POINTER(ctypes.c_int), ctypes.c_int, ctypes.c_ulong,
        ]  # fmt: skip
        self._x11 = x11
        self._dpy = x11.XOpenDisplay(display.encode())
        ids = self._device_ids(display)
        self._mouse = xi.XOpenDevice(self._dpy, ids["Xvfb mouse"])
        self._keyboard = xi.XOpenDevice(self._dpy, ids["Xvfb keyboard"])

    @staticmethod
    def _device_ids(display: str) -> dict[str, int]:
        out = subprocess.run(
            ["xinput", "list", "--short"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "DISPLAY": display},
        ).stdout
        ids = {}
        for line in out.splitlines():
            name, _, rest = line.strip(" ⎡⎜⎣↳\t").partition("\tid=")
            if rest:
                ids[name.strip()] = int(rest.split()[0])
        return ids

    def move(self, x: int, y: int) -> None:
        axes = (self._c.c_int * 2)(x, y)
        self._xt.XTestFakeDeviceMotionEvent(self._dpy, self._mouse, 0, 0, axes, 2, 0)
        self._x11.XSync(self._dpy, 0)

    def tap(self, keycode: int) -> None:
        for down in (1, 0):
            self._xt.XTestFakeDeviceKeyEvent(self._dpy, self._keyboard, keycode, down, None, 0, 0)
        self._x11.XSync(self._dpy, 0)

    def close(self) -> None:
        self._x11.XCloseDisplay(self._dpy)
