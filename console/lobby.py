"""The technician's home, without Qt: new sessions with their codes, the queue of
waiting customers, and picking one up.

A :class:`Lobby` runs on the console's event loop. It keeps one lobby link to the broker
(``queue_list``, then a ``queue`` push after every change; reconnected if it drops) and
one :class:`~common.transport.PeerSession` per code or pickup in progress. What happens
is reported as events: :class:`QueueChanged`, :class:`CodeReady`, :class:`SessionReady`,
:class:`Abandoned` and :class:`SignedOut`. A session that is ready belongs to whoever
handles :class:`SessionReady` (the console opens a tab for it); the lobby forgets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from common.errors import AuthenticationError, LifelineError, ProtocolError, SessionEnded
from common.protocol.broker_messages import Frame, decode_broker
from common.transport import BrokerClient, ControlLink, Login, PeerSession

log = logging.getLogger("lifeline.console")

#: How long a technician waits for a customer to type a new code (the broker's default).
CODE_LIFETIME = 600.0
OPEN_TIMEOUT = 30.0
RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class QueueEntry:
    session_id: str
    customer: dict[str, str]
    #: "private" (asked for this technician) or "group".
    queue: str
    #: Unix time the customer started waiting (from the broker's waiting_seconds).
    since: float

    @property
    def who(self) -> str:
        name = self.customer.get("name") or "Customer"
        host = self.customer.get("host")
        return f"{name} ({host})" if host else name


@dataclass(frozen=True)
class QueueChanged:
    entries: tuple[QueueEntry, ...]


@dataclass(frozen=True)
class CodeReady:
    ticket: int
    #: As read to the customer: ``482-193-076``.
    code: str
    expires_at: float

    @property
    def download_name(self) -> str:
        """The applet's file name that carries this code (no typing for the customer)."""
        return "Lifeline-" + self.code.replace("-", "") + ".exe"


@dataclass(frozen=True)
class SessionReady:
    ticket: int
    session: PeerSession
    customer: str
    sas: str


@dataclass(frozen=True)
class Abandoned:
    """A code expired or was cancelled, or a pickup or handshake failed."""

    ticket: int
    message: str


@dataclass(frozen=True)
class SignedOut:
    message: str


LobbyEvent = QueueChanged | CodeReady | SessionReady | Abandoned | SignedOut


def customer_label(peer: dict[str, object]) -> str:
    name = str(peer.get("name") or "Customer")
    host = peer.get("host")
    return f"{name} ({host})" if host else name


def parse_queue(entries: list[object], now: float) -> tuple[QueueEntry, ...]:
    """The broker's ``queue`` entries; malformed ones are left out."""
    parsed = []
    for raw in entries:
        if not isinstance(raw, dict):
            continue
        session_id, customer = raw.get("session_id"), raw.get("customer")
        waiting, queue = raw.get("waiting_seconds"), raw.get("queue")
        if not (
            isinstance(session_id, str)
            and isinstance(customer, dict)
            and isinstance(waiting, int | float)
            and queue in ("private", "group")
        ):
            continue
        fields = {str(k): str(v) for k, v in customer.items() if isinstance(v, str | int | float)}
        parsed.append(QueueEntry(session_id, fields, str(queue), now - max(float(waiting), 0.0)))
    return tuple(parsed)


