"""One customer's tab: who and how the link is, the rights with their live state, chat,
and the remote screen. Shows :mod:`console.technician_session` events
(:meth:`SessionTab.show_event`) and emits the technician's intents; it holds no session
state of its own beyond what it displays, so tabs cannot mix customers' data."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from common.transport import Ended
from console.rights import ACTIONS, RightChanged, RightState
from console.screen_view import ScreenView
from console.technician_session import (
    ChatLine,
    ConsoleEvent,
    CursorChanged,
    Refused,
    ScreenChanged,
)
from console.ui.viewer import RemoteScreen

_ACTION_LABELS = {
    "view_screen": "View screen",
    "remote_control": "Remote control",
    "file_manager": "Files",
    "system_info": "System info",
    "clipboard_sync": "Clipboard",
}
# Granted and pending buttons are disabled (nothing to ask) but must stay readable.
_STATE_STYLE = {
    RightState.NONE: "",
    RightState.PENDING: "QPushButton { background: #fff3c4; color: #6d4c00; }",
    RightState.GRANTED: "QPushButton { background: #c8e6c9; color: #1b5e20; font-weight: 600; }",
    RightState.DENIED: "QPushButton { background: #ffcdd2; }",
    RightState.REVOKED: "QPushButton { background: #eeeeee; color: #555555; }",
}


class SessionTab(QWidget):
    request_right = Signal(str)
    say = Signal(str)
    input_event = Signal(dict)
    end_requested = Signal()

    def __init__(self, customer: str, sas: str, view: ScreenView) -> None:
        super().__init__()
        self.customer = customer
        self.header = QLabel(
            self.tr("{customer} — security code {sas}").format(
                customer=customer, sas=" ".join((sas[:3], sas[3:]))
            )
        )
        self.header.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.state = QLabel(self.tr("Connected"))
        self.buttons: dict[str, QPushButton] = {}
        rights = QHBoxLayout()
        for action in ACTIONS:
            button = QPushButton(self.tr(_ACTION_LABELS[action]))
            button.setToolTip(self.tr("Ask the customer's permission"))
            button.clicked.connect(lambda _=False, a=action: self.request_right.emit(a))
            self.buttons[action] = button
            rights.addWidget(button)
        rights.addStretch(1)
        self.end_button = QPushButton(self.tr("End session"))
        self.end_button.clicked.connect(self.end_requested)
        rights.addWidget(self.end_button)

        self.remote = RemoteScreen(view)
        self.remote.input_event.connect(self.input_event)
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText(self.tr("Message to {customer}").format(customer=customer))
        self.entry.returnPressed.connect(self._send)
        chat = QWidget()
        chat.setMinimumWidth(300)
        chat_layout = QVBoxLayout(chat)
        chat_layout.setContentsMargins(0, 0, 0, 0)
        chat_layout.addWidget(self.transcript, 1)
        chat_layout.addWidget(self.entry)
        split = QSplitter()
        split.addWidget(self.remote)
        split.addWidget(chat)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setCollapsible(0, False)

        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.state)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(rights)
        layout.addWidget(split, 1)
        for action in ACTIONS:
            self._paint_right(action, RightState.NONE)

    def show_event(self, event: ConsoleEvent) -> None:
        if isinstance(event, RightChanged):
            self._paint_right(event.action, event.state, event.reason)
        elif isinstance(event, ChatLine):
            who = self.tr("You") if event.sender == "technician" else self.customer
            stamp = time.strftime("%H:%M", time.localtime(event.when))
            self.transcript.append(
                f'<p><span style="color:#888">{stamp}</span> <b>{html.escape(who)}:</b> '
                f"{html.escape(event.text)}</p>"
            )
        elif isinstance(event, ScreenChanged):
            self.remote.screen_changed()
        elif isinstance(event, CursorChanged):
            self.remote.cursor_changed()
        elif isinstance(event, Refused):
            self.transcript.append(
                f'<p style="color:#c62828">{html.escape(self.tr("The applet refused: "))}'
                f"{html.escape(event.reason)}</p>"
            )
        elif isinstance(event, Ended):
            self.state.setText(self.tr("Ended: {why}").format(why=event.message))
            for button in (*self.buttons.values(), self.end_button):
                button.setEnabled(False)
            self.entry.setEnabled(False)

    def _paint_right(self, action: str, state: RightState, reason: str = "") -> None:
        button = self.buttons[action]
        label = self.tr(_ACTION_LABELS[action])
        suffix = {
            RightState.NONE: "",
            RightState.PENDING: self.tr(" (asking…)"),
            RightState.GRANTED: " ✓",
            RightState.DENIED: self.tr(" (denied)"),
            RightState.REVOKED: self.tr(" (revoked)"),
        }[state]
        button.setText(label + suffix)
        button.setStyleSheet(_STATE_STYLE[state])
        button.setProperty("rightState", str(state))
        if reason:
            button.setToolTip(self.tr("Denied: {reason}").format(reason=reason))
        # Asking again is possible unless granted or being asked right now.
        button.setEnabled(state not in (RightState.GRANTED, RightState.PENDING))

    def _send(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.entry.clear()
            self.say.emit(text)
