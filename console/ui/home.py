"""The technician's home tab: **New session** with the codes waiting to be typed, and
the customers waiting in the technician's own queue and their group's. Shows
:mod:`console.lobby` events (:meth:`HomePage.show_event`) and emits intents."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.lobby import (
    Abandoned,
    CodeReady,
    LobbyEvent,
    QueueChanged,
    QueueEntry,
    SessionReady,
)


def minutes_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class CodeCard(QFrame):
    """One code waiting for its customer: read it out, or send the invitation."""

    withdraw = Signal(int)

    def __init__(self, ready: CodeReady) -> None:
        super().__init__()
        self.ready = ready
        self.setObjectName("panel")
        self.code = QLabel(ready.code)
        self.code.setObjectName("code")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expiry = QLabel()
        self.expiry.setObjectName("hint")
        hint = QLabel(
            self.tr(
                "Read this code to your customer, or send the invitation: "
                "the program named {name} needs no code."
            ).format(name=ready.download_name)
        )
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        self.copy = QPushButton(self.tr("Copy invitation"))
        self.copy.clicked.connect(self._copy)
        self.cancel = QPushButton(self.tr("Withdraw"))
        self.cancel.clicked.connect(lambda: self.withdraw.emit(ready.ticket))
        buttons = QHBoxLayout()
        buttons.addWidget(self.expiry, 1)
        buttons.addWidget(self.copy)
        buttons.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.code)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        self.tick()

    def invitation(self) -> str:
        return self.tr(
            "Your Lifeline support code is {code} (valid until {until}). "
            "Start Lifeline and type it in, or run {name}."
        ).format(
            code=self.ready.code,
            until=time.strftime("%H:%M", time.localtime(self.ready.expires_at)),
            name=self.ready.download_name,
        )

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.invitation())
        self.copy.setText(self.tr("Copied"))

    def tick(self) -> None:
        left = self.ready.expires_at - time.time()
        self.expiry.setText(
            self.tr("Expires in {time}").format(time=minutes_seconds(left))
            if left > 0
            else self.tr("Expired")
        )


class HomePage(QWidget):
    new_session = Signal()
    withdraw = Signal(int)
    pickup = Signal(str)

    def __init__(self, technician: str) -> None:
        super().__init__()
        self.cards: dict[int, CodeCard] = {}
        self.entries: tuple[QueueEntry, ...] = ()
        title = QLabel(self.tr("Hello, {name}").format(name=technician))
        title.setObjectName("title")
        self.start = QPushButton(self.tr("New session"))
        self.start.setObjectName("primary")
        self.start.setToolTip(self.tr("Make a code for a customer to type"))
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.codes = QVBoxLayout()
        self.codes.setSpacing(10)
        self.no_codes = QLabel(self.tr("No code waiting. Press New session to make one."))
        self.no_codes.setObjectName("hint")
        self.codes.addWidget(self.no_codes)

        left = QVBoxLayout()
        left.addWidget(title)
        left.addWidget(self.start, 0, Qt.AlignmentFlag.AlignLeft)
        left.addWidget(self.status)
        left.addLayout(self.codes)
        left.addStretch(1)

        queue_title = QLabel(self.tr("Waiting customers"))
        queue_title.setStyleSheet("font-weight: 600; font-size: 12pt;")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Customer"), self.tr("Queue"), self.tr("Waiting")]
        )
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.take = QPushButton(self.tr("Pick up"))
        self.take.setEnabled(False)
        right = QVBoxLayout()
        right.addWidget(queue_title)
        right.addWidget(self.table, 1)
        right.addWidget(self.take, 0, Qt.AlignmentFlag.AlignRight)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(24)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self._connect_signals()
        self.timer.start()

    def _connect_signals(self) -> None:
        self.start.clicked.connect(self._start)
        self.take.clicked.connect(self._take)
        self.table.itemDoubleClicked.connect(lambda _: self._take())
        self.table.itemSelectionChanged.connect(
            lambda: self.take.setEnabled(bool(self.table.selectedItems()))
        )
        self.timer.timeout.connect(self._tick)

    def _start(self) -> None:
        self.start.setEnabled(False)
        self.status.setText(self.tr("Making a code…"))
        self.new_session.emit()

    def _take(self) -> None:
        rows = {item.row() for item in self.table.selectedItems()}
        if rows:
            entry = self.entries[rows.pop()]
            self.status.setText(self.tr("Connecting to {who}…").format(who=entry.who))
            self.pickup.emit(entry.session_id)

    def show_event(self, event: LobbyEvent) -> None:
        if isinstance(event, CodeReady):
            self.start.setEnabled(True)
            self.status.clear()
            card = CodeCard(event)
            card.withdraw.connect(self.withdraw)
            self.cards[event.ticket] = card
            self.codes.addWidget(card)
            self.no_codes.hide()
        elif isinstance(event, SessionReady):
            self._drop_card(event.ticket)
            self.status.setText(self.tr("{who} joined.").format(who=event.customer))
        elif isinstance(event, Abandoned):
            self.start.setEnabled(True)
            self._drop_card(event.ticket)
            self.status.setText(event.message)
        elif isinstance(event, QueueChanged):
            self._show_queue(event.entries)

    def _drop_card(self, ticket: int) -> None:
        card = self.cards.pop(ticket, None)
        if card is not None:
            card.hide()
            card.deleteLater()
        self.no_codes.setVisible(not self.cards)

    def _show_queue(self, entries: tuple[QueueEntry, ...]) -> None:
        self.entries = entries
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            queue = self.tr("Mine") if entry.queue == "private" else self.tr("Group")
            for column, text in enumerate((entry.who, queue, "")):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self._tick()

    def _tick(self) -> None:
        now = time.time()
        for row, entry in enumerate(self.entries):
            item = self.table.item(row, 2)
            if item is not None:
                item.setText(minutes_seconds(now - entry.since))
        for card in self.cards.values():
            card.tick()
