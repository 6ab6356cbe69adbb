"""One customer's tab: who and how the link is, the rights with their live state, the
remote screen with control, chat with delivery state, system information and notes.
Shows :mod:`console.technician_session` events (:meth:`SessionTab.show_event`) and
emits the technician's intents; it holds no session state beyond what it displays, so
tabs cannot mix customers' data."""

from __future__ import annotations

import html
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from common.transport import Ended, PeerState
from console.file_reports import FileProblem, RemoteFolder, RemoteRoots, TransferStatus
from console.rights import ACTIONS, RightChanged, RightState
from console.screen_view import ScreenView
from console.technician_session import (
    ChatDelivered,
    ChatLine,
    ClipboardText,
    ConsoleEvent,
    CursorChanged,
    Monitor,
    MonitorsChanged,
    RecordingChanged,
    Refused,
    ScreenChanged,
    SystemInfo,
)
from console.ui.file_manager import FileManager
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


def _press(*keys: str) -> list[dict[str, Any]]:
    """Presses ``keys`` in order and releases them in reverse: a shortcut."""
    downs = [{"kind": "key", "key": k, "down": True} for k in keys]
    ups = [{"kind": "key", "key": k, "down": False} for k in reversed(keys)]
    return downs + ups


#: Keys the technician's own computer would act on instead of sending them.
SPECIAL_KEYS = {
    "Ctrl+Alt+Del": _press("Control", "Alt", "Delete"),
    "Windows / Super": _press("Meta"),
    "Alt+Tab": _press("Alt", "Tab"),
    "Print Screen": _press("PrintScreen"),
    "Ctrl+Esc": _press("Control", "Escape"),
}


