"""One customer as the console sees it: rights, chat, the screen, input, without Qt.

The console's session tab shows what ``report`` is called with and calls the
technician's intents: :meth:`request`, :meth:`say`, :meth:`send_input`,
:meth:`request_sysinfo`, :meth:`share_clipboard`, :meth:`end`. Every session has its
own object, rights, chat log and decoder: nothing is shared between tabs.

Events reported (on the event loop's thread): :class:`~console.rights.RightChanged`,
:class:`ChatLine`, :class:`ScreenChanged`, :class:`CursorChanged`, :class:`SystemInfo`,
:class:`ClipboardText`, :class:`Refused`, the file manager's
:class:`~console.file_reports.RemoteFolder`, :class:`~console.file_reports.TransferStatus`
and :class:`~console.file_reports.FileProblem` and, last, :class:`~common.transport.Ended`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.codec.wire_format import CODEC_VERSION, Rect
from common.errors import LifelineError, ProtocolError
from common.protocol import Channel, MessageReceived
from common.protocol.messages import Field, Schema, SchemaRegistry
from common.recording import Kind, RecordingReader
from common.recording.export import export
from common.transport import Ended, PeerSession, PeerState
from console.file_reports import FileProblem, RemoteFolder, RemoteRoots, TransferStatus
from console.recorder import SessionRecorder
from console.remote_files import RemoteFiles
from console.rights import RightChanged, Rights, RightState
from console.screen_view import ScreenView

log = logging.getLogger("lifeline.console")

MAX_CHAT = 4000
MAX_CLIPBOARD = 200_000
MAX_NOTE = 4000
PING_INTERVAL = 2.0
MAX_MONITORS = 16
ALL_MONITORS = -1
APPLET_MESSAGES = SchemaRegistry(
    Schema("screen_update", {"monitor": Field(int), "data": Field(bytes, 4 << 20)}),
    Schema("cursor", {"x": Field(int), "y": Field(int)}),
    Schema(
        "cursor_shape",
        {
            "width": Field(int),
            "height": Field(int),
            "hot_x": Field(int),
            "hot_y": Field(int),
            "bgra": Field(bytes, 128 * 128 * 4),
        },
    ),
    Schema(
        "permission",
        {
            "action": Field(str, 32),
            "state": Field(str, 16),
            "reason": Field(str, 32, optional=True),
        },
    ),
    Schema("refused", {"what": Field(str, 40), "reason": Field(str, 400)}),
    Schema("chat", {"text": Field(str, MAX_CHAT)}),
    Schema("chat_delivered", {"id": Field(int)}),
    Schema("sysinfo", {"info": Field(dict)}),
    Schema("clipboard", {"text": Field(str, MAX_CLIPBOARD)}),
    Schema("monitors", {"list": Field(list, MAX_MONITORS + 1), "current": Field(int)}),
)
MONITOR_FIELDS = ("index", "left", "top", "width", "height")
CURSOR_SHAPE_FIELDS = ("width", "height", "hot_x", "hot_y", "bgra")


@dataclass(frozen=True)
class ChatLine:
    when: float
    #: "technician" or "customer".
    sender: str
    text: str
    #: The technician's lines are numbered; :class:`ChatDelivered` names the number.
    id: int = 0


@dataclass(frozen=True)
class ChatDelivered:
    """The customer's computer received the technician's line ``id``."""

    id: int


@dataclass(frozen=True)
class ScreenChanged:
    rects: tuple[Rect, ...]


@dataclass(frozen=True)
class CursorChanged:
    pass


@dataclass(frozen=True)
class SystemInfo:
    info: dict[str, Any]


@dataclass(frozen=True)
class ClipboardText:
    text: str


@dataclass(frozen=True)
class Monitor:
    """One of the customer's screens (index ``ALL_MONITORS``: all of them at once)."""

    index: int
    left: int
    top: int
    width: int
    height: int
    primary: bool


@dataclass(frozen=True)
class MonitorsChanged:
    monitors: tuple[Monitor, ...]
    current: int


@dataclass(frozen=True)
class RecordingChanged:
    """Recording started (``path``), stopped (None), or failed (``error``); ``saved``
    names the video once a recording made as AVI has been converted."""

    path: Path | None
    error: str = ""
    saved: Path | None = None


@dataclass(frozen=True)
class Refused:
    what: str
    reason: str


ConsoleEvent = (
    RightChanged | ChatLine | ChatDelivered | ScreenChanged | CursorChanged | SystemInfo
    | ClipboardText | MonitorsChanged | RecordingChanged | Refused | RemoteRoots | RemoteFolder
    | TransferStatus | FileProblem | PeerState | Ended
)  # fmt: skip


