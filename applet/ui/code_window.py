"""The first window when the applet does not already know its code."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from applet.ui.publisher_label import PublisherLabel
from applet.ui.wording import grouped_digits
from common.crypto.code import MAX_NAMEPLATE_DIGITS, MIN_NAMEPLATE_DIGITS, SECRET_DIGITS

MIN_DIGITS = MIN_NAMEPLATE_DIGITS + SECRET_DIGITS
MAX_DIGITS = MAX_NAMEPLATE_DIGITS + SECRET_DIGITS


class CodeWindow(QWidget):
    """Asks for the code; emits :attr:`submitted` with its digits."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("Lifeline remote support"))
        self.setMinimumWidth(440)
        title = QLabel(self.tr("Enter the code your technician gave you"))
        title.setObjectName("title")
        title.setWordWrap(True)
        hint = QLabel(
            self.tr("Your technician will ask before seeing or doing anything on this computer.")
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.code = QLineEdit()
        self.code.setObjectName("code")
        self.code.setPlaceholderText("482 193 076")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setAccessibleName(self.tr("Session code"))
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.connect_button = QPushButton(self.tr("Connect"))
        self.connect_button.setObjectName("primary")
        self.connect_button.setEnabled(False)
        self.connect_button.setDefault(True)
        self.publisher = PublisherLabel()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        for widget in (title, hint, self.code, self.error, self.connect_button, self.publisher):
            layout.addWidget(widget)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.code.textEdited.connect(self._regroup)
        self.code.returnPressed.connect(self._submit)
        self.connect_button.clicked.connect(self._submit)

    @property
    def digits(self) -> str:
        return "".join(ch for ch in self.code.text() if ch.isascii() and ch.isdigit())

    def prefill(self, digits: str) -> None:
        """Starts with the digits the download already knows; the person adds the rest."""
        self.code.setText(grouped_digits(digits))
        self._regroup(self.code.text())
        self.code.setFocus()

    def show_error(self, message: str, digits: str = "") -> None:
        """Shown again after a code was refused or the server could not be reached."""
        self.error.setText(message)
        self.error.show()
        self.code.setText(grouped_digits(digits))
        self._regroup(self.code.text())
        self.code.setFocus()

    def _regroup(self, text: str) -> None:
        """Digits are grouped by three as they are typed; anything else is ignored."""
        digits = self.digits[:MAX_DIGITS]
        grouped = grouped_digits(digits)
        if grouped != text:
            self.code.setText(grouped)
            self.code.setCursorPosition(len(grouped))
        self.connect_button.setEnabled(len(digits) >= MIN_DIGITS)

    def _submit(self) -> None:
        if len(self.digits) >= MIN_DIGITS:
            self.error.hide()
            self.submitted.emit(self.digits)

    def closeEvent(self, event: object) -> None:
        self.cancelled.emit()