class SessionTab(QWidget):
    request_right = Signal(str)
    say = Signal(str)
    input_event = Signal(dict)
    request_sysinfo = Signal()
    share_clipboard = Signal(str)
    save_note = Signal(str)
    select_monitor = Signal(int)
    recording_toggled = Signal(bool)
    end_requested = Signal()
    #: The session is over (the tab may now be closed).
    ended = Signal()

    def __init__(self, customer: str, sas: str, view: ScreenView) -> None:
        super().__init__()
        self.customer = customer
        self.is_over = False
        self.control_on = False
        self._viewing = False
        self._may_record, self._forced = True, False
        self._lines: list[ChatLine] = []
        self._delivered: set[int] = set()
        self._extra: list[str] = []

        self.header = QLabel(customer)
        self.header.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.sas = QLabel(self.tr("Security code {sas}").format(sas=" ".join((sas[:3], sas[3:]))))
        self.sas.setObjectName("sas")
        self.sas.setToolTip(self.tr("Read it to the customer: their screen shows the same."))
        self.state = QLabel(self.tr("Connected"))
        self.stats = QLabel()
        self.stats.setObjectName("stats")

        self.buttons: dict[str, QPushButton] = {}
        rights = QHBoxLayout()
        for action in ACTIONS:
            button = QPushButton(self.tr(_ACTION_LABELS[action]))
            button.setToolTip(self.tr("Ask the customer's permission"))
            button.clicked.connect(lambda _=False, a=action: self.request_right.emit(a))
            self.buttons[action] = button
            rights.addWidget(button)
        rights.addStretch(1)
        self.control = QPushButton(self.tr("Control"))
        self.control.setCheckable(True)
        self.control.setEnabled(False)
        self.control.setToolTip(
            self.tr("Send your mouse and keyboard to the customer while the screen has focus")
        )
        self.fit = QPushButton(self.tr("Fit"))
        self.fit.setCheckable(True)
        self.fit.setChecked(True)
        self.fit.setToolTip(self.tr("Fit the screen to the window, or show it 1:1"))
        self.keys = QToolButton()
        self.keys.setText(self.tr("Keys"))
        self.keys.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.keys.setEnabled(False)
        menu = QMenu(self.keys)
        for label, sequence in SPECIAL_KEYS.items():
            item = QAction(self.tr(label), menu)
            item.triggered.connect(lambda _=False, s=sequence: self._send_keys(s))
            menu.addAction(item)
        self.keys.setMenu(menu)
        self.record = QPushButton(self.tr("● Record"))
        self.record.setCheckable(True)
        self.record.setObjectName("record")
        self.record.setEnabled(False)
        self.record.setToolTip(self.tr("Record this session to a file you can convert to video"))
        self.monitor_picker = QComboBox()
        self.monitor_picker.setToolTip(self.tr("Which of the customer's screens to show"))
        self.monitor_picker.hide()  # until the customer has more than one screen
        self.end_button = QPushButton(self.tr("End session"))
        self.end_button.setObjectName("danger")
        for widget in (
            self.control, self.keys, self.record, self.monitor_picker, self.fit, self.end_button
        ):  # fmt: skip
            rights.addWidget(widget)

        self.remote = RemoteScreen(view)
        self.screen_area = QScrollArea()
        self.screen_area.setWidget(self.remote)
        self.screen_area.setWidgetResizable(True)
        self.screen_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.screen_area.setStyleSheet("QScrollArea { background: #202124; border: none; }")

        self.side = QTabWidget()
        self.side.setMinimumWidth(300)
        self.side.addTab(self._chat_pane(), self.tr("Chat"))
        self.side.addTab(self._system_pane(), self.tr("System"))
        self.side.addTab(self._notes_pane(), self.tr("Notes"))
        self.files = FileManager(customer)
        self.files_gate = QWidget()
        self.ask_files = QPushButton(self.tr("Ask for access to files"))
        gate = QVBoxLayout(self.files_gate)
        gate.addStretch(1)
        self.files_hint = QLabel(
            self.tr(
                "Browse {customer}'s files and move files both ways once they allow it."
            ).format(customer=customer)
        )
        self.files_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        gate.addWidget(self.files_hint)
        gate.addWidget(self.ask_files, 0, Qt.AlignmentFlag.AlignCenter)
        gate.addStretch(1)
        self.files_page = QStackedWidget()
        self.files_page.addWidget(self.files_gate)
        self.files_page.addWidget(self.files)
        self.main = QTabWidget()
        self.main.setDocumentMode(True)
        self.main.addTab(self.screen_area, self.tr("Screen"))
        self.main.addTab(self.files_page, self.tr("Files"))
        split = QSplitter()
        split.addWidget(self.main)
        split.addWidget(self.side)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setCollapsible(0, False)

        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addSpacing(16)
        top.addWidget(self.sas)
        top.addStretch(1)
        top.addWidget(self.stats)
        top.addSpacing(12)
        top.addWidget(self.state)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(rights)
        layout.addWidget(split, 1)
        for action in ACTIONS:
            self._paint_right(action, RightState.NONE)
        self._connect_signals()

    def _chat_pane(self) -> QWidget:
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText(
            self.tr("Message to {customer}").format(customer=self.customer)
        )
        self.send_clipboard = QPushButton(self.tr("Send my clipboard"))
        self.send_clipboard.setToolTip(self.tr("Copies your clipboard's text to this customer"))
        self.send_clipboard.setEnabled(False)
        pane = QWidget()
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.transcript, 1)
        layout.addWidget(self.entry)
        layout.addWidget(self.send_clipboard, 0, Qt.AlignmentFlag.AlignRight)
        return pane

    def _system_pane(self) -> QWidget:
        self.sysinfo = QTreeWidget()
        self.sysinfo.setHeaderLabels([self.tr("Item"), self.tr("Value")])
        self.sysinfo.setColumnWidth(0, 150)
        self.refresh_sysinfo = QPushButton(self.tr("Ask for system information"))
        pane = QWidget()
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sysinfo, 1)
        layout.addWidget(self.refresh_sysinfo)
        return pane

    def _notes_pane(self) -> QWidget:
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText(
            self.tr(
                "Your notes on this session: kept in the session's log, not shown to the customer."
            )
        )
        self.save_notes = QPushButton(self.tr("Save to the session log"))
        self.notes_state = QLabel()
        self.notes_state.setObjectName("hint")
        pane = QWidget()
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.notes, 1)
        row = QHBoxLayout()
        row.addWidget(self.notes_state, 1)
        row.addWidget(self.save_notes)
        layout.addLayout(row)
        return pane

    def _connect_signals(self) -> None:
        self.end_button.clicked.connect(self.end_requested)
        self.entry.returnPressed.connect(self._send)
        self.remote.input_event.connect(self._input)
        self.control.toggled.connect(self._control_toggled)
        self.fit.toggled.connect(self._fit_toggled)
        self.refresh_sysinfo.clicked.connect(self._ask_sysinfo)
        self.send_clipboard.clicked.connect(
            lambda: self.share_clipboard.emit(QGuiApplication.clipboard().text())
        )
        self.save_notes.clicked.connect(self._save_notes)
        self.ask_files.clicked.connect(lambda: self.request_right.emit("file_manager"))
        self.record.clicked.connect(self.recording_toggled)
        self.monitor_picker.activated.connect(
            lambda row: self.select_monitor.emit(self.monitor_picker.itemData(row))
        )

    # ---- what the session reports --------------------------------------------------

    def show_event(self, event: ConsoleEvent) -> None:
        if isinstance(event, RightChanged):
            self._paint_right(event.action, event.state, event.reason)
        elif isinstance(event, ChatLine):
            self._lines.append(event)
            self._render_chat()
        elif isinstance(event, ChatDelivered):
            self._delivered.add(event.id)
            self._render_chat()
        elif isinstance(event, ScreenChanged):
            self.remote.screen_changed()
        elif isinstance(event, CursorChanged):
            self.remote.cursor_changed()
        elif isinstance(event, SystemInfo):
            self._show_sysinfo(event.info)
        elif isinstance(event, ClipboardText):
            QGuiApplication.clipboard().setText(event.text)
            self._note(
                self.tr("{customer}'s clipboard is now in yours.").format(customer=self.customer)
            )
        elif isinstance(event, RecordingChanged):
            self._show_recording(event)
        elif isinstance(event, MonitorsChanged):
            self._show_monitors(event.monitors, event.current)
        elif isinstance(event, Refused):
            self._note(
                self.tr("The customer's program refused: {reason}").format(reason=event.reason),
                error=True,
            )
        elif isinstance(event, RemoteRoots | RemoteFolder | TransferStatus | FileProblem):
            self.files.show_event(event)
        elif isinstance(event, PeerState):
            self._show_link(event.state)
        elif isinstance(event, Ended):
            self._end(event.message)

    def _show_link(self, state: str) -> None:
        if self.is_over:
            return
        text, colour = {
            "reconnecting": (self.tr("Reconnecting…"), "#8a6d00"),
            "peer_reconnecting": (
                self.tr("{customer}'s connection dropped: waiting…").format(customer=self.customer),
                "#8a6d00",
            ),
        }.get(state, (self.tr("Connected"), ""))
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {colour}; font-weight: 600;" if colour else "")

    def show_stats(self, fps: float, kbytes_per_s: float, rtt: float | None) -> None:
        latency = f"{rtt * 1000:.0f} ms" if rtt is not None else "–"
        self.stats.setText(
            self.tr("{fps:.0f} fps · {kb:.0f} kB/s · {latency}").format(
                fps=fps, kb=kbytes_per_s, latency=latency
            )
        )
        self.remote.overlay = self.stats.text() if fps or kbytes_per_s else ""

    def set_recording_policy(self, allowed: bool, forced: bool) -> None:
        """What the technician's group says about recording this session."""
        self._may_record, self._forced = allowed, forced
        if forced:
            self.record.setToolTip(self.tr("Your group records every session you see"))
        elif not allowed:
            self.record.setToolTip(self.tr("Your group does not allow recording sessions"))
        self.record.setEnabled(self._record_enabled())

    def _record_enabled(self) -> bool:
        if self.is_over or not self._may_record or self._forced:
            return False  # a forced recording is started and stopped by Lifeline alone
        return self._viewing or self.record.isChecked()

    def _show_recording(self, event: RecordingChanged) -> None:
        self.record.setChecked(event.path is not None)
        if event.path is None:
            self.record.setText(self.tr("● Record"))
        else:
            self.record.setText(
                self.tr("● Recording (required)" if self._forced else "● Recording")
            )
        self.record.setEnabled(self._record_enabled())
        if event.error:
            self._note(event.error, error=True)
        elif event.saved is not None:
            self._note(self.tr("The recording is saved as {file}").format(file=str(event.saved)))
        elif event.path is not None:
            self._note(self.tr("Recording to {file}").format(file=str(event.path)))
        else:
            self._note(self.tr("Recording stopped."))

    def _show_monitors(self, monitors: tuple[Monitor, ...], current: int) -> None:
        picker = self.monitor_picker
        picker.clear()
        for number, monitor in enumerate(monitors, 1):
            size = f"{monitor.width}×{monitor.height}"
            if monitor.index < 0:
                label = self.tr("All screens ({size})").format(size=size)
            elif monitor.primary:
                label = self.tr("Screen {n} ({size}, main)").format(n=number, size=size)
            else:
                label = self.tr("Screen {n} ({size})").format(n=number, size=size)
            picker.addItem(label, monitor.index)
            if monitor.index == current:
                picker.setCurrentIndex(picker.count() - 1)
        picker.setVisible(len(monitors) > 1)

    def _end(self, message: str) -> None:
        self.is_over = True
        self.state.setText(self.tr("Ended: {why}").format(why=message))
        self.state.setStyleSheet("color: #c62828; font-weight: 600;")
        for button in (*self.buttons.values(), self.end_button, self.send_clipboard):
            button.setEnabled(False)
        self.control.setChecked(False)
        self.control.setEnabled(False)
        self.keys.setEnabled(False)
        self.monitor_picker.setEnabled(False)
        self.record.setEnabled(False)
        self.refresh_sysinfo.setEnabled(False)
        self.entry.setEnabled(False)
        self.ask_files.setEnabled(False)
        self.files.setEnabled(False)
        self.ended.emit()

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
        granted = state == RightState.GRANTED
        if action == "remote_control":
            self.control.setEnabled(granted)
            self.keys.setEnabled(granted)
            self.control.setChecked(granted)
        elif action == "view_screen":
            # Recording follows the view; when the view goes, the recording stops.
            self._viewing = granted
            self.record.setEnabled(self._record_enabled())
            if not granted and self.record.isChecked() and not self._forced:
                self.recording_toggled.emit(False)
        elif action == "clipboard_sync":
            self.send_clipboard.setEnabled(granted)
        elif action == "file_manager":
            self.files_page.setCurrentWidget(self.files if granted else self.files_gate)
            self.ask_files.setEnabled(state not in (RightState.GRANTED, RightState.PENDING))
            self.files_hint.setText(self._files_hint(state))
            if granted:
                self.main.setCurrentWidget(self.files_page)
        elif action == "system_info" and granted:
            self.request_sysinfo.emit()

    def _files_hint(self, state: RightState) -> str:
        return {
            RightState.PENDING: self.tr("Waiting for {customer} to allow access to files…"),
            RightState.DENIED: self.tr("{customer} did not allow access to files."),
            RightState.REVOKED: self.tr(
                "{customer} stopped access to files; transfers in progress were stopped."
            ),
        }.get(
            state,
            self.tr("Browse {customer}'s files and move files both ways once they allow it."),
        ).format(customer=self.customer)

    # ---- chat ----------------------------------------------------------------------

    def _render_chat(self) -> None:
        parts = []
        for line in self._lines:
            who = self.tr("You") if line.sender == "technician" else self.customer
            stamp = time.strftime("%H:%M", time.localtime(line.when))
            state = ""
            if line.sender == "technician":
                state = (
                    ' <span style="color:#2e7d32" title="delivered">✓✓</span>'
                    if line.id in self._delivered
                    else ' <span style="color:#999" title="sending">…</span>'
                )
            parts.append(
                f'<p><span style="color:#888">{stamp}</span> <b>{html.escape(who)}:</b> '
                f"{html.escape(line.text)}{state}</p>"
            )
        self.transcript.setHtml("".join(parts + self._extra))
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _note(self, text: str, *, error: bool = False) -> None:
        colour = "#c62828" if error else "#555555"
        self._extra.append(f'<p style="color:{colour}"><i>{html.escape(text)}</i></p>')
        self._render_chat()

    def _send(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.entry.clear()
            self.say.emit(text)

    # ---- screen and control --------------------------------------------------------

    def _input(self, message: dict[str, Any]) -> None:
        if self.control_on:
            self.input_event.emit(message)

    def _send_keys(self, sequence: list[dict[str, Any]]) -> None:
        if self.control_on:
            for message in sequence:
                self.input_event.emit(dict(message))
            self.remote.setFocus()

    def _control_toggled(self, on: bool) -> None:
        self.control_on = on
        self.remote.setCursor(Qt.CursorShape.BlankCursor if on else Qt.CursorShape.ArrowCursor)
        if on:
            self.remote.setFocus()

    def _fit_toggled(self, fit: bool) -> None:
        self.screen_area.setWidgetResizable(fit)
        self.remote.set_fit(fit)

    # ---- system information and notes ---------------------------------------------

    def _ask_sysinfo(self) -> None:
        if self.buttons["system_info"].property("rightState") == "granted":
            self.request_sysinfo.emit()
        else:
            self.request_right.emit("system_info")

    def _show_sysinfo(self, info: dict[str, Any]) -> None:
        self.sysinfo.clear()
        self._add_items(self.sysinfo.invisibleRootItem(), info, depth=0)
        self.sysinfo.expandToDepth(0)
        self.refresh_sysinfo.setText(self.tr("Refresh"))

    def _add_items(self, parent: QTreeWidgetItem, value: object, depth: int) -> None:
        if depth > 4:
            return
        children: list[tuple[str, object]] = []
        if isinstance(value, dict):
            children = [(str(k), v) for k, v in list(value.items())[:200]]
        elif isinstance(value, list):
            children = [(str(i + 1), v) for i, v in enumerate(value[:200])]
        for key, child in children:
            if isinstance(child, dict | list):
                item = QTreeWidgetItem(parent, [key, ""])
                self._add_items(item, child, depth + 1)
            else:
                QTreeWidgetItem(parent, [key, str(child)[:500]])

    def _save_notes(self) -> None:
        text = self.notes.toPlainText().strip()
        if text:
            self.save_note.emit(text)
            self.notes_state.setText(self.tr("Saved at {time}").format(time=time.strftime("%H:%M")))


class StatsTicker:
    """Turns the session's running counters into per-second figures for the tab."""

    def __init__(self, tab: SessionTab, view: ScreenView, rtt: Any) -> None:
        self.tab, self.view, self.rtt = tab, view, rtt
        self._last = (time.monotonic(), view.frames, view.bytes)
        self.timer = QTimer(tab)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        if self.tab.is_over:  # nothing flows any more: say nothing rather than stale numbers
            self.timer.stop()
            self.tab.stats.clear()
            self.tab.remote.overlay = ""
            self.tab.remote.update()
            return
        now, frames, size = time.monotonic(), self.view.frames, self.view.bytes
        then, frames0, size0 = self._last
        self._last = (now, frames, size)
        elapsed = max(now - then, 1e-3)
        self.tab.show_stats(
            (frames - frames0) / elapsed, (size - size0) / elapsed / 1000, self.rtt()
        )
