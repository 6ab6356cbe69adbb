"""The remote screen: paints the decoded framebuffer and the remote cursor, and turns
the technician's mouse and keys into ``input`` messages in the remote monitor's pixels.

Painting copies only the framebuffer into a QImage (no per-pixel Python); the widget
scales it to fit, or shows it 1:1 inside a scroll area. Input is emitted as
:attr:`input_event` dicts; whether they are sent is the session's decision (control
must be granted), never the widget's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from console.screen_view import ScreenView

_BUTTONS = {
    Qt.MouseButton.LeftButton: "left",
    Qt.MouseButton.MiddleButton: "middle",
    Qt.MouseButton.RightButton: "right",
}
#: Qt keys → the protocol's named keys (docs/protocol.md §5.12, ``input`` ``key``).
_NAMED_KEYS = {
    Qt.Key.Key_Return: "Enter",
    Qt.Key.Key_Enter: "Enter",
    Qt.Key.Key_Backspace: "Backspace",
    Qt.Key.Key_Tab: "Tab",
    Qt.Key.Key_Escape: "Escape",
    Qt.Key.Key_Delete: "Delete",
    Qt.Key.Key_Home: "Home",
    Qt.Key.Key_End: "End",
    Qt.Key.Key_PageUp: "PageUp",
    Qt.Key.Key_PageDown: "PageDown",
    Qt.Key.Key_Left: "ArrowLeft",
    Qt.Key.Key_Up: "ArrowUp",
    Qt.Key.Key_Right: "ArrowRight",
    Qt.Key.Key_Down: "ArrowDown",
    Qt.Key.Key_Shift: "Shift",
    Qt.Key.Key_Control: "Control",
    Qt.Key.Key_Alt: "Alt",
    Qt.Key.Key_Meta: "Meta",
    Qt.Key.Key_Insert: "Insert",
    Qt.Key.Key_Print: "PrintScreen",
    **{getattr(Qt.Key, f"Key_F{n}"): f"F{n}" for n in range(1, 13)},
}
_SHORTCUT_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


class RemoteScreen(QWidget):
    """Emits :attr:`input_event` with an ``input`` message's fields (no ``t``)."""

    input_event = Signal(dict)

    def __init__(self, view: ScreenView) -> None:
        super().__init__()
        self.view = view
        self.fit = True
        #: fps, kB/s and latency, painted over the picture's corner.
        self.overlay = ""
        self._image = QImage()
        self._cursor = QImage()
        self._cursor_version = 0
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(320, 180)

    # ---- what the session reports --------------------------------------------------

    def screen_changed(self) -> None:
        """Copies the decoded picture (under the decoder's lock) and repaints."""
        with self.view.lock:
            frame = self.view.decoder.framebuffer
            if frame.size == 0:
                return
            height, width = frame.shape[:2]
            buffer = np.ascontiguousarray(frame)
            image = QImage(buffer.data, width, height, width * 3, QImage.Format.Format_BGR888)
            self._image = image.copy()  # detached from the decoder's memory
        if not self.fit:
            self.resize(width, height)
        self.update()

    def cursor_changed(self) -> None:
        cursor = self.view.cursor
        if cursor.shape_version != self._cursor_version:
            self._cursor_version = cursor.shape_version
            image = np.ascontiguousarray(cursor.image)
            self._cursor = QImage(
                image.data,
                cursor.width,
                cursor.height,
                cursor.width * 4,
                QImage.Format.Format_ARGB32_Premultiplied,
            ).copy()
        self.update()

    def set_fit(self, fit: bool) -> None:
        self.fit = fit
        if not fit and not self._image.isNull():
            self.resize(self._image.size())
        self.update()

    def sizeHint(self) -> QSize:
        return self._image.size() if not self._image.isNull() else QSize(960, 540)

    # ---- painting ------------------------------------------------------------------

    def _target(self) -> QRectF:
        """Where the remote picture lies in this widget."""
        if self._image.isNull():
            return QRectF()
        w, h = self._image.width(), self._image.height()
        if not self.fit:
            return QRectF(0, 0, w, h)
        scale = min(self.width() / w, self.height() / h)
        sw, sh = w * scale, h * scale
        return QRectF((self.width() - sw) / 2, (self.height() - sh) / 2, sw, sh)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202124"))
        target = self._target()
        if target.isEmpty():
            painter.setPen(QColor("#bbbbbb"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.tr("No picture yet"))
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, self._image)
        cursor = self.view.cursor
        if not self._cursor.isNull() and cursor.x >= 0:
            scale = target.width() / self._image.width()
            at = QPointF(
                target.x() + (cursor.x - cursor.hot_x) * scale,
                target.y() + (cursor.y - cursor.hot_y) * scale,
            )
            painter.drawImage(
                QRectF(at, QSize(cursor.width, cursor.height) * scale).toRect()
                if scale != 1
                else QRect(at.toPoint(), self._cursor.size()),
                self._cursor,
            )
        if self.overlay:
            self._paint_overlay(painter)

    def _paint_overlay(self, painter: QPainter) -> None:
        metrics = painter.fontMetrics()
        box = metrics.boundingRect(self.overlay).adjusted(-8, -4, 8, 4)
        box.moveTopLeft(self.visibleRegion().boundingRect().topLeft() + QPoint(8, 8))
        painter.fillRect(box, QColor(0, 0, 0, 150))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.overlay)

    # ---- the technician's input ----------------------------------------------------

    def remote_point(self, x: float, y: float) -> tuple[int, int] | None:
        """Widget coordinates → remote monitor pixels, or None off the picture."""
        target = self._target()
        if target.isEmpty() or not target.contains(QPointF(x, y)):
            return None
        scale = self._image.width() / target.width()
        rx = int((x - target.x()) * scale)
        ry = int((y - target.y()) * scale)
        return min(rx, self._image.width() - 1), min(ry, self._image.height() - 1)

    def widget_point(self, rx: int, ry: int) -> QPoint | None:
        """Remote monitor pixels → widget coordinates (the centre of that pixel)."""
        target = self._target()
        if target.isEmpty():
            return None
        scale = target.width() / self._image.width()
        return QPointF(target.x() + (rx + 0.5) * scale, target.y() + (ry + 0.5) * scale).toPoint()

    def _move(self, event: QMouseEvent | QWheelEvent) -> bool:
        point = self.remote_point(event.position().x(), event.position().y())
        if point is None:
            return False
        self.input_event.emit({"kind": "move", "x": point[0], "y": point[1]})
        return True

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._move(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        self._button(event, True)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._button(event, False)

    def _button(self, event: QMouseEvent, down: bool) -> None:
        name = _BUTTONS.get(event.button())
        if name is not None and self._move(event):
            self.input_event.emit({"kind": "button", "button": name, "down": down})

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() // 120
        if steps and self._move(event):
            self.input_event.emit({"kind": "scroll", "steps": int(steps)})

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self._key(event, True)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        self._key(event, False)

    def focusNextPrevChild(self, next: bool) -> bool:
        return False  # Tab goes to the remote computer, not to the next widget

    def _key(self, event: QKeyEvent, down: bool) -> None:
        if event.isAutoRepeat() and not down:
            return
        message = key_message(event.key(), event.text(), event.modifiers(), down)
        if message is not None:
            self.input_event.emit(message)


def key_message(
    key: int | Qt.Key, text: str, modifiers: Qt.KeyboardModifier, down: bool
) -> dict[str, Any] | None:
    """What one key event becomes: printable text typed as text (it means what the
    technician's layout produced), named keys and shortcuts as key presses."""
    if key in _NAMED_KEYS:
        return {"kind": "key", "key": _NAMED_KEYS[Qt.Key(key)], "down": down}
    shortcut = bool(modifiers & _SHORTCUT_MODIFIERS)
    if shortcut and 0x20 < int(key) < 0x7F:
        # Ctrl+C arrives with text "\x03"; the key says which letter was meant.
        return {"kind": "key", "key": chr(int(key)).lower(), "down": down}
    if down and text and text.isprintable():
        return {"kind": "text", "text": text}
    return None
