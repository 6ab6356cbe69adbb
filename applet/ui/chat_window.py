"""Chat with the technician, always available (no permission needed)."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from applet.controller import MAX_CHAT


class ChatWindow(QWidget):
    """Emits :attr:`sent` with what the person wrote."""

    sent = Signal(str)

    def __init__(self, technician: str) -> None:
        super().__init__()
        self.technician = technician
        self.setWindowTitle(self.tr("Chat with {technician}").format(technician=technician))
        self.resize(420, 360)
        self.transcript = QTextBrowser()
        self.transcript.setOpenExternalLinks(False)
        self.transcript.setOpenLinks(False)
        self.entry = QLineEdit()
        self.entry.setMaxLength(MAX_CHAT)
        self.entry.setPlaceholderText(self.tr("Write a message"))
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setObjectName("primary")
        row = QHBoxLayout()
        row.addWidget(self.entry, 1)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(row)
        self.entry.setFocus()  # a reply can be typed as soon as the window opens
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.entry.returnPressed.connect(self._send)
        self.send_button.clicked.connect(self._send)

    def received(self, text: str) -> None:
        self._append(self.technician, text, mine=False)

    def note(self, text: str) -> None:
        """A line from Lifeline itself (someone joined, a right changed)."""
        self.transcript.append(f'<p style="color:#666666"><i>{html.escape(text)}</i></p>')

    def _send(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.entry.clear()
            self._append(self.tr("You"), text, mine=True)
            self.sent.emit(text)

    def _append(self, who: str, text: str, *, mine: bool) -> None:
        colour = "#1565c0" if mine else "#2e7d32"
        # Everything the technician writes is shown as text, never as markup.
        self.transcript.append(
            f'<p><b style="color:{colour}">{html.escape(who)}:</b> '
            f"{html.escape(text).replace(chr(10), '<br>')}</p>"
        )
