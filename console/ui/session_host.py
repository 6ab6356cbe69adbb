"""Connects one :class:`~console.ui.session_tab.SessionTab` to its
:class:`~console.technician_session.TechnicianSession` across the two threads: events
cross to the window thread through one queued signal, intents go to the loop thread."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from common.transport import PeerSession
from console.loop_thread import LoopThread
from console.recorder import default_folder, file_name
from console.remote_folders import download_folder, upload_folder
from console.rights import RightChanged, RightState
from console.settings import ConsoleSettings
from console.technician_session import ConsoleEvent, RecordingChanged, TechnicianSession
from console.ui.session_tab import SessionTab, StatsTicker


class SessionHost(QObject):
    _reported = Signal(object)

    def __init__(
        self,
        loop: LoopThread,
        session: PeerSession,
        customer: str,
        sas: str,
        *,
        technician: str = "",
        settings: ConsoleSettings | None = None,
    ) -> None:
        super().__init__()
        self.loop = loop
        self.technician = technician
        #: Where, how and with which key recordings are made.
        self.settings = settings or ConsoleSettings()
        self.tech = TechnicianSession(session, self._reported.emit)
        self.tab = SessionTab(customer, sas, self.tech.screen)
        self.stats = StatsTicker(self.tab, self.tech.screen, lambda: session.rtt)
        self.tab.set_recording_policy(self.tech.may_record, self.tech.forced_recording)
        self._connect_signals()
        loop.call(self.tech.start)

    def _connect_signals(self) -> None:
        self._reported.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.tab.request_right.connect(lambda a: self.loop.call(self.tech.request, a))
        self.tab.say.connect(lambda text: self.loop.call(self.tech.say, text))
        self.tab.input_event.connect(lambda m: self.loop.call(self.tech.send_input, m))
        self.tab.request_sysinfo.connect(lambda: self.loop.call(self.tech.request_sysinfo))
        self.tab.share_clipboard.connect(lambda t: self.loop.call(self.tech.share_clipboard, t))
        self.tab.save_note.connect(lambda text: self.loop.call(self.tech.save_note, text))
        self.tab.recording_toggled.connect(self._record)
        self.tab.select_monitor.connect(lambda i: self.loop.call(self.tech.select_monitor, i))
        self.tab.end_requested.connect(lambda: self.loop.submit(self.tech.end()))
        files, remote = self.tab.files, self.tech.files
        files.browse.connect(lambda root, path: self.loop.submit(remote.browse(root, path)))
        files.download.connect(self._download)
        files.upload.connect(self._upload)
        files.make_folder.connect(lambda r, p, n: self.loop.submit(remote.make_folder(r, p, n)))
        files.rename.connect(lambda r, p, n, to: self.loop.submit(remote.rename(r, p, n, to)))
        files.delete.connect(lambda r, p, n: self.loop.submit(remote.delete(r, p, n)))
        files.cancel.connect(lambda number: self.loop.call(remote.cancel, number))
        files.retry.connect(lambda number: self.loop.call(remote.retry, number))

    def _download(self, root: str, path: list[str], kind: str, size: int, folder: str) -> None:
        remote = self.tech.files
        if kind == "folder":
            self.loop.submit(download_folder(remote, root, path, Path(folder)))
        else:
            self.loop.call(partial(remote.download, root, path, Path(folder), size=size))

    def _upload(self, paths: list[str], root: str, path: list[str]) -> None:
        remote = self.tech.files
        for local in map(Path, paths):
            if local.is_dir():
                self.loop.submit(upload_folder(remote, local, root, path))
            else:
                self.loop.call(remote.upload, local, root, path)

    def _record(self, on: bool) -> None:
        if on:
            try:
                key = self.settings.read_recording_key()
            except ValueError as exc:
                self.tab.show_event(RecordingChanged(None, str(exc)))
                return
            folder = self.settings.recording_folder_path() or default_folder()
            name = self.technician.split(" <")[0]  # "Ann <ann@…>": the name reads best
            path = folder / file_name(name, self.tab.customer)
            meta = {"technician": self.technician, "customer": {"name": self.tab.customer}}
            as_avi = self.settings.recording_format == "avi"
            self.loop.call(partial(self.tech.start_recording, path, meta, key, as_avi=as_avi))
        else:
            self.loop.submit(self.tech.stop_recording())

    def _show(self, event: ConsoleEvent) -> None:
        self.tab.show_event(event)
        if (
            isinstance(event, RightChanged)
            and event.action == "view_screen"
            and event.state == RightState.GRANTED
            and self.tech.forced_recording
        ):
            self._record(True)  # the group records every session, from the first picture
        if (
            isinstance(event, RightChanged)
            and event.action == "file_manager"
            and event.state == RightState.GRANTED
        ):
            self.loop.submit(self.tech.files.open())  # the customer's home folder

    def close(self) -> None:
        self.loop.submit(self.tech.close()).result(10)