class Lobby:
    def __init__(
        self, client: BrokerClient, login: Login, report: Callable[[LobbyEvent], None]
    ) -> None:
        self.client = client
        self.login = login
        self.report = report
        self.queue: tuple[QueueEntry, ...] = ()
        self._tickets = itertools.count(1)
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._sessions: dict[int, PeerSession] = {}
        self._link: ControlLink | None = None
        self._watch: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._watch = asyncio.get_running_loop().create_task(self._watch_queue())

    # ---- the technician's intents --------------------------------------------------

    def new_session(self) -> int:
        """Makes a code; :class:`CodeReady`, then :class:`SessionReady` or
        :class:`Abandoned`, follow with the returned ticket."""
        ticket = next(self._tickets)
        self._pending[ticket] = asyncio.get_running_loop().create_task(self._by_code(ticket))
        return ticket

    def pickup(self, session_id: str) -> int:
        ticket = next(self._tickets)
        self._pending[ticket] = asyncio.get_running_loop().create_task(
            self._pickup(ticket, session_id)
        )
        return ticket

    async def cancel(self, ticket: int) -> None:
        """Withdraws a code nobody used yet (the broker forgets its nameplate)."""
        session = self._sessions.get(ticket)
        if session is not None and session.sas is None:
            await session.end()

    async def close(self) -> None:
        tasks = [t for t in (self._watch, *self._pending.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for session in list(self._sessions.values()):
            await session.end()
        if self._link is not None:
            await self._link.close()

    # ---- sessions in the making ----------------------------------------------------

    async def _by_code(self, ticket: int) -> None:
        try:
            session = await PeerSession.create(self.client, self.login.token, ttl=CODE_LIFETIME)
        except LifelineError as exc:
            self._pending.pop(ticket, None)
            self._abandon(ticket, exc)
            return
        assert session.code is not None
        self._sessions[ticket] = session
        self.report(CodeReady(ticket, str(session.code), time.time() + CODE_LIFETIME))
        await self._open(ticket, session, timeout=None)

    async def _pickup(self, ticket: int, session_id: str) -> None:
        try:
            session = await PeerSession.pickup(self.client, self.login.token, session_id)
        except LifelineError as exc:
            self._pending.pop(ticket, None)
            self._abandon(ticket, exc)
            return
        self._sessions[ticket] = session
        await self._open(ticket, session, timeout=OPEN_TIMEOUT)

    async def _open(self, ticket: int, session: PeerSession, timeout: float | None) -> None:
        try:
            sas = await session.wait_open(timeout)
        except (LifelineError, TimeoutError) as exc:
            await session.close()
            self._abandon(ticket, exc)
            return
        finally:
            self._pending.pop(ticket, None)
            self._sessions.pop(ticket, None)
        self.report(SessionReady(ticket, session, customer_label(session.peer), sas))

    def _abandon(self, ticket: int, exc: BaseException) -> None:
        if isinstance(exc, TimeoutError):
            message = "The customer's program did not finish connecting."
        elif isinstance(exc, SessionEnded) and exc.reason == "closed":
            message = "The code was withdrawn."
        elif isinstance(exc, LifelineError):
            message = exc.message
        else:
            message = str(exc)
        if isinstance(exc, AuthenticationError):
            self.report(SignedOut(exc.message))
        self.report(Abandoned(ticket, message))

    # ---- the queue -----------------------------------------------------------------

    async def _watch_queue(self) -> None:
        failures = 0
        while True:
            try:
                self._link = await self.client.connect("console", self.login.token)
                await self._link.send({"t": "queue_list"})
                failures = 0
                await self._read_queue(self._link)
            except AuthenticationError as exc:
                self.report(SignedOut(exc.message))
                return
            except (LifelineError, OSError) as exc:
                log.info("the lobby link failed: %s", exc)
            finally:
                if self._link is not None:
                    with contextlib.suppress(Exception):
                        await self._link.close()
            await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
            failures += 1

    async def _read_queue(self, link: ControlLink) -> None:
        while (frame := await link.receive()) is not None:
            kind, payload = frame
            if kind != Frame.CONTROL:
                continue
            try:
                msg = decode_broker(payload)
            except ProtocolError as exc:
                log.warning("ignored a lobby message: %s", exc)
                continue
            if msg["t"] == "queue":
                self.queue = parse_queue(msg["entries"], time.time())
                self.report(QueueChanged(self.queue))
            elif msg["t"] == "error" and msg["code"] in ("token_invalid", "auth_failed"):
                raise AuthenticationError(msg["message"], code=msg["code"])
