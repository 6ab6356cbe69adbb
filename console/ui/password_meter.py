"""How hard a new password is to guess, shown as the technician types it: a bar of five
steps and a line of advice under it.

The estimate is the broker's own (``common/password_strength.py``), but the broker holds
the organisation's minimum and decides: the meter says how strong a password is, not
whether it will be accepted.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from common.password_strength import MAX_SCORE, Strength, estimate, personal_words

#: Very weak to very strong.
COLOURS = ("#c62828", "#ef6c00", "#f9a825", "#7cb342", "#2e7d32")


class PasswordMeter(QWidget):
    #: A new estimate is shown (a Strength, or None when the field is empty).
    estimated = Signal(object)

    #: A long password takes zxcvbn up to a tenth of a second, so the estimate waits
    #: for a pause in the typing.
    DELAY_MS = 150

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strength: Strength | None = None
        self.bar = QProgressBar()
        self.bar.setRange(0, MAX_SCORE + 1)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.label = QLabel()
        self.label.setObjectName("hint")
        self.label.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._layout.addWidget(self.bar)
        self._layout.addWidget(self.label)
        self._password = ""
        self._personal: tuple[str, ...] = ()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.DELAY_MS)
        self._timer.timeout.connect(self._estimate)
        self._show(None)

    def hasHeightForWidth(self) -> bool:
        # The advice sets its own height (_show): forms squeeze word-wrapped rows.
        return False

    def set_password(self, password: str, *personal: str) -> None:
        """Estimates ``password`` once the typing pauses; ``personal``: the e-mail
        address and name a good password is not made of."""
        self._password, self._personal = password, personal
        self._timer.start()

    def _estimate(self) -> None:
        if not self._password:
            self._show(None)
            return
        self._show(estimate(self._password, personal_words(*self._personal)))

    def _show(self, strength: Strength | None) -> None:
        self.strength = strength
        if strength is None:
            self.bar.setValue(0)
            self.label.setText(self.tr("Use a few uncommon words, or a long random mix."))
        else:
            # Below the floor the broker refuses it whatever its score: show it as weakest.
            level = 0 if strength.floor_problem else strength.score
            self.bar.setValue(level + 1)
            self.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {COLOURS[level]}; }}")
            self.label.setText(_advice(strength))
        self._fit_label()
        self.estimated.emit(strength)

    def _fit_label(self) -> None:
        """As tall as the wrapped advice at the width it has, two lines at least so the
        window does not jump at each change; the form then gives the row that height and
        the window can grow to fit it (LoginWindow._fit)."""
        width = max(self.label.width(), self.width(), 120)
        lines = max(2 * self.label.fontMetrics().lineSpacing(), self.label.heightForWidth(width))
        if lines != self.label.minimumHeight():
            self.label.setMinimumHeight(lines)
            self._layout.activate()
            self.updateGeometry()  # the form's row must be asked again

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_label()


def _advice(strength: Strength) -> str:
    if strength.floor_problem:
        return strength.floor_problem
    parts = [f"Strength: {strength.label}."]
    if strength.personal and strength.score < MAX_SCORE:
        parts.append("It contains your name or e-mail address.")
    if strength.warning:
        parts.append(strength.warning)
    parts.extend(strength.suggestions[:1])
    return " ".join(parts)
