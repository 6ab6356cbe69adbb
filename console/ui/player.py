"""Plays an RCREC recording in the console, so a technician can review a session before
converting it: play and pause, seek anywhere (decoding restarts at the keyframe before),
and speeds from half to eight times."""

from __future__ import annotations

import time
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from common.recording import RecordingReader
from common.recording.replay import Picture, Replay

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)
TICK_MS = 33


def clock(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class PictureView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.image = QImage()
        self._pixels: Picture | None = None  # the QImage borrows these bytes
        self.setMinimumSize(480, 270)

    def show_picture(self, picture: Picture) -> None:
        self._pixels = np.ascontiguousarray(picture)
        height, width = picture.shape[:2]
        self.image = QImage(
            self._pixels.data, width, height, width * 3, QImage.Format.Format_BGR888
        )
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202124"))
        if self.image.isNull():
            return
        scale = min(self.width() / self.image.width(), self.height() / self.image.height())
        w, h = self.image.width() * scale, self.image.height() * scale
        target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, self.image)


class PlayerWindow(QWidget):
    """Raises the reader's errors (not a recording, a key needed) from the constructor."""

    def __init__(self, path: Path, key: bytes | None = None) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("{name} — Lifeline recording").format(name=path.name))
        self.resize(1100, 700)
        self._file: BinaryIO = path.open("rb")
        try:
            self.reader = RecordingReader(self._file, key)
        except Exception:
            self._file.close()
            raise
        self.replay = Replay(self.reader)
        self.keyframes = self.replay.keyframes()
        first, last, _ = self.replay.scan()
        self.start_ms = first if first is not None else 0
        self.duration_ms = max(0, last - self.start_ms)
        #: Milliseconds since the first picture.
        self.position = 0
        self.speed = 1.0
        self._last_tick = 0.0

        self.view = PictureView()
        self.play = QPushButton(self.tr("Play"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.duration_ms)
        self.time = QLabel()
        self.time.setObjectName("stats")
        self.speeds = QComboBox()
        for speed in SPEEDS:
            self.speeds.addItem(f"{speed:g}×", speed)
        self.speeds.setCurrentIndex(SPEEDS.index(1.0))
        self.note = QLabel()
        self.note.setObjectName("hint")
        if not self.replay.complete:
            self.note.setText(
                self.tr("This recording stops early: {why}").format(why=self.replay.stopped)
            )
        controls = QHBoxLayout()
        for widget in (self.play, self.slider, self.time, self.speeds):
            controls.addWidget(widget, 1 if widget is self.slider else 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)
        layout.addWidget(self.note)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self._connect_signals()
        self.seek(0)

    def _connect_signals(self) -> None:
        self.play.clicked.connect(self.toggle)
        self.slider.sliderMoved.connect(self.seek)
        self.speeds.currentIndexChanged.connect(
            lambda i: setattr(self, "speed", float(self.speeds.itemData(i)))
        )
        self.timer.timeout.connect(self._tick)

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def toggle(self) -> None:
        if self.playing:
            self.timer.stop()
        else:
            if self.position >= self.duration_ms:
                self.seek(0)
            self._last_tick = time.monotonic()
            self.timer.start()
        self.play.setText(self.tr("Pause") if self.playing else self.tr("Play"))

    def seek(self, position: int) -> None:
        self.position = min(max(position, 0), self.duration_ms)
        self.replay.seek(self.start_ms + self.position, self.keyframes)
        self._show()

    def advance(self, milliseconds: float) -> None:
        """Moves the playback on (the timer calls this with real time × speed)."""
        self.position = min(self.duration_ms, self.position + int(milliseconds))
        if self.replay.advance_to(self.start_ms + self.position):
            self._show()
        else:
            self._show_time()

    def _tick(self) -> None:
        now = time.monotonic()
        self.advance((now - self._last_tick) * 1000 * self.speed)
        self._last_tick = now
        if self.position >= self.duration_ms:
            self.toggle()

    def _show(self) -> None:
        picture = self.replay.picture()
        if picture is not None:
            self.view.show_picture(picture)
        self._show_time()

    def _show_time(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self.position)
        self.slider.blockSignals(False)
        self.time.setText(f"{clock(self.position)} / {clock(self.duration_ms)}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        self._file.close()
        super().closeEvent(event)