class TechnicianSession:
    def __init__(self, session: PeerSession, report: Callable[[ConsoleEvent], None]) -> None:
        self.session = session
        self.report = report
        self.rights = Rights()
        self.screen = ScreenView()
        self.chat: list[ChatLine] = []
        #: Input not sent because control was not granted (the applet would drop it).
        self.input_withheld = 0
        self._chat_ids = 0
        #: The customer's screens, as the applet last listed them.
        self.monitors: tuple[Monitor, ...] = ()
        self._monitors_message: dict[str, Any] | None = None
        self._shown_monitor = 0
        self.recorder: SessionRecorder | None = None
        self._as_avi = False
        self._recording_key: bytes | None = None
        self._converting: asyncio.Future[Path] | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        #: The file manager: browsing and transfers (on the FILE channel).
        self.files = RemoteFiles(
            lambda message: self.session.send(Channel.FILE, message),
            lambda: self.session.wait_writable(Channel.FILE),
            report,
            self._log,
        )
        self._stopping_files: asyncio.Task[None] | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._receive())
        self._pinger = loop.create_task(self._ping_now_and_then())

    async def _ping_now_and_then(self) -> None:
        """Keeps :attr:`PeerSession.rtt` fresh for the latency shown in the tab."""
        while self.session.ended is None:
            with contextlib.suppress(LifelineError):
                self.session.ping()
            await asyncio.sleep(PING_INTERVAL)

    # ---- the technician's intents --------------------------------------------------

    def request(self, action: str) -> None:
        change = self.rights.asking(action)
        if change is not None:
            self.session.send(Channel.CONTROL, {"t": "request", "action": action})
            self._right_changed(change)

    def say(self, text: str) -> None:
        text = text[:MAX_CHAT]
        self._chat_ids += 1
        self.session.send(Channel.CHAT, {"t": "chat", "text": text, "id": self._chat_ids})
        self._chat("technician", text, self._chat_ids)

    def save_note(self, text: str) -> None:
        """The technician's notes on this session, kept in the broker's session log."""
        text = text.strip()[:MAX_NOTE]
        if text:
            self._log("note", text=text)

    def send_input(self, message: dict[str, Any]) -> bool:
        """Sends one ``input`` message (without ``t``) while control is granted;
        returns False, sending nothing, otherwise."""
        if not self.rights.granted("remote_control"):
            self.input_withheld += 1
            return False
        self.session.send(Channel.CONTROL, {"t": "input", **message})
        self.files.pace.input()
        return True

    def select_monitor(self, index: int) -> None:
        """Shows the customer's screen ``index`` (``ALL_MONITORS``: all of them)."""
        if self.rights.granted("view_screen") and any(m.index == index for m in self.monitors):
            self.session.send(Channel.CONTROL, {"t": "screen_select", "monitor": index})

    @property
    def permissions(self) -> set[str]:
        """The technician's group permissions, from the broker's signed policy."""
        return set((self.session.policy or {}).get("permissions", []))

    @property
    def forced_recording(self) -> bool:
        """The group records every session: recording starts with the view and the
        technician cannot stop it."""
        return "forced_recording" in self.permissions

    @property
    def may_record(self) -> bool:
        return self.forced_recording or "record_sessions" in self.permissions

    def start_recording(
        self, path: Path, meta: dict[str, Any], key: bytes | None = None, *, as_avi: bool = False
    ) -> None:
        """Records from now on to ``path`` (a new file); the applet is asked for a full
        picture so the recording starts clean. ``as_avi``: when the recording stops it
        is converted to an AVI beside it and the RCREC removed (converting while the
        session runs would cost the viewer CPU). Call on the session's loop."""
        self._as_avi, self._recording_key = as_avi, key
        if self.recorder is not None:
            return
        if not self.may_record:
            self.report(RecordingChanged(None, "Your group does not allow recording sessions."))
            return
        loop = asyncio.get_running_loop()

        def failed(why: str) -> None:  # on the recorder's thread
            loop.call_soon_threadsafe(self._recording_failed, why)

        try:
            recorder = SessionRecorder(
                path,
                {"codec": {"name": "lifeline-screen", "version": CODEC_VERSION},
                 "recorder": "Lifeline console", **meta},
                key=key,
                on_failure=failed,
            )  # fmt: skip
        except OSError as exc:
            self.report(RecordingChanged(None, f"The recording could not start: {exc.strerror}."))
            return
        self.recorder = recorder
        # What a player needs before the next picture: the screens and the cursor now.
        if self._monitors_message is not None:
            recorder.write(Kind.MONITORS, self._monitors_message)
        cursor = self.screen.cursor
        if cursor.width and cursor.height:
            recorder.write(Kind.CURSOR_SHAPE, {
                "width": cursor.width, "height": cursor.height, "hot_x": cursor.hot_x,
                "hot_y": cursor.hot_y, "bgra": cursor.image.tobytes()})  # fmt: skip
        if cursor.x >= 0:
            recorder.write(Kind.CURSOR, {"x": cursor.x, "y": cursor.y})
        with contextlib.suppress(LifelineError):
            self.session.send(
                Channel.CONTROL, {"t": "screen_keyframe", "monitor": self._shown_monitor}
            )
        self._log("recording_start", file=path.name)
        self.report(RecordingChanged(path))

    async def stop_recording(self, reason: str = "stopped by the technician") -> None:
        """Stops recording, unless the group records every session and the screen is
        still seen (then nothing changes and the tab is told why)."""
        if self.recorder is not None and self.forced_recording and self._recording_required():
            self.report(
                RecordingChanged(
                    self.recorder.path,
                    "Your group records every session: the recording cannot be stopped.",
                )
            )
            return
        await self._end_recording(reason)

    def _recording_required(self) -> bool:
        return self.session.ended is None and self.rights.granted("view_screen")

    async def _end_recording(self, reason: str) -> None:
        recorder = self.recorder
        if recorder is None:
            return
        self._log("recording_stop", reason=reason)  # the file's last event, and the log's
        self.recorder = None
        await asyncio.to_thread(recorder.close, reason)
        self.report(RecordingChanged(None, recorder.failed or ""))
        if self._as_avi:
            # In the background: the tab is told when the video is there.
            loop = asyncio.get_running_loop()
            self._converting = loop.run_in_executor(
                None, to_avi, recorder.path, self._recording_key
            )
            self._converting.add_done_callback(self._converted)

    def _converted(self, done: asyncio.Future[Path]) -> None:
        try:
            self.report(RecordingChanged(None, saved=done.result()))
        except Exception as exc:  # the RCREC stays: it can be converted later
            self.report(RecordingChanged(None, f"The recording could not be made an AVI: {exc}"))

    def _recording_failed(self, why: str) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            self.session.log_event("recording_stop", reason=why)
            asyncio.get_running_loop().run_in_executor(None, recorder.close, why)
            self.report(RecordingChanged(None, why))

    def _log(self, kind: str, **detail: Any) -> None:
        """The broker's session log, and the recording's event markers."""
        self.session.log_event(kind, **detail)
        if self.recorder is not None:
            self.recorder.event(kind, **detail)

    def request_sysinfo(self) -> None:
        if self.rights.granted("system_info"):
            self.session.send(Channel.CONTROL, {"t": "sysinfo_request"})

    def share_clipboard(self, text: str) -> bool:
        if not self.rights.granted("clipboard_sync") or len(text) > MAX_CLIPBOARD:
            return False
        self.session.send(Channel.CONTROL, {"t": "clipboard", "text": text})
        return True

    async def end(self) -> None:
        await self.session.end()

    async def close(self) -> None:
        # Downloads keep what they verified: the same download started again resumes.
        await self.files.stop("The console closed.", keep_partial=True)
        await self._end_recording("the console closed")
        for task in (self._task, self._pinger):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.screen.close()

    # ---- what the applet sends -----------------------------------------------------

    async def _receive(self) -> None:
        while True:
            event = await self.session.next_event()
            if isinstance(event, Ended):
                await self.files.stop("The session ended.", keep_partial=True)
                await self._end_recording("the session ended")
                for change in self.rights.end():
                    self._right_changed(change, log=False)
                self.report(event)
                return
            if isinstance(event, PeerState):
                self.report(event)  # the link dropped or came back, ours or theirs
            elif isinstance(event, MessageReceived):
                try:
                    await self._on_message(event.channel, event.message)
                except ProtocolError as exc:
                    # A misbehaving applet: its message is ignored, the session goes on.
                    log.warning("ignored an applet message: %s", exc)
                except LifelineError as exc:
                    log.info("could not act on an applet message: %s", exc)
                except Exception:
                    # A fault in one handler must not deafen the console to the rest
                    # of the session (chat, rights, the end); it is logged whole.
                    log.exception("could not handle an applet message")

    async def _on_message(self, channel: Channel, message: dict[str, Any]) -> None:
        if channel == Channel.FILE:
            await self.files.handle(message)
            return
        message = APPLET_MESSAGES.check(message)
        t = message["t"]
        if t == "screen_update" and channel == Channel.VIDEO:
            self._shown_monitor = message["monitor"]
            if self.recorder is not None:  # exactly as received, before decoding
                self.recorder.screen_update(message["monitor"], message["data"])
            rects = await self.screen.update(message["data"])
            if rects is not None:
                self.report(ScreenChanged(tuple(rects)))
            if self.screen.needs_keyframe_request:
                self.session.send(
                    Channel.CONTROL, {"t": "screen_keyframe", "monitor": message["monitor"]}
                )
        elif t == "cursor" and channel == Channel.VIDEO:
            self.screen.cursor_moved(message["x"], message["y"])
            if self.recorder is not None:
                self.recorder.write(Kind.CURSOR, {"x": message["x"], "y": message["y"]})
            self.report(CursorChanged())
        elif t == "cursor_shape" and channel == Channel.VIDEO:
            self.screen.cursor_shape(message)
            if self.recorder is not None:
                self.recorder.write(Kind.CURSOR_SHAPE, {k: message[k] for k in CURSOR_SHAPE_FIELDS})
            self.report(CursorChanged())
        elif t == "permission" and channel == Channel.CONTROL:
            change = self.rights.answered(
                message["action"], message["state"], message.get("reason") or ""
            )
            if change is not None:
                self._right_changed(change)
        elif t == "chat" and channel == Channel.CHAT:
            self._chat("customer", message["text"])
        elif t == "chat_delivered" and channel == Channel.CHAT:
            if 0 < message["id"] <= self._chat_ids:
                self.report(ChatDelivered(message["id"]))
        elif t == "sysinfo" and channel == Channel.CONTROL:
            self.report(SystemInfo(message["info"]))
        elif t == "clipboard" and channel == Channel.CONTROL:
            if self.rights.granted("clipboard_sync"):
                self.report(ClipboardText(message["text"]))
        elif t == "monitors" and channel == Channel.CONTROL:
            monitors, current = parse_monitors(message["list"]), message["current"]
            if not any(m.index == current for m in monitors):
                raise ProtocolError("The current screen is not among the screens listed.")
            self.monitors = monitors
            self._monitors_message = {"list": message["list"], "current": current}
            if self.recorder is not None:
                self.recorder.write(Kind.MONITORS, self._monitors_message)
            self.report(MonitorsChanged(monitors, current))
        elif t == "refused" and channel == Channel.CONTROL:
            self.report(Refused(message["what"], message["reason"]))
        else:
            raise ProtocolError(f"{t!r} is not expected on the {channel.name} channel.")

    def _chat(self, sender: str, text: str, id: int = 0) -> None:
        line = ChatLine(time.time(), sender, text, id)
        self.chat.append(line)
        self._log("chat", by=sender, text=text)
        self.report(line)

    def _right_changed(self, change: RightChanged, *, log: bool = True) -> None:
        """Shows a right's new state and reports it to the broker's session log; the
        broker records the session's end itself."""
        if log:
            state = "asked" if change.state == RightState.PENDING else str(change.state)
            detail = {"action": change.action, "state": state}
            self._log(
                "permission", **detail, **({"reason": change.reason} if change.reason else {})
            )
            if change.action == "remote_control":
                if change.state == RightState.GRANTED:
                    self._log("control_start")
                elif change.state == RightState.REVOKED:
                    self._log("control_end", reason="revoked")
        if change.action == "file_manager" and change.state == RightState.REVOKED:
            # Transfers stop at once here too; their partial files go.
            self._stopping_files = asyncio.get_running_loop().create_task(
                self.files.stop("The customer stopped file transfers.", keep_partial=False)
            )
        viewing = self.rights.granted("view_screen")
        if change.action == "view_screen" and not viewing and self.recorder is not None:
            # Nothing more to record.
            self._stopping = asyncio.get_running_loop().create_task(
                self._end_recording("the customer took the view back")
            )
        self.report(change)


