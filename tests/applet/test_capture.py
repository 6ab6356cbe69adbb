"""Real capture on a real X display, through the real screen codec."""

from __future__ import annotations

import os
import time

import numpy as np

from applet.capture import MssCapturer
from common.codec import ScreenDecoder, ScreenEncoder
from tests.x11 import running

SCROLLING_TEXT = (
    'for i in $(seq 1 100000); do echo "line $i: the quick brown fox jumps over the lazy dog"; '
    "sleep 0.01; done"
)


def test_monitors_and_frame_shape(display: str) -> None:
    capturer = MssCapturer()
    (monitor,) = capturer.monitors()
    assert (monitor.width, monitor.height) == (1280, 720)
    frame = capturer.grab(monitor)
    assert frame.shape == (720, 1280, 4) and frame.dtype == np.uint8
    capturer.close()


def test_a_scrolling_terminal_arrives_pixel_exact(display: str) -> None:
    capturer = MssCapturer()
    (monitor,) = capturer.monitors()
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    terminal = ["xterm", "-geometry", "120x45+0+0", "-e", "bash", "-c", SCROLLING_TEXT]
    with running(terminal, display, settle=1.0):
        changed = 0
        for _ in range(40):
            frame = capturer.grab(monitor)
            updates = encoder.encode(frame)
            changed += bool(updates)
            for update in updates:
                decoder.decode(update)
            assert np.array_equal(decoder.framebuffer, frame[:, :, :3]), "decoded ≠ captured"
            time.sleep(0.03)
    capturer.close()
    assert changed >= 20  # the text really scrolled
    assert encoder.stats.copy_records > 0  # and scrolling went out as moves, not pixels


def test_an_unchanged_screen_costs_nothing(display: str) -> None:
    capturer = MssCapturer()
    (monitor,) = capturer.monitors()
    encoder = ScreenEncoder()
    with running(["xterm", "-geometry", "80x24+10+10"], display, settle=1.0):
        assert encoder.encode(capturer.grab(monitor))  # the first frame is a keyframe
        # A loaded machine may still be drawing the new window: wait until it is done
        # (xterm's cursor does not blink by default), then nothing may cost anything.
        deadline = time.monotonic() + 10
        while encoder.encode(capturer.grab(monitor)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [encoder.encode(capturer.grab(monitor)) for _ in range(5)] == [[]] * 5
    capturer.close()
    assert os.environ["DISPLAY"] == display
