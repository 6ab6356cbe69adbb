"""Wires the applet's windows to its session: every signal is connected here.

The session runs on its own thread (:class:`applet.session_run.AppletRun`); what it
reports crosses to the window thread through one queued signal, and the person's intents
go back through the run's thread-safe methods.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from applet import publisher
from applet.consent import Action, Change, Denied, Granted, Revoked
from applet.controller import (
    ChatReceived,
    ClipboardReceived,
    FileTransferred,
    InactivityEnded,
    QuestionAsked,
    QuestionClosed,
    RightsChanged,
)
from applet.launch import LaunchSettings, program_path
from applet.local_input import LocalInputWatch, TakeBackHotkey, open_local_input
from applet.session_run import (
    AppletRun,
    CodeRejected,
    Connecting,
    Failed,
    Joined,
    RunEvent,
    Waiting,
)
from applet.ui import wording
from applet.ui.chat_window import ChatWindow
from applet.ui.code_window import CodeWindow
from applet.ui.indicator import ScreenIndicator
from applet.ui.prompt import PermissionPrompt
from applet.ui.session_window import SessionWindow
from common.crypto.code import SessionCode
from common.transport import Ended

log = logging.getLogger("lifeline.applet")


class AppletShell(QObject):
    """Emits :attr:`finished` with the exit status once the session is over."""

    finished = Signal(int)
    _reported = Signal(object)
    _publisher_found = Signal(object)

    def __init__(
        self,
        settings: LaunchSettings,
        *,
        local_input: Callable[[], LocalInputWatch | None] = open_local_input,
        find_publisher: Callable[[], publisher.Publisher | None] = (
            lambda: publisher.find(program_path())
        ),
    ) -> None:
        super().__init__()
        self.settings = settings
        self.run = AppletRun(settings.broker, self._reported.emit)
        self._open_local_input = local_input
        self._find_publisher = find_publisher
        self.local_input: LocalInputWatch | None = None
        self.code_window = CodeWindow()
        self.session_window = SessionWindow(TakeBackHotkey.LABEL)
        self.indicator = ScreenIndicator()
        self.chat: ChatWindow | None = None
        # Why the session ended, when the person must be told (nothing happened).
        self.notice: QMessageBox | None = None
        self.prompts: dict[int, PermissionPrompt] = {}
        self.granted: set[Action] = set()
        self._digits = ""
        self._clipboard_from_console: str | None = None
        self._running = False
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._reported.connect(self._on_report, Qt.ConnectionType.QueuedConnection)
        self._publisher_found.connect(self._show_publisher, Qt.ConnectionType.QueuedConnection)
        self.code_window.submitted.connect(self._connect)
        self.code_window.cancelled.connect(self._cancelled)
        self.session_window.end_requested.connect(self._end)
        self.session_window.revoke_requested.connect(lambda a: self.run.revoke(Action(a)))
        self.session_window.chat_requested.connect(self._show_chat)
        QGuiApplication.clipboard().dataChanged.connect(self._clipboard_changed)

    def start(self) -> None:
        """Connects at once when the code is known, or asks for it."""
        # The system hashes the whole program to check its signature: not on this thread.
        threading.Thread(
            target=lambda: self._publisher_found.emit(self._find_publisher()),
            name="publisher",
            daemon=True,
        ).start()
        if self.settings.code is not None:
            self._connect(self.settings.code.digits)
        else:
            self.code_window.prefill(self.settings.prefill)
            self.code_window.show()

    def _show_publisher(self, found: publisher.Publisher | None) -> None:
        if found is not None:
            self.code_window.publisher.show_publisher(found)
            self.session_window.publisher.show_publisher(found)

    # ---- the person's intents ------------------------------------------------------

    def _connect(self, digits: str) -> None:
        self._digits = digits
        self.code_window.hide()
        self.session_window.connecting()
        self.session_window.show()
        self._running = True
        self.run.start(SessionCode.parse(digits))

    def _end(self) -> None:
        if self._running:
            self.run.end()
        else:
            self._finish(0)

    def _cancelled(self) -> None:
        if not self._running:
            self._finish(0)

    def _show_chat(self) -> None:
        if self.chat is not None:
            self.chat.show()
            self.chat.raise_()
            self.chat.activateWindow()

    def _clipboard_changed(self) -> None:
        if Action.CLIPBOARD_SYNC not in self.granted:
            return
        text = QGuiApplication.clipboard().text()
        if text and text != self._clipboard_from_console:
            self.run.share_clipboard(text)

    # ---- what the session reports --------------------------------------------------

    def _on_report(self, event: RunEvent) -> None:
        if isinstance(event, Connecting):
            self.session_window.connecting()
        elif isinstance(event, Waiting):
            self.session_window.waiting()
        elif isinstance(event, Joined):
            self._joined(event)
        elif isinstance(event, CodeRejected | Failed):
            self._running = False
            self.run.join(5)
            self.session_window.hide()
            self.code_window.show_error(event.message, self._digits)
            self.code_window.show()
        elif isinstance(event, QuestionAsked):
            self._ask(event)
        elif isinstance(event, QuestionClosed):
            self._retire(self.prompts.pop(event.question_id, None))
        elif isinstance(event, RightsChanged):
            self._rights_changed(event)
        elif isinstance(event, ChatReceived):
            if self.chat is not None:
                self.chat.received(event.text)
                if not self.chat.isVisible():
                    self._show_chat()
        elif isinstance(event, FileTransferred):
            record = event.record
            if self.chat is not None:
                self.chat.note(
                    wording.file_transferred(
                        record.direction, record.path.name, record.size, str(record.path.parent)
                    )
                )
        elif isinstance(event, ClipboardReceived):
            self._clipboard_from_console = event.text
            QGuiApplication.clipboard().setText(event.text)
        elif isinstance(event, Ended):
            self._ended(event)

    def _joined(self, event: Joined) -> None:
        self.session_window.joined(event.technician, event.sas, event.recorded)
        self.chat = ChatWindow(event.technician)
        self.chat.sent.connect(self.run.say)
        self.chat.note(self.tr("{technician} has joined.").format(technician=event.technician))
        if sys.platform == "darwin":  # what macOS needs the person to switch on
            from applet.macos_permissions import missing_permissions

            for help_text in map(wording.macos_help, missing_permissions()):
                self.chat.note(help_text)
                QMessageBox.information(self.session_window, "Lifeline", help_text)
        try:
            self.local_input = self._open_local_input()
        except OSError as exc:
            log.warning("the take-back hotkey is not available: %s", exc)
        if self.local_input is not None:
            self.local_input.start(on_hotkey=self.run.take_back, on_activity=self.run.pause_input)

    def _ask(self, event: QuestionAsked) -> None:
        question = event.question
        prompt = PermissionPrompt(question, question.deadline - time.monotonic())
        prompt.answered.connect(self._answered)
        self.prompts[question.id] = prompt
        prompt.show()
        prompt.raise_()
        prompt.activateWindow()

    def _answered(self, question_id: int, allow: bool) -> None:
        self._retire(self.prompts.pop(question_id, None))
        self.run.answer(question_id, allow)

    def _retire(self, prompt: PermissionPrompt | None) -> None:
        """A prompt's window is deleted by Qt once its own signal handlers are done,
        never by Python's garbage collector in the middle of one."""
        if prompt is not None:
            prompt.dismiss()
            prompt.deleteLater()

    def _rights_changed(self, event: RightsChanged) -> None:
        technician = self.session_window.technician
        # Control includes the view: one note for both.
        keys = {type(c) for c in event.changes if c.action == Action.REMOTE_CONTROL}
        for change in event.changes:
            if change.action == Action.VIEW_SCREEN and type(change) in keys:
                self._track(change)
                continue
            self._track(change)
            if isinstance(change, Granted):
                note = self.tr("You allowed {technician} to {action}.")
            elif isinstance(change, Revoked):
                note = self.tr("{technician} can no longer {action}.")
            elif isinstance(change, Denied) and change.reason in ("person", "timeout"):
                note = self.tr("You did not allow {technician} to {action}.")
            else:
                continue
            if self.chat is not None:
                self.chat.note(
                    note.format(technician=technician, action=wording.wants(change.action))
                )
        self.session_window.set_granted([a for a in Action if a in self.granted])
        self.indicator.show_state(
            technician,
            viewing=Action.VIEW_SCREEN in self.granted,
            controlling=Action.REMOTE_CONTROL in self.granted,
        )

    def _track(self, change: Change) -> None:
        if isinstance(change, Granted):
            self.granted.add(change.action)
        elif isinstance(change, Revoked):
            self.granted.discard(change.action)

    def _ended(self, event: Ended) -> None:
        log.info("session ended: %s", event.message)
        self._running = False
        if self.local_input is not None:
            self.local_input.stop()
        self.run.join(10)
        for prompt in self.prompts.values():
            self._retire(prompt)
        self.prompts.clear()
        windows: list[QWidget | None] = [self.chat, self.indicator, self.code_window]
        for window in windows:
            if window is not None:
                window.hide()
        self.session_window.hide()
        if isinstance(event, InactivityEnded):
            # They may have walked away: the reason waits for them, then the applet goes.
            self.notice = QMessageBox(
                QMessageBox.Icon.Information, "Lifeline", wording.inactivity_notice(event.after)
            )
            self.notice.finished.connect(lambda _result: self._finish(0))
            self.notice.show()
            self.notice.raise_()
        else:
            self._finish(0)

    def close_windows(self) -> None:
        """Deletes every window now (before the application object goes)."""
        windows: list[QWidget | None] = [
            self.chat,
            self.indicator,
            self.code_window,
            self.session_window,
            self.notice,
            *self.prompts.values(),
        ]
        for window in windows:
            if window is not None:
                window.hide()
                window.deleteLater()
        self.prompts.clear()
        self.chat = None
        self.notice = None
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def _finish(self, status: int) -> None:
        self.finished.emit(status)
