"""The hub's live state: one :class:`Link` per WebSocket, one :class:`LiveSession` per
session a link is part of, and the customer details an applet may give."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from broker.records import SessionRow, Technician
from common.protocol.broker_messages import control_frame

ROLES = ("console", "applet")
#: Customer details an applet may give (name, host, …): few and short, so that a
#: queue listing of hub.MAX_QUEUE_ENTRIES always fits in one control message.
MAX_CUSTOMER_FIELDS = 4
MAX_CUSTOMER_TEXT = 128


@dataclass(eq=False)
class Link:
    ws: web.WebSocketResponse
    ip: str
    transport: asyncio.Transport | None = None
    role: str | None = None
    technician: Technician | None = None
    session: LiveSession | None = None
    #: Set while a relay send to this link is blocked; the sweeper closes slow links.
    blocked_since: float | None = None
    in_lobby: bool = False
    pending_challenge: tuple[LiveSession, str, bytes] | None = None
    replaced: bool = False
    #: A console's sign-in token: kept fresh while the console works in a session.
    token: str | None = None

    async def send(self, message: dict[str, Any]) -> None:
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_bytes(control_frame(message))


@dataclass(eq=False)
class LiveSession:
    row: SessionRow
    links: dict[str, Link | None] = field(default_factory=lambda: dict.fromkeys(ROLES))
    timer: asyncio.TimerHandle | None = None
    #: Session events stored so far (bounded by MAX_EVENTS_PER_SESSION).
    events: int = 0

    @property
    def session_id(self) -> str:
        return self.row.session_id

    @property
    def paired(self) -> bool:
        return self.row.state == "paired"

    def other(self, role: str) -> Link | None:
        return self.links["applet" if role == "console" else "console"]


def _clip(text: str, max_bytes: int) -> str:
    """At most ``max_bytes`` of UTF-8, cut on a character boundary."""
    return text.encode()[:max_bytes].decode(errors="ignore")


def customer_details(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    fields = [
        (k, v) for k, v in raw.items() if isinstance(k, str) and isinstance(v, str | int | float)
    ]
    return {_clip(k, 32): _clip(str(v), MAX_CUSTOMER_TEXT) for k, v in fields[:MAX_CUSTOMER_FIELDS]}
