"""The console program's wiring: the sign-in window, then the main window with the home
tab and one tab per customer. Every network object lives on the one
:class:`~console.loop_thread.LoopThread`; what it reports reaches the widgets through
queued signals, and the widgets' intents go back as calls on the loop."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from common.errors import LifelineError
from common.transport import BrokerClient, Login
from console.lobby import Lobby, LobbyEvent, SessionReady, SignedOut
from console.loop_thread import LoopThread
from console.recorder import default_folder
from console.settings import ConsoleSettings
from console.sign_in import Problem, SignInFailed, SignInForm, sign_in
from console.ui.home import HomePage
from console.ui.login_window import LoginWindow
from console.ui.main_window import ConsoleWindow
from console.ui.player import PlayerWindow
from console.ui.recording_settings import RecordingSettingsDialog
from console.ui.session_host import SessionHost

log = logging.getLogger("lifeline.console")
SHUTDOWN_TIMEOUT = 5.0


class ConsoleApp(QObject):
    _signed_in = Signal(object)  # the sign-in's concurrent future
    _lobby_event = Signal(object)
    #: A customer's tab was opened (for the demo and tests).
    session_opened = Signal(object)  # SessionHost

    def __init__(
        self,
        settings: ConsoleSettings,
        *,
        settings_path: Path | None = None,
        loop: LoopThread | None = None,
        recordings: Path | None = None,
    ) -> None:
        """``recordings``: the folder for session recordings, over the settings' (the
        demo's); by default the settings say, else Videos/Lifeline."""
        super().__init__()
        self.settings = settings
        self.recordings = recordings
        self.players: list[PlayerWindow] = []
        self.settings_path = settings_path
        self.loop = loop or LoopThread()
        self.login_window = LoginWindow(settings)
        self.window: ConsoleWindow | None = None
        self.home: HomePage | None = None
        self.lobby: Lobby | None = None
        self.client: BrokerClient | None = None
        self.login: Login | None = None
        self._stopped = False
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.login_window.submitted.connect(self.sign_in)
        self._signed_in.connect(self._on_signed_in, Qt.ConnectionType.QueuedConnection)
        self._lobby_event.connect(self._on_lobby_event, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        self.login_window.show()

    # ---- signing in and out --------------------------------------------------------

    def sign_in(self, form: SignInForm) -> None:
        self.login_window.set_busy(True)
        self.loop.submit(sign_in(form)).add_done_callback(self._signed_in.emit)
        self._form = form

    def _on_signed_in(self, future: concurrent.futures.Future[tuple[BrokerClient, Login]]) -> None:
        try:
            self.client, self.login = future.result()
        except SignInFailed as failed:
            self.login_window.show_failure(failed)
            return
        except Exception as exc:  # anything else still gets a message, not a hang
            log.exception("sign-in failed")
            self.login_window.show_failure(SignInFailed(Problem.OTHER, str(exc)))
            return
        self._remember(self._form)
        self.login_window.password.clear()
        self.login_window.set_busy(False)
        self.login_window.hide()
        self.home = HomePage(self.login.name)
        self.window = ConsoleWindow(f"{self.login.name} <{self.login.email}>", self.home)
        play = QPushButton(self.tr("Play a recording…"))
        play.clicked.connect(self.choose_recording)
        self.window.statusBar().addPermanentWidget(play)
        recordings = QPushButton(self.tr("Recordings…"))
        recordings.clicked.connect(self.edit_recording_settings)
        self.window.statusBar().addPermanentWidget(recordings)
        sign_out = QPushButton(self.tr("Sign out"))
        sign_out.clicked.connect(lambda: self.sign_out(""))
        self.window.statusBar().addPermanentWidget(sign_out)
        self.window.closing.connect(self.shutdown)
        self.home.new_session.connect(lambda: self.loop.call(self._lobby().new_session))
        self.home.withdraw.connect(lambda t: self.loop.submit(self._lobby().cancel(t)))
        self.home.pickup.connect(lambda sid: self.loop.call(self._lobby().pickup, sid))
        self.lobby = Lobby(self.client, self.login, self._lobby_event.emit)
        self.loop.call(self.lobby.start)
        self.window.show()

    def _lobby(self) -> Lobby:
        assert self.lobby is not None
        return self.lobby

    def recording_settings(self) -> ConsoleSettings:
        if self.recordings is None:
            return self.settings
        return dataclasses.replace(self.settings, recording_folder=str(self.recordings))

    def choose_recording(self) -> None:
        folder = self.settings.recording_folder_path() or default_folder()
        chosen, _ = QFileDialog.getOpenFileName(
            self.window, self.tr("Play a recording"), str(folder),
            self.tr("Lifeline recordings (*.rcrec)"),
        )  # fmt: skip
        if chosen:
            self.play_recording(Path(chosen))

    def play_recording(self, path: Path) -> PlayerWindow | None:
        """Opens a player window; a file that cannot be played is explained."""
        try:
            player = PlayerWindow(path, self.settings.read_recording_key())
        except (LifelineError, ValueError, OSError) as exc:
            QMessageBox.warning(self.window, self.tr("Play a recording"), str(exc))
            return None
        self.players.append(player)
        player.destroyed.connect(lambda: self.players.remove(player))
        player.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        player.show()
        return player

    def edit_recording_settings(self) -> None:
        dialog = RecordingSettingsDialog(self.settings, self.window)
        if dialog.exec() == RecordingSettingsDialog.DialogCode.Accepted:
            self._save_settings()

    def _save_settings(self) -> None:
        try:
            self.settings.save(self.settings_path)
        except OSError as exc:
            log.warning("could not save the console settings: %s", exc)

    def _remember(self, form: SignInForm) -> None:
        self.settings.broker_url = form.broker_url.strip()
        self.settings.email = form.email.strip()
        self.settings.ca_fingerprint = form.ca_fingerprint.strip()
        self._save_settings()

    def sign_out(self, message: str) -> None:
        """Ends every session, closes the main window and shows the sign-in again."""
        self.login_window.show()  # first: the main window must not be the last one
        if message:
            self.login_window.show_failure(SignInFailed(Problem.OTHER, message))
        self._close_everything()

    # ---- the lobby -----------------------------------------------------------------

    def _on_lobby_event(self, event: LobbyEvent) -> None:
        if self.window is None or self.home is None:
            return  # signed out meanwhile
        if isinstance(event, SessionReady):
            host = SessionHost(
                self.loop,
                event.session,
                event.customer,
                event.sas,
                technician=f"{self.login.name} <{self.login.email}>" if self.login else "",
                settings=self.recording_settings(),
            )
            self.window.add_session(host)
            self.session_opened.emit(host)
        elif isinstance(event, SignedOut):
            self.sign_out(event.message)
            return
        self.home.show_event(event)

    # ---- the end -------------------------------------------------------------------

    def _close_everything(self) -> None:
        window, self.window, self.home = self.window, None, None
        if window is not None:
            for host in window.hosts:
                self._wait(self.loop.submit(host.tech.end()))
                host.close()
            window.closing.disconnect(self.shutdown)
            window.close_without_asking()
            window.deleteLater()
        if self.lobby is not None:
            self._wait(self.loop.submit(self.lobby.close()))
            self.lobby = None
        if self.client is not None:
            self._wait(self.loop.submit(self.client.close()))
            self.client = None

    @staticmethod
    def _wait(future: concurrent.futures.Future[object]) -> None:
        try:
            future.result(SHUTDOWN_TIMEOUT)
        except Exception as exc:  # shutting down: say what failed, go on
            log.warning("while closing: %s", exc)

    def shutdown(self) -> None:
        """Ends every session, signs out and stops the event loop (once)."""
        if self._stopped:
            return
        self._stopped = True
        self._close_everything()
        self.login_window.close()
        self.loop.stop()
