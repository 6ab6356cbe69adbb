"""The Qt binding keeps Python's count of references to None.

PySide6 6.12.0 on CPython 3.11 drops one reference to None on every call of a Qt method
that returns nothing (QWidget.update, QPainter.fillRect, …). None starts with a few
thousand references, so the console aborts ("Fatal Python error: none_dealloc") after
half a minute of painting. pyproject.toml keeps that version out; this test says whether
the installed one is safe. From CPython 3.12 None is immortal and nothing can be lost.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import partial

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

pytestmark = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="None is immortal from CPython 3.12"
)

CALLS = 20_000
MARGIN = 100  # other threads may hold a few references to None for a moment


def _lost(call: Callable[[], object]) -> int:
    call()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        call()
    return before - sys.getrefcount(None)


def test_void_qt_calls_keep_every_reference_to_none(qapp: QApplication) -> None:
    widget = QWidget()
    widget.resize(64, 64)
    target = QImage(128, 128, QImage.Format.Format_RGB32)
    source = QImage(32, 32, QImage.Format.Format_RGB32)
    source.fill(0)
    painter = QPainter(target)
    calls: dict[str, Callable[[], object]] = {
        "QWidget.update": widget.update,
        "QPainter.fillRect": partial(painter.fillRect, QRect(0, 0, 16, 16), QColor(1, 2, 3)),
        "QPainter.drawImage": partial(painter.drawImage, QPoint(4, 4), source),
        "QApplication.processEvents": QApplication.processEvents,
    }
    # A leaking binding would take None to zero references and abort the whole run;
    # the reserve keeps it alive long enough to measure.
    reserve = [None] * (2 * CALLS * len(calls))
    try:
        lost = {name: _lost(call) for name, call in calls.items()}
    finally:
        painter.end()
    # Give back what was lost, so that the process can still end normally.
    for _ in range(max(0, sum(lost.values()))):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    del reserve
    leaking = {name: n for name, n in lost.items() if n > MARGIN}
    assert not leaking, f"references to None lost in {CALLS:,} calls: {leaking}"
