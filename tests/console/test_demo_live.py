"""``lifeline-demo`` on a desktop: the console signed in, the applet joined on the same
screen, and a logout (SIGTERM) that ends everything without a question."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.x11 import press_in_window


def test_the_demo_on_a_desktop_joins_and_ends_on_sigterm(display: str, tmp_path: Path) -> None:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONFAULTHANDLER": "1"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "console.demo", "--data", str(tmp_path / "d")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        lines = [demo.stdout.readline() for _ in range(2)]
        assert "demo technician demo@lifeline.test" in lines[0]
        assert "Starting the applet with code" in lines[1]
        # The console asks to see the screen as soon as the applet has joined.
        press_in_window(display, "permission request", "alt+a")
        time.sleep(1.0)
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(20) == 0
        applet = subprocess.run(
            ["pgrep", "-f", f"applet.main.*{tmp_path / 'd'}"], capture_output=True, text=True
        )
        assert applet.stdout == ""  # the demo took its applet with it
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGABRT)
            demo.wait(10)
