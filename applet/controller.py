"""The applet's side of a session, without Qt: console requests in, questions out.

The Qt shell shows what :attr:`AppletController.events` reports (questions, rights that
changed, chat, the end) and calls the person's intents: :meth:`answer`,
:meth:`revoke`, :meth:`say`, :meth:`end`. Everything the console asks goes through
:class:`~applet.consent.Consent` first.

Messages (docs/protocol.md, "Application messages"):
    console → applet, CONTROL: {"t": "request", "action": str}
                               {"t": "screen_keyframe", "monitor": int}
                               {"t": "screen_select", "monitor": int}   (-1: all of them)
                               {"t": "input", "kind": "move"|"button"|"scroll"|"text"|"key", …}
                               {"t": "sysinfo_request"}
    applet → console, CONTROL: {"t": "permission", "action": str, "state": str, "reason": str}
                               {"t": "refused", "what": str, "reason": str}
                               {"t": "sysinfo", "info": {...}}
                               {"t": "monitors", "list": [{...}], "current": int}
    both ways, CHAT:           {"t": "chat", "text": str}
    both ways, CONTROL:        {"t": "clipboard", "text": str}   (while clipboard_sync)

Inactivity: the session ends by itself (every right revoked, the technician gets the
usual end, the window an :class:`InactivityEnded`) after :attr:`inactivity_timeout`
seconds without *activity*: a console message the applet accepts (chat, a request,
input even if dropped, a keyframe request, system information, clipboard), a screen
update actually sent while the screen is viewed, or the person acting in the applet
(answering, revoking, chatting, sharing the clipboard). Pings and refused messages do
not count, and neither does the person using their computer on their own: that says
nothing about whether anyone is still helping them (while the screen is viewed, their
work shows as screen updates anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from applet import sysinfo
from applet.capture import Capturer, Monitor, all_monitors
from applet.consent import Action, Change, Consent, Denied, Granted, Question, Revoked
from applet.cursor import CursorSource
from applet.cursor_service import CursorStreamer
from applet.file_service import FileService, TransferRecord
from applet.injector import Injector
from applet.screen_service import DamageWatch, ScreenStreamer
from common.errors import LifelineError, ProtocolError
from common.protocol import Channel, MessageReceived
from common.protocol.messages import Field, Schema, SchemaRegistry
from common.transport import Ended, PeerSession

log = logging.getLogger("lifeline.applet")

#: Without activity for this long (seconds), the session ends by itself.
DEFAULT_INACTIVITY_TIMEOUT = 15 * 60.0
MAX_CHAT = 4000
MAX_INPUT_TEXT = 256
#: Clipboard text, in characters (at most 4 bytes each once encoded: under one record).
MAX_CLIPBOARD = 200_000
CONSOLE_MESSAGES = SchemaRegistry(
    Schema("request", {"action": Field(str, 32)}),
    Schema(
        "input",
        {
            "kind": Field(str, 16),
            "x": Field(int, optional=True),
            "y": Field(int, optional=True),
            "button": Field(str, 16, optional=True),
            "down": Field(bool, optional=True),
            "steps": Field(int, optional=True),
            "text": Field(str, MAX_INPUT_TEXT, optional=True),
            "key": Field(str, 32, optional=True),
        },
    ),
    Schema("screen_keyframe", {"monitor": Field(int)}),
    Schema("screen_select", {"monitor": Field(int)}),
    Schema("sysinfo_request", {}),
    Schema("chat", {"text": Field(str, MAX_CHAT)}),
    Schema("clipboard", {"text": Field(str, MAX_CLIPBOARD)}),
)


@dataclass(frozen=True)
class QuestionAsked:
    question: Question


@dataclass(frozen=True)
class QuestionClosed:
    question_id: int


@dataclass(frozen=True)
class RightsChanged:
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class ChatReceived:
    text: str


@dataclass(frozen=True)
class ClipboardReceived:
    """The technician copied ``text``: the window puts it on this computer's clipboard."""

    text: str


@dataclass(frozen=True)
class FileTransferred:
    """A file went to the technician or came from them; the person is told."""

    record: TransferRecord


@dataclass(frozen=True)
class InactivityEnded(Ended):
    """The session ended by itself after ``after`` seconds without activity."""

    after: float


