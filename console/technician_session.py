"""One customer as the console sees it: rights, chat, the screen, input, without Qt.

The console's session tab shows what ``report`` is called with and calls the
technician's intents: :meth:`request`, :meth:`say`, :meth:`send_input`,
:meth:`request_sysinfo`, :meth:`share_clipboard`, :meth:`end`. Every session has its
own object, rights, chat log and decoder: nothing is shared between tabs.

Events reported (on the event loop's thread): :class:`~console.rights.RightChanged`,
:class:`ChatLine`, :class:`ScreenChanged`, :class:`CursorChanged`, :class:`SystemInfo`,
:class:`ClipboardText`, :class:`Refused` and, last, :class:`~common.transport.Ended`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.codec.wire_format import Rect
from common.errors import LifelineError, ProtocolError
from common.protocol import Channel, MessageReceived
from common.protocol.messages import Field, Schema, SchemaRegistry
from common.transport import Ended, PeerSession
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
class Refused:
    what: str
    reason: str


ConsoleEvent = (
    RightChanged | ChatLine | ChatDelivered | ScreenChanged | CursorChanged | SystemInfo
    | ClipboardText | MonitorsChanged | Refused | Ended
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
        self._task: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None

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
            self.session.log_event("note", text=text)

    def send_input(self, message: dict[str, Any]) -> bool:
        """Sends one ``input`` message (without ``t``) while control is granted;
        returns False, sending nothing, otherwise."""
        if not self.rights.granted("remote_control"):
            self.input_withheld += 1
            return False
        self.session.send(Channel.CONTROL, {"t": "input", **message})
        return True

    def select_monitor(self, index: int) -> None:
        """Shows the customer's screen ``index`` (``ALL_MONITORS``: all of them)."""
        if self.rights.granted("view_screen") and any(m.index == index for m in self.monitors):
            self.session.send(Channel.CONTROL, {"t": "screen_select", "monitor": index})

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
                for change in self.rights.end():
                    self._right_changed(change, log=False)
                self.report(event)
                return
            if isinstance(event, MessageReceived):
                try:
                    await self._on_message(event.channel, event.message)
                except ProtocolError as exc:
                    # A misbehaving applet: its message is ignored, the session goes on.
                    log.warning("ignored an applet message: %s", exc)
                except LifelineError as exc:
                    log.info("could not act on an applet message: %s", exc)

    async def _on_message(self, channel: Channel, message: dict[str, Any]) -> None:
        message = APPLET_MESSAGES.check(message)
        t = message["t"]
        if t == "screen_update" and channel == Channel.VIDEO:
            rects = await self.screen.update(message["data"])
            if rects is not None:
                self.report(ScreenChanged(tuple(rects)))
            if self.screen.needs_keyframe_request:
                self.session.send(
                    Channel.CONTROL, {"t": "screen_keyframe", "monitor": message["monitor"]}
                )
        elif t == "cursor" and channel == Channel.VIDEO:
            self.screen.cursor_moved(message["x"], message["y"])
            self.report(CursorChanged())
        elif t == "cursor_shape" and channel == Channel.VIDEO:
            self.screen.cursor_shape(message)
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
            self.report(MonitorsChanged(monitors, current))
        elif t == "refused" and channel == Channel.CONTROL:
            self.report(Refused(message["what"], message["reason"]))
        else:
            raise ProtocolError(f"{t!r} is not expected on the {channel.name} channel.")

    def _chat(self, sender: str, text: str, id: int = 0) -> None:
        line = ChatLine(time.time(), sender, text, id)
        self.chat.append(line)
        self.session.log_event("chat", by=sender, text=text)
        self.report(line)

    def _right_changed(self, change: RightChanged, *, log: bool = True) -> None:
        """Shows a right's new state and reports it to the broker's session log; the
        broker records the session's end itself."""
        if log:
            state = "asked" if change.state == RightState.PENDING else str(change.state)
            detail = {"action": change.action, "state": state}
            self.session.log_event(
                "permission", **detail, **({"reason": change.reason} if change.reason else {})
            )
            if change.action == "remote_control":
                if change.state == RightState.GRANTED:
                    self.session.log_event("control_start")
                elif change.state == RightState.REVOKED:
                    self.session.log_event("control_end", reason="revoked")
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
