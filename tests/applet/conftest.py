"""Every applet test runs on its own real X display."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.x11 import xvfb


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh 1280×720 Xvfb, set as DISPLAY for the test."""
    with xvfb(1280, 720) as name:
        monkeypatch.setenv("DISPLAY", name)
        yield name
