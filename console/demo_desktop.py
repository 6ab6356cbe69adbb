"""The demo's own X desktops, for a machine with no screen: an Xvfb server, the programs
the demo puts on it, a person's hands (``xdotool``) and screenshots (``mss``).

Qt-free; the tests use the same Xvfb starter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


class DesktopError(RuntimeError):
    """A program the demo needs is missing or did not start."""


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    """Starts Xvfb on a free display number; returns the server and its DISPLAY."""
    if shutil.which("Xvfb") is None:
        raise DesktopError("Xvfb is missing: ./scripts/demo and ./scripts/check install it")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
            # Otherwise the server resets (pointer back to the centre, windows gone)
            # each time its last client disconnects, e.g. after every xdotool call.
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        server.wait(10)
        raise DesktopError("Xvfb did not start")
    return server, f":{number}"


def stop_xvfb(server: subprocess.Popen[bytes]) -> None:
    """Stops a server from :func:`start_xvfb`. Xvfb sometimes ignores SIGTERM for
    seconds while clients are still going away (seen once in CI after 10 s), so it
    gets five seconds and then SIGKILL: nothing of a virtual screen needs saving."""
    server.terminate()
    try:
        server.wait(5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(5)


class Desktop:
    """One virtual screen and what runs on it; :meth:`close` stops them all."""

    def __init__(self, width: int = 1280, height: int = 720) -> None:
        self.width, self.height = width, height
        self._server, self.display = start_xvfb(width, height)
        self._programs: list[subprocess.Popen[bytes]] = []
        if shutil.which("xsetroot"):  # a desktop colour rather than Xvfb's black
            subprocess.run(["xsetroot", "-solid", "#3b6e8f"], env=self.env(), check=False)

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display, **extra}

    def run(self, args: list[str], **env: str) -> subprocess.Popen[bytes]:
        """Starts an X client on this screen; it is stopped by :meth:`close`."""
        program = subprocess.Popen(
            args, env=self.env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._programs.append(program)
        return program

    def xdotool(self, *args: str, timeout: float = 15) -> str:
        if shutil.which("xdotool") is None:
            raise DesktopError("xdotool is missing: ./scripts/demo installs it")
        return subprocess.run(
            ["xdotool", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
            env=self.env(),
        ).stdout

    def focus(self, title: str, timeout: float = 15) -> None:
        """Waits for a window whose title contains ``title`` and gives it the keyboard."""
        window = self.xdotool(
            "search", "--sync", "--onlyvisible", "--name", title, timeout=timeout
        ).split()[0]
        self.xdotool("windowfocus", "--sync", window)

    def press(self, title: str, keys: str, timeout: float = 15) -> None:
        """Presses ``keys`` (e.g. ``alt+a``) in the window titled ``title``, as a person
        at the keyboard would."""
        self.focus(title, timeout)
        self.xdotool("key", "--clearmodifiers", keys)

    def type(self, title: str, text: str) -> None:
        self.focus(title)
        self.xdotool("type", "--delay", "20", text)
        self.xdotool("key", "Return")

    def grab(self) -> npt.NDArray[np.uint8]:
        """The whole screen: height × width × 3, B G R."""
        import mss

        with mss.MSS(display=self.display) as screen:
            shot: Any = screen.grab(screen.monitors[1])
        frame = np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)
        return frame[..., :3].copy()

    def screenshot(self, path: Path) -> Path:
        import mss.tools

        bgr = self.grab()
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        mss.tools.to_png(rgb.tobytes(), (rgb.shape[1], rgb.shape[0]), output=str(path))
        return path

    def close(self) -> None:
        for program in self._programs:
            if program.poll() is None:
                program.terminate()
        deadline = time.monotonic() + 5
        for program in self._programs:
            try:
                program.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                program.kill()
                program.wait(5)
        stop_xvfb(self._server)