def parse_monitors(items: list[Any]) -> tuple[Monitor, ...]:
    """The applet's list of screens; anything malformed refuses the whole list."""
    monitors = []
    for item in items:
        if not isinstance(item, dict):
            raise ProtocolError("A screen in the list is not described.")
        values = [item.get(name) for name in MONITOR_FIELDS]
        numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        if len(numbers) != len(MONITOR_FIELDS):
            raise ProtocolError("A screen in the list has a wrong position or size.")
        index, left, top, width, height = numbers
        if not (
            ALL_MONITORS <= index < MAX_MONITORS and 0 < width <= 32768 and 0 < height <= 32768
        ):
            raise ProtocolError("A screen in the list has an impossible size.")
        monitors.append(Monitor(index, left, top, width, height, item.get("primary") is True))
    if len({m.index for m in monitors}) != len(monitors):
        raise ProtocolError("Two screens in the list have the same number.")
    return tuple(monitors)


def to_avi(path: Path, key: bytes | None) -> Path:
    """Converts a finished recording to an AVI beside it and removes the RCREC."""
    video = path.with_suffix(".avi")
    partial = path.with_name(f".{video.name}.converting.avi")
    try:
        with path.open("rb") as file:
            export(RecordingReader(file, key), partial)
        partial.replace(video)
    finally:
        partial.unlink(missing_ok=True)
    path.unlink()
    return video