def policy_inactivity_timeout(policy: dict[str, Any], default: float) -> float:
    """The signed policy's ``inactivity_timeout`` (seconds, positive) when it carries
    one, else ``default``."""
    value = policy.get("inactivity_timeout")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        log.warning("ignored the policy's inactivity_timeout %r", value)
        return default
    return float(value)


class _WatchedLink:
    """The session as the screen streamer sees it, noting each update it sends."""

    def __init__(self, session: PeerSession, on_update: Callable[[], None]) -> None:
        self._session = session
        self._on_update = on_update

    def send(self, channel: Channel, message: dict[str, object]) -> None:
        self._session.send(channel, message)
        self._on_update()

    def writable(self, channel: Channel) -> bool:
        return self._session.writable(channel)

    async def wait_writable(self, channel: Channel) -> None:
        await self._session.wait_writable(channel)


UiEvent = (
    QuestionAsked | QuestionClosed | RightsChanged | ChatReceived | ClipboardReceived
    | FileTransferred | Ended
)  # fmt: skip


class AppletController:
    def __init__(
        self,
        session: PeerSession,
        capturer: Capturer,
        injector: Injector | None = None,
        cursor: CursorSource | None = None,
        damage: DamageWatch | None = None,
        *,
        inactivity_timeout: float = DEFAULT_INACTIVITY_TIMEOUT,
    ) -> None:
        """``inactivity_timeout`` applies unless the signed policy sets its own."""
        policy = session.policy or {}
        technician = str(policy.get("technician", {}).get("name") or "Your technician")
        self.session = session
        self.consent = Consent(technician, set(policy.get("permissions", [])))
        self.files = FileService(
            session,
            self.consent,
            set(policy.get("permissions", [])),
            on_transfer=lambda record: self.events.put_nowait(FileTransferred(record)),
        )
        monitors = capturer.monitors()
        if not monitors:
            raise LifelineError("No screen was found to share.")
        #: What the console may pick from: each monitor, primary first, then all of
        #: them at once (index ALL_MONITORS) when there are several.
        self.monitors = sorted(monitors, key=lambda m: not m.primary)
        if len(monitors) > 1:
            self.monitors.append(all_monitors(monitors))
        self.monitor = self.monitors[0]
        self.inactivity_timeout = policy_inactivity_timeout(policy, inactivity_timeout)
        #: When something last happened (time.monotonic()); see the module's docstring.
        self.last_activity = time.monotonic()
        self._ending: Ended | None = None
        self.streamer = ScreenStreamer(
            _WatchedLink(session, self._active),
            capturer,
            self.monitor,
            on_failure=self._streaming_failed,
            damage=damage,
        )
        self.cursor = CursorStreamer(session, cursor, self.monitor) if cursor else None
        self.injector = injector
        #: Input events dropped because control was not granted or a prompt showed.
        self.input_dropped = 0
        #: The person is using their own mouse or keyboard: remote input waits.
        self.input_paused = False
        self.events: asyncio.Queue[UiEvent] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.last_activity = time.monotonic()
        self._tasks = [
            loop.create_task(self._receive()),
            loop.create_task(self._expire()),
            loop.create_task(self._end_when_idle()),
        ]

    # ---- the person's intents ------------------------------------------------------

    async def answer(self, question_id: int, allow: bool) -> None:
        self._active()
        await self._apply(self.consent.answer(question_id, allow, time.monotonic()))
        self.events.put_nowait(QuestionClosed(question_id))

    async def revoke(self, action: Action) -> None:
        self._active()
        await self._apply(self.consent.revoke(action))

    def say(self, text: str) -> None:
        self._active()
        self.session.send(Channel.CHAT, {"t": "chat", "text": text[:MAX_CHAT]})

    def share_clipboard(self, text: str) -> None:
        """The person copied ``text``; it goes to the technician only while clipboard
        sharing is granted, and only if it fits in one message."""
        if self.consent.granted(Action.CLIPBOARD_SYNC) and len(text) <= MAX_CLIPBOARD:
            self._active()
            self.session.send(Channel.CONTROL, {"t": "clipboard", "text": text})

    def pause_input(self, paused: bool) -> None:
        """Local activity detected (or over): remote input waits while it lasts."""
        self.input_paused = paused
        if paused and self.injector is not None:
            self.injector.release_all()

    async def end(self) -> None:
        """Ends the session: every right goes first, then the link. The window learns
        of the end like any other (an ``Ended`` event); call :meth:`stop` after."""
        await self._apply(self.consent.revoke_all())
        await self._stop_screen()
        await self.files.stop()
        if self.injector is not None:
            self.injector.release_all()
        await self.session.end()

    async def stop(self) -> None:
        await self._stop_screen()
        if self.injector is not None:
            self.injector.release_all()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---- the console's requests ----------------------------------------------------

    async def _receive(self) -> None:
        while True:
            event = await self.session.next_event()
            if isinstance(event, Ended):
                try:
                    await self._apply(self.consent.revoke_all())
                    await self._stop_screen()
                    await self.files.stop()
                finally:
                    # The window must always learn of it, and of why when we ended it.
                    self.events.put_nowait(self._ending or event)
                return
            if isinstance(event, MessageReceived):
                try:
                    await self._on_message(event.channel, event.message)
                    self._active()  # accepted: the technician is there
                except ProtocolError as exc:
                    # A misbehaving console is told why, and nothing changes.
                    log.warning("refused a console message: %s", exc)
                    what = str(event.message.get("t", ""))[:40]
                    with contextlib.suppress(LifelineError):
                        self.session.send(
                            Channel.CONTROL, {"t": "refused", "what": what, "reason": str(exc)}
                        )
                except Exception:
                    # Whatever failed (the session ending mid-reply, the X server), the
                    # applet keeps serving: the person must always be able to end it.
                    log.exception("could not handle a console message")

    async def _on_message(self, channel: Channel, message: dict[str, Any]) -> None:
        if channel == Channel.FILE:
            await self.files.handle(message)
            return
        message = CONSOLE_MESSAGES.check(message)
        t = message["t"]
        if t == "chat" and channel == Channel.CHAT:
            self.events.put_nowait(ChatReceived(message["text"]))
        elif t == "request" and channel == Channel.CONTROL:
            try:
                action = Action(message["action"])
            except ValueError:
                raise ProtocolError(f"Unknown action {message['action']!r}.") from None
            outcome = self.consent.request(action, time.monotonic())
            if isinstance(outcome, Question):
                if self.injector is not None:
                    self.injector.release_all()  # input stops while the person decides
                self.events.put_nowait(QuestionAsked(outcome))
            elif outcome is not None:
                await self._apply([outcome])
        elif t == "input" and channel == Channel.CONTROL:
            self._inject(message)
        elif t == "sysinfo_request" and channel == Channel.CONTROL:
            if not self.consent.granted(Action.SYSTEM_INFO):
                raise ProtocolError("System information has not been allowed.")
            info = await asyncio.to_thread(sysinfo.collect)
            self.session.send(Channel.CONTROL, {"t": "sysinfo", "info": info})
        elif t == "clipboard" and channel == Channel.CONTROL:
            if not self.consent.granted(Action.CLIPBOARD_SYNC):
                raise ProtocolError("Clipboard sharing has not been allowed.")
            self.events.put_nowait(ClipboardReceived(message["text"]))
        elif t == "screen_select" and channel == Channel.CONTROL:
            if not self.consent.granted(Action.VIEW_SCREEN):
                raise ProtocolError("Seeing the screen has not been allowed.")
            chosen = next((m for m in self.monitors if m.index == message["monitor"]), None)
            if chosen is None:
                raise ProtocolError("There is no such screen.")
            await self._show_monitor(chosen)
        elif t == "screen_keyframe" and channel == Channel.CONTROL:
            if self.consent.granted(Action.VIEW_SCREEN):
                self.streamer.request_keyframe()
        else:
            raise ProtocolError(f"{t!r} is not expected on the {channel.name} channel.")

    async def _expire(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            closed, changes = self.consent.expire(time.monotonic())
            for question_id in closed:
                self.events.put_nowait(QuestionClosed(question_id))
            await self._apply(changes)

    def _active(self) -> None:
        self.last_activity = time.monotonic()

    async def _end_when_idle(self) -> None:
        # Sleeps until the deadline, then again until the deadline it has moved to.
        while True:
            left = self.last_activity + self.inactivity_timeout - time.monotonic()
            if left <= 0:
                break
            await asyncio.sleep(left)
        log.info("ending the session: nothing happened for %.0f s", self.inactivity_timeout)
        minutes = max(1, round(self.inactivity_timeout / 60))
        self._ending = InactivityEnded(
            "inactive",
            f"The session ended after {minutes} min without activity.",
            self.inactivity_timeout,
        )
        try:
            await self.end()
        except Exception:
            # The link may be gone already: then its own end reaches the window.
            log.exception("could not end the idle session cleanly")

    def _inject(self, message: dict[str, Any]) -> None:
        """Remote input: only while control is granted, no question is on screen and
        the person is not using their own mouse or keyboard; anything else is dropped
        (and counted), never queued for later."""
        if self.injector is None or self.input_paused or not self.consent.input_allowed():
            self.input_dropped += 1
            log.info("dropped remote input: control is not granted right now")
            return
        kind, m = message["kind"], self.monitor
        if kind == "move":
            x, y = message.get("x"), message.get("y")
            if x is None or y is None or not (0 <= x < m.width and 0 <= y < m.height):
                raise ProtocolError("A pointer position is outside the shared screen.")
            self.injector.move(m.left + x, m.top + y)
        elif kind == "button":
            try:
                self.injector.button(str(message.get("button")), bool(message.get("down")))
            except ValueError as exc:
                raise ProtocolError(str(exc)) from None
        elif kind == "scroll":
            self.injector.scroll(int(message.get("steps") or 0))
        elif kind == "text":
            self.injector.type_text(str(message.get("text") or ""))
        elif kind == "key":
            try:
                self.injector.press_key(str(message.get("key") or ""), bool(message.get("down")))
            except ValueError as exc:
                raise ProtocolError(str(exc)) from None
        else:
            raise ProtocolError(f"Unknown input kind {kind[:16]!r}.")
        self.files.pace.input()  # transfers give way while the technician works

    async def _show_monitor(self, monitor: Monitor) -> None:
        """Streams ``monitor`` from now on: the stream restarts with its full picture,
        and input and the cursor follow it."""
        if monitor == self.monitor:
            self._send_monitors()
            return
        if self.injector is not None:
            self.injector.release_all()
        await self.streamer.stop()
        self.monitor = self.streamer.monitor = monitor
        if self.cursor is not None:
            self.cursor.monitor = monitor
        self._send_monitors()  # before the new picture
        self.streamer.start()

    def _send_monitors(self) -> None:
        listed = [
            {"index": m.index, "left": m.left, "top": m.top, "width": m.width,
             "height": m.height, "primary": m.primary}
            for m in self.monitors
        ]  # fmt: skip
        with contextlib.suppress(LifelineError):  # the session may be over already
            self.session.send(
                Channel.CONTROL, {"t": "monitors", "list": listed, "current": self.monitor.index}
            )

    async def _stop_screen(self) -> None:
        await self.streamer.stop()
        if self.cursor is not None:
            await self.cursor.stop()

    def _streaming_failed(self, exc: Exception) -> None:
        """Capture broke (a monitor went away, …): the view right goes, and both the
        person and the technician are told."""
        if self.consent.granted(Action.VIEW_SCREEN):
            asyncio.get_running_loop().create_task(
                self._apply(self.consent.revoke(Action.VIEW_SCREEN))
            )

    # ---- rights that changed -------------------------------------------------------

    async def _apply(self, changes: list[Change]) -> None:
        if not changes:
            return
        for change in changes:
            state = {Granted: "granted", Denied: "denied", Revoked: "revoked"}[type(change)]
            reply = {"t": "permission", "action": str(change.action), "state": state}
            if isinstance(change, Denied):
                reply["reason"] = change.reason
            with contextlib.suppress(LifelineError):  # the session may be over already
                self.session.send(Channel.CONTROL, reply)
        if self.injector is not None and not self.consent.input_allowed():
            self.injector.release_all()  # nothing stays pressed once control is gone
        if not self.consent.granted(Action.FILE_MANAGER):
            await self.files.stop()  # transfers in flight stop at once
        # Seeing the screen is the other right with running services behind it.
        if self.consent.granted(Action.VIEW_SCREEN):
            if any(c.action == Action.VIEW_SCREEN for c in changes if isinstance(c, Granted)):
                self._send_monitors()  # which screens there are, before the first picture
            self.streamer.start()
            if self.cursor is not None:
                self.cursor.start()
        else:
            await self._stop_screen()
        self.events.put_nowait(RightsChanged(tuple(changes)))
