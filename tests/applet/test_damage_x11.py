"""X DAMAGE on a real Xvfb: when the screen was drawn on, and where."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from Xlib import display as xdisplay

from applet.damage_x11 import X11DamageWatch


@pytest.fixture
def watch(display: str) -> Iterator[X11DamageWatch]:
    watch = X11DamageWatch(display)
    watch.changed_area()  # the whole screen, damaged when the watch was made
    yield watch
    watch.close()


@pytest.fixture
def window(display: str) -> Iterator[tuple[Any, Any]]:
    """A 300×150 window at (100, 200) and a graphics context to draw in it."""
    x = xdisplay.Display(display)
    screen = x.screen()
    win = screen.root.create_window(
        100, 200, 300, 150, 0, screen.root_depth, background_pixel=screen.white_pixel
    )
    win.map()
    x.sync()
    yield x, win
    x.close()


def drawn(x: Any, win: Any, box: tuple[int, int, int, int]) -> None:
    """Fills a rectangle (window pixels x, y, width, height) and waits for the server."""
    gc = win.create_gc(foreground=x.screen().black_pixel)
    win.fill_rectangle(gc, *box)
    x.sync()


def test_the_area_drawn_on_is_reported_once(watch: X11DamageWatch, window: tuple[Any, Any]) -> None:
    assert watch.wait_for_change(2.0)
    assert watch.changed_area() == (100, 200, 400, 350)  # the window appeared
    assert watch.changed_area() is None
    drawn(*window, (10, 20, 30, 40))
    assert watch.wait_for_change(2.0)
    assert watch.changed_area() == (110, 220, 140, 260)
    assert watch.changed_area() is None


def test_drawing_after_a_report_goes_in_the_next(
    watch: X11DamageWatch, window: tuple[Any, Any]
) -> None:
    watch.changed_area()
    drawn(*window, (0, 0, 5, 5))
    assert watch.changed_area() == (100, 200, 105, 205)
    drawn(*window, (50, 60, 10, 10))
    drawn(*window, (70, 80, 10, 10))
    assert watch.changed_area() == (150, 260, 180, 290)


def test_a_still_screen_waits_for_the_timeout(watch: X11DamageWatch) -> None:
    watch.wait_for_change(0.1)  # a report from before the last area may wake it once
    started = time.monotonic()
    assert not watch.wait_for_change(0.3)
    assert time.monotonic() - started >= 0.25
    assert watch.changed_area() is None
