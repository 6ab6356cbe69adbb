"""The always-on-top strip at the top edge of the screen while it is viewed or controlled.

It never takes focus or clicks (``WindowTransparentForInput``), so it cannot get in the
way of the person or the technician; it only says what is going on.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class ScreenIndicator(QWidget):
    def __init__(self) -> None:
        super().__init__(
            None,
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowTransparentForInput
            | Qt.WindowType.WindowDoesNotAcceptFocus
            | Qt.WindowType.X11BypassWindowManagerHint,
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setObjectName("indicator")
        self.setStyleSheet(
            "QWidget#indicator { background: #c62828; }"
            "QLabel { color: white; font-weight: 600; padding: 2px 16px; }"
        )
        self.label = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)

    def show_state(self, technician: str, *, viewing: bool, controlling: bool) -> None:
        """Shows (or hides) the strip for what the technician can do right now."""
        if controlling:
            text = self.tr("{technician} is controlling this computer").format(
                technician=technician
            )
        elif viewing:
            text = self.tr("{technician} can see your screen").format(technician=technician)
        else:
            self.hide()
            return
        self.label.setText("● " + text)
        self.adjustSize()
        screen = QGuiApplication.primaryScreen().geometry()
        self.move(screen.x() + (screen.width() - self.width()) // 2, screen.y())
        self.show()
        self.raise_()
