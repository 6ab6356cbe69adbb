"""The applet's main window: where the session stands, what is granted, End session."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from applet.consent import Action
from applet.ui import wording
from applet.ui.publisher_label import PublisherLabel


class SessionWindow(QWidget):
    """Emits the person's intents: :attr:`revoke_requested`, :attr:`chat_requested`
    and :attr:`end_requested` (also on closing the window)."""

    revoke_requested = Signal(str)
    chat_requested = Signal()
    end_requested = Signal()

    def __init__(self, hotkey: str) -> None:
        super().__init__()
        self.technician = ""
        self.setWindowTitle(self.tr("Lifeline remote support"))
        self.setMinimumWidth(460)
        self.status = QLabel(self.tr("Connecting…"))
        self.status.setObjectName("title")
        self.status.setWordWrap(True)
        self.sas = QLabel()
        self.sas.setObjectName("sas")
        self.sas_hint = QLabel()
        self.sas_hint.setObjectName("hint")
        self.sas_hint.setWordWrap(True)
        self.sas.hide()
        self.sas_hint.hide()

        self.panel = QFrame()
        self.panel.setObjectName("panel")
        self.rights_title = QLabel()
        self.rights_list = QVBoxLayout()
        self.nothing = QLabel()
        self.nothing.setObjectName("hint")
        self.nothing.setWordWrap(True)
        panel_layout = QVBoxLayout(self.panel)
        panel_layout.addWidget(self.rights_title)
        panel_layout.addLayout(self.rights_list)
        panel_layout.addWidget(self.nothing)
        self.panel.hide()
        self.recorded = QLabel()
        self.recorded.setObjectName("recorded")
        self.recorded.setWordWrap(True)
        self.recorded.hide()
        self.hotkey_hint = QLabel(
            self.tr("To take back control at any moment, press {hotkey}.").format(hotkey=hotkey)
        )
        self.hotkey_hint.setObjectName("hint")
        self.hotkey_hint.setWordWrap(True)
        self.hotkey_hint.hide()

        self.chat_button = QPushButton(self.tr("&Chat"))
        self.chat_button.setEnabled(False)
        self.end_button = QPushButton(self.tr("&End session"))
        self.end_button.setObjectName("danger")
        buttons = QHBoxLayout()
        buttons.addWidget(self.chat_button)
        buttons.addStretch(1)
        buttons.addWidget(self.end_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        for widget in (
            self.status, self.sas, self.sas_hint, self.recorded, self.panel, self.hotkey_hint
        ):  # fmt: skip
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.publisher = PublisherLabel()
        layout.addWidget(self.publisher)
        self._rows: dict[Action, QWidget] = {}
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.chat_button.clicked.connect(self.chat_requested)
        self.end_button.clicked.connect(self.end_requested)

    # ---- what the session reports --------------------------------------------------

    def connecting(self) -> None:
        self.status.setText(self.tr("Connecting…"))

    def waiting(self) -> None:
        self.status.setText(self.tr("Waiting for your technician…"))

    def joined(self, technician: str, sas: str, recorded: bool = False) -> None:
        self.technician = technician
        if recorded:
            self.recorded.setText(
                self.tr(
                    "● This session is recorded: {technician}'s organisation records "
                    "what they see of your screen."
                ).format(technician=technician)
            )
            self.recorded.show()
        self.status.setText(self.tr("{technician} has joined").format(technician=technician))
        self.sas.setText(self.tr("Security code {code}").format(code=wording.grouped_digits(sas)))
        self.sas_hint.setText(
            self.tr(
                "Your technician sees the same code. If they read you a different one, "
                "end the session."
            )
        )
        self.rights_title.setText(
            self.tr("What {technician} can do now").format(technician=technician)
        )
        self.nothing.setText(
            self.tr("Nothing yet. {technician} must ask you before doing anything.").format(
                technician=technician
            )
        )
        for widget in (self.sas, self.sas_hint, self.panel):
            widget.show()
        self.chat_button.setEnabled(True)
        self.adjustSize()

    def set_granted(self, granted: list[Action]) -> None:
        """Shows exactly ``granted``, each with its own Revoke button."""
        for action in list(self._rows):
            if action not in granted:
                self._rows.pop(action).deleteLater()
        for action in granted:
            if action not in self._rows:
                self._rows[action] = self._row(action)
                self.rights_list.addWidget(self._rows[action])
                self._rows[action].show()  # now, so that adjustSize() counts it
        self.nothing.setVisible(not granted)
        self.hotkey_hint.setVisible(Action.REMOTE_CONTROL in granted)
        self.adjustSize()

    def _row(self, action: Action) -> QWidget:
        row = QWidget(self.panel)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("• " + wording.granted(action)), 1)
        revoke = QPushButton(self.tr("Revoke"))
        revoke.setAccessibleName(self.tr("Revoke: {right}").format(right=wording.granted(action)))
        revoke.clicked.connect(lambda: self.revoke_requested.emit(str(action)))
        layout.addWidget(revoke)
        return row

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window is ending the session: nothing keeps running unseen.
        self.end_requested.emit()
        event.ignore()
