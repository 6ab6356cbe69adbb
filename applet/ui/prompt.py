"""The permission prompt: one per question, Allow or Deny, "no" when time runs out.

Deny is the default button, so a stray Enter never grants anything. The countdown is
only shown; the deadline itself is enforced by :class:`applet.consent.Consent`.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from applet.consent import Question
from applet.ui.wording import question_text


class PermissionPrompt(QDialog):
    """Emits :attr:`answered` ``(question_id, allow)`` once."""

    answered = Signal(int, bool)

    def __init__(self, question: Question, deadline_in: float) -> None:
        super().__init__()
        self.question = question
        self._deadline = time.monotonic() + deadline_in
        self._done = False
        self.setWindowTitle(self.tr("Lifeline: permission request"))
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
        self.setMinimumWidth(460)
        text = QLabel(question_text(question.technician, question.actions))
        text.setObjectName("title")
        text.setWordWrap(True)
        advice = QLabel(self.tr("If you did not expect this request, choose Deny."))
        advice.setObjectName("hint")
        advice.setWordWrap(True)
        self.countdown = QLabel()
        self.countdown.setObjectName("hint")
        self.deny_button = QPushButton(self.tr("&Deny"))
        self.allow_button = QPushButton(self.tr("&Allow"))
        self.allow_button.setObjectName("primary")
        self.deny_button.setDefault(True)
        self.deny_button.setAutoDefault(True)
        self.allow_button.setAutoDefault(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.countdown, 1)
        buttons.addWidget(self.deny_button)
        buttons.addWidget(self.allow_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(text)
        layout.addWidget(advice)
        layout.addLayout(buttons)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._connect_signals()
        self._tick()
        self._timer.start()

    def _connect_signals(self) -> None:
        self.allow_button.clicked.connect(lambda: self._answer(True))
        self.deny_button.clicked.connect(lambda: self._answer(False))
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        left = max(0, math.ceil(self._deadline - time.monotonic()))
        self.countdown.setText(self.tr("Denied automatically in {seconds} s").format(seconds=left))
        if left == 0:
            self._answer(False)

    def _answer(self, allow: bool) -> None:
        if not self._done:
            self._done = True
            self._timer.stop()
            self.answered.emit(self.question.id, allow)
        self.close()

    def dismiss(self) -> None:
        """The question was settled elsewhere (timeout, session end): close silently."""
        self._done = True
        self._timer.stop()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._done:  # closing the window is a "no"
            self._answer(False)
        event.accept()

    def reject(self) -> None:  # Escape
        self._answer(False)
