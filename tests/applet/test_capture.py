"""Real capture on a real X display, through the real screen codec."""

from __future__ import annotations

import os
import time

import numpy as np
from Xlib import display as xdisplay

from applet.capture import MssCapturer
from applet.damage_x11 import X11DamageWatch
from applet.screen_service import on_monitor
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


def test_grabbing_an_area_brings_the_last_frame_up_to_date_there(display: str) -> None:
    capturer, fresh = MssCapturer(), MssCapturer()
    (monitor,) = capturer.monitors()
    x = xdisplay.Display(display)
    root = x.screen().root
    gc = root.create_gc(foreground=0x3366CC)
    watch = X11DamageWatch(display)
    try:
        watch.changed_area()  # the whole screen, when the watch was made
        capturer.grab(monitor)
        for box in [(10, 10, 50, 30), (600, 300, 128, 64), (1270, 700, 10, 20)]:
            root.fill_rectangle(gc, *box)
            x.sync()
            area = on_monitor(watch.changed_area(), monitor)
            assert area == (box[0], box[1], box[0] + box[2], box[1] + box[3])
            frame = capturer.grab(monitor, area)
            assert np.array_equal(frame[..., :3], fresh.grab(monitor)[..., :3])
        # Drawing outside the area given is not read: the caller said it did not change.
        root.fill_rectangle(gc, 200, 200, 20, 20)
        x.sync()
        frame = capturer.grab(monitor, (0, 0, 100, 100))
        assert not (frame[200:220, 200:220, :3] == [0xCC, 0x66, 0x33]).all()
        assert (capturer.grab(monitor)[200:220, 200:220, :3] == [0xCC, 0x66, 0x33]).all()
        # Half the screen or more is read whole, into a new frame (no copy into the last).
        before = capturer.grab(monitor, (0, 0, 10, 10))
        root.fill_rectangle(gc, 1000, 600, 30, 30)
        x.sync()
        large = capturer.grab(monitor, (0, 0, monitor.width, monitor.height // 2 + 1))
        assert large is not before
        assert (large[600:630, 1000:1030, :3] == [0xCC, 0x66, 0x33]).all()
    finally:
        watch.close()
        x.close()
        capturer.close()
        fresh.close()
