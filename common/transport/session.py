"""An end-to-end session over the broker, with reconnection and resume.

Make one with :meth:`PeerSession.create` (console, code flow), :meth:`PeerSession.claim`
(applet, typed code), :meth:`PeerSession.enqueue` (applet, queue flow) or
:meth:`PeerSession.pickup` (console, queue flow); then ``await wait_open()`` for the
short authentication string, ``send()`` messages and read ``next_event()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from common.crypto import SessionCode, verify_signed
from common.crypto.keys import Role
from common.errors import (
    BadSignature,
    BrokerError,
    ConnectionFailed,
    LifelineError,
    SessionEnded,
    WrongCode,
)
from common.protocol import messages
from common.protocol.broker_messages import Frame, decode_broker
from common.protocol.channels import Channel
from common.protocol.peer import (
    HandshakeDone,
    MessageReceived,
    PeerConnection,
    State,
    Writable,
)
from common.transport.client import BrokerClient, ControlLink

log = logging.getLogger("lifeline.transport")

ACK_DELAY = 0.02
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
#: How long to keep trying: the broker's grace period plus a margin.
RECONNECT_FOR = 75.0
#: Codes whose key confirmation failed in this process. The broker should burn them,
#: but a broker in the middle might not; we never give it a second guess.
_burnt_codes: set[str] = set()


_ECHO = ("rtt_ping", "rtt_pong")
MAX_PINGS_IN_FLIGHT = 8


@dataclass(frozen=True)
class PeerState:
    """``reconnecting``/``reconnected``: our own link; ``peer_reconnecting``/
    ``peer_connected``: the other side's."""

    state: str


@dataclass(frozen=True)
class Ended:
    reason: str
    message: str


SessionEvent = MessageReceived | PeerState | Ended | Writable


class PeerSession:
    def __init__(
        self,
        client: BrokerClient,
        role: Role,
        link: ControlLink,
        *,
        token: str | None = None,
        code: SessionCode | None = None,
        session_id: str | None = None,
        pinned_policy_key: bytes | None = None,
    ) -> None:
        self.client = client
        self.role: Role = role
        self.link = link
        self.token = token
        self.code = code
        self.session_id = session_id
        self.pinned_policy_key = pinned_policy_key
        self.conn: PeerConnection | None = None
        self.policy: dict[str, Any] | None = None
        self.peer: dict[str, Any] = {}
        self.sas: str | None = None
        self.ended: Ended | None = None
        self._loop = asyncio.get_running_loop()
        self._events: asyncio.Queue[SessionEvent] = asyncio.Queue()
        self._opened: asyncio.Future[str] = self._loop.create_future()
        self._paired: asyncio.Future[None] = self._loop.create_future()
        self._dirty = asyncio.Event()
        self._writable = asyncio.Event()
        self._ended_event = asyncio.Event()
        self._force_ack = False
        self._ack_timer: asyncio.TimerHandle | None = None
        self._resume_registered = False
        self._log: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        #: Smoothed round trip to the peer in seconds (see :meth:`ping`).
        self.rtt: float | None = None
        self._pings: dict[int, float] = {}
        self._next_ping = 0
        self._tasks = [
            self._loop.create_task(self._read_loop()),
            self._loop.create_task(self._write_loop()),
        ]
        if role == "console":
            self._tasks.append(self._loop.create_task(self._log_loop()))

    # ---- ways in -------------------------------------------------------------------

    @classmethod
    async def create(
        cls, client: BrokerClient, token: str, *, ttl: float | None = None
    ) -> PeerSession:
        """Console: a new session; read :attr:`code` to the customer."""
        link = await client.connect("console", token)
        await link.send({"t": "create_session", "ttl": int(ttl) if ttl else None})
        msg = await link.expect("session_created")
        code = SessionCode.with_new_secret(msg["nameplate"])
        return cls(client, "console", link, token=token, code=code, session_id=msg["session_id"])

    @classmethod
    async def claim(
        cls,
        client: BrokerClient,
        code: SessionCode | str,
        customer: dict[str, str] | None = None,
        *,
        pinned_policy_key: bytes | None = None,
    ) -> PeerSession:
        """Applet: join the session a technician made, with the code they gave.
        ``pinned_policy_key``: the broker key built into the applet, if any."""
        if isinstance(code, str):
            code = SessionCode.parse(code)
        if code.digits in _burnt_codes:
            raise WrongCode.for_role("applet")
        link = await client.connect("applet")
        await link.send({"t": "claim", "nameplate": code.nameplate, "customer": customer or {}})
        try:
            msg = await link.expect("claimed")
        except LifelineError:
            await link.close()
            raise
        session = cls(
            client,
            "applet",
            link,
            code=code,
            session_id=msg["session_id"],
            pinned_policy_key=pinned_policy_key,
        )
        session.peer = {"name": msg["technician"].get("name", "")}
        return session

    @classmethod
    async def enqueue(
        cls,
        client: BrokerClient,
        *,
        technician: str | None = None,
        group: str | None = None,
        customer: dict[str, str] | None = None,
    ) -> PeerSession:
        """Applet: wait in a technician's or a group's queue (no code typed)."""
        link = await client.connect("applet")
        await link.send(
            {"t": "enqueue", "technician": technician, "group": group, "customer": customer or {}}
        )
        try:
            msg = await link.expect("queued")
        except LifelineError:
            await link.close()
            raise
        return cls(client, "applet", link, session_id=msg["session_id"])

    @classmethod
    async def pickup(cls, client: BrokerClient, token: str, session_id: str) -> PeerSession:
        """Console: take a customer waiting in a queue."""
        link = await client.connect("console", token)
        session = cls(client, "console", link, token=token, session_id=session_id)
        await link.send({"t": "pickup", "session_id": session_id})
        return session

    # ---- using it ------------------------------------------------------------------

    async def wait_paired(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(asyncio.shield(self._paired), timeout)

    async def wait_open(self, timeout: float | None = None) -> str:
        """Waits for keys to be agreed and confirmed; returns the short authentication
        string. Raises :class:`WrongCode`, :class:`SessionEnded`, … on failure."""
        return await asyncio.wait_for(asyncio.shield(self._opened), timeout)

    def send(
        self, channel: Channel, message: dict[str, Any], *, replace: str | None = None
    ) -> None:
        if self.ended is not None:
            raise SessionEnded(self.ended.message, reason=self.ended.reason)
        if self.conn is None or self.conn.state != State.OPEN:
            raise SessionEnded("The secure connection is not open yet.", reason="not_open")
        self.conn.send(channel, message, replace=replace)
        self._dirty.set()

    def writable(self, channel: Channel) -> bool:
        return self.conn is not None and self.conn.writable(channel)

    async def wait_writable(self, channel: Channel) -> None:
        while not self.writable(channel):
            self._writable.clear()
            if self.ended is not None:
                raise SessionEnded(self.ended.message, reason=self.ended.reason)
            await self._writable.wait()

    async def next_event(self, timeout: float | None = None) -> SessionEvent:
        return await asyncio.wait_for(self._events.get(), timeout)

    async def next_message(self, timeout: float | None = None) -> MessageReceived:
        """Skips status events; raises :class:`SessionEnded` when the session ends."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            event = await self.next_event(left)
            if isinstance(event, MessageReceived):
                return event
            if isinstance(event, Ended):
                raise SessionEnded(event.message, reason=event.reason)

    def ping(self) -> None:
        """Measures the round trip to the peer through the broker; :attr:`rtt` holds
        the smoothed result in seconds once the first answer is back."""
        if len(self._pings) >= MAX_PINGS_IN_FLIGHT:
            self._pings.pop(min(self._pings))  # never answered: forget the oldest
        n = self._next_ping
        self._next_ping += 1
        self._pings[n] = time.monotonic()
        self.send(Channel.CONTROL, {"t": "rtt_ping", "n": n})

    def log_event(self, kind: str, **detail: str) -> None:
        """Console: reports one event to the broker's session log (docs/protocol.md
        §3.4: chat, permissions, control, notes), in order, after the session paired."""
        if self.role == "console" and self.ended is None:
            self._log.put_nowait({"t": "session_event", "kind": kind, "detail": detail})

    async def end(self) -> None:
        """Ends the session for both sides."""
        if self.ended is None:
            if self._paired.done() and not self._paired.exception():
                # What the session's log still holds goes first.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._log.join(), 5.0)
            with contextlib.suppress(LifelineError):
                await self.link.send({"t": "end"})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._ended_event.wait(), 5.0)
        await self.close()

    async def close(self) -> None:
        """Drops the session locally (no message to the peer)."""
        self._finish(Ended("closed", "The session was closed."))
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.link.close()

    # ---- internals -----------------------------------------------------------------

    def _finish(self, ended: Ended, error: BaseException | None = None) -> None:
        if self.ended is not None:
            return
        if (
            self.role == "applet"
            and self.code is not None
            and self.conn is not None
            and self.conn.keys is not None
            and not self._opened.done()
        ):
            # Our confirmation went out, so whoever holds the other end could test a
            # guess against it. However the session ended, this code is spent.
            _burnt_codes.add(self.code.digits)
        self.ended = ended
        self._ended_event.set()
        if self.conn is not None:
            self.conn.close()
        self._events.put_nowait(ended)
        exc = error or SessionEnded(ended.message, reason=ended.reason)
        for fut in (self._opened, self._paired):
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: nobody may be waiting
        self._writable.set()
        self._dirty.set()
        if self._ack_timer:
            self._ack_timer.cancel()

    def _fail(self, error: LifelineError) -> None:
        self._finish(Ended(error.code, str(error)), error)
        self._loop.create_task(self.link.close())

    async def _read_loop(self) -> None:
        while self.ended is None:
            try:
                frame = await self.link.receive()
            except ConnectionFailed:
                frame = None
            except LifelineError as exc:  # the broker sent a malformed frame
                self._fail(exc)
                return
            if frame is None:
                if not await self._link_lost():
                    return
                continue
            kind, payload = frame
            try:
                if kind == Frame.RELAY:
                    await self._on_relay(payload)
                else:
                    await self._on_control(decode_broker(payload))
            except WrongCode:
                with contextlib.suppress(LifelineError):
                    await self.link.send({"t": "handshake_failed"})
                self._fail(WrongCode.for_role(self.role, queue_flow=self.code is None))
            except LifelineError as exc:
                log.warning("session %s failed: %s", self.session_id, exc)
                with contextlib.suppress(LifelineError):
                    await self.link.send({"t": "end", "reason": exc.code})
                self._fail(exc)

    async def _on_relay(self, payload: bytes) -> None:
        if self.conn is None:
            raise BrokerError("Data arrived before the session was paired.", code="protocol_error")
        self.conn.receive_data(payload)
        for event in self.conn.events_received():
            if isinstance(event, HandshakeDone):
                self.sas = event.sas
                assert self.conn.keys is not None
                await self.link.send(
                    {"t": "register_resume", "key": self.conn.keys.resume_public_key()}
                )
                self._resume_registered = True
                if not self._opened.done():
                    self._opened.set_result(event.sas)
            elif isinstance(event, Writable):
                self._writable.set()
                self._events.put_nowait(event)
            elif isinstance(event, MessageReceived) and event.message.get("t") in _ECHO:
                self._echo(event)
            else:
                if isinstance(event, MessageReceived):
                    self._receipt(event)
                self._events.put_nowait(event)
        self._dirty.set()

    def _receipt(self, event: MessageReceived) -> None:
        """A ``chat`` with an ``id`` is acknowledged with ``chat_delivered`` once it has
        arrived here (docs/protocol.md §5.12), so the sender can show it delivered."""
        message = event.message
        if (
            event.channel == Channel.CHAT
            and message.get("t") == "chat"
            and isinstance(message.get("id"), int)
        ):
            self.send(Channel.CHAT, {"t": "chat_delivered", "id": message["id"]})

    def _echo(self, event: MessageReceived) -> None:
        """``rtt_ping``/``rtt_pong`` are the session's own (docs/protocol.md §5.12): answered
        here, so every peer measures round trips without its application's help."""
        n = event.message.get("n")
        if event.channel != Channel.CONTROL or not isinstance(n, int):
            return
        if event.message["t"] == "rtt_ping":
            self.send(Channel.CONTROL, {"t": "rtt_pong", "n": n})
        elif (sent := self._pings.pop(n, None)) is not None:
            rtt = time.monotonic() - sent
            self.rtt = rtt if self.rtt is None else 0.75 * self.rtt + 0.25 * rtt

    async def _on_control(self, msg: dict[str, Any]) -> None:
        t = msg["t"]
        if t == "paired":
            self._on_paired(msg)
        elif t == "peer_state":
            if (
                msg["state"] == "connected"
                and self.conn is not None
                and self.conn.state == State.OPEN
            ):
                self.conn.resume()
                self._dirty.set()
            self._events.put_nowait(PeerState(f"peer_{msg['state']}"))
        elif t == "closed":
            if msg["reason"] == "bad_code":
                self._fail(WrongCode.for_role(self.role, queue_flow=self.code is None))
            else:
                self._finish(Ended(msg["reason"], msg["message"]))
        elif t == "error":
            log.warning("broker error: %s %s", msg["code"], msg["message"])
            if self.conn is None or self.conn.state != State.OPEN:
                raise SessionEnded(msg["message"], reason=msg["code"])

    def _on_paired(self, msg: dict[str, Any]) -> None:
        key = self.link.policy_key
        if self.pinned_policy_key is not None and key != self.pinned_policy_key:
            raise BadSignature("The server's policy key is not the one this program trusts.")
        policy = messages.decode(verify_signed(key, msg["policy"]))
        if policy.get("session_id") != msg["session_id"]:
            raise BadSignature("The session policy was issued for another session.")
        if self.session_id is not None and msg["session_id"] != self.session_id:
            raise BadSignature("The server paired us into another session.")
        self.session_id = msg["session_id"]
        self.policy = policy
        self.peer = {**self.peer, **msg["peer"]}
        if msg["queue_flow"] != (self.code is None):
            raise WrongCode("The server paired a queued customer with a code session.")
        self.conn = PeerConnection(self.role, self.session_id, self.code)
        self.conn.start()
        if not self._paired.done():
            self._paired.set_result(None)
        self._dirty.set()

    async def _log_loop(self) -> None:
        await asyncio.shield(self._paired)
        while self.ended is None:
            message = await self._log.get()
            while self.ended is None:
                try:
                    await self.link.send(message)
                    break
                except ConnectionFailed:  # the link is being replaced (resume)
                    await asyncio.sleep(0.5)
            self._log.task_done()

    async def _write_loop(self) -> None:
        while self.ended is None:
            await self._dirty.wait()
            self._dirty.clear()
            conn = self.conn
            if conn is None or self.ended is not None:
                continue
            try:
                while True:
                    records = conn.data_to_send(max_records=1)
                    if not records:
                        break
                    await self.link.send_relay(b"\x01" + records[0])
                    # The loop's turn: input queued meanwhile goes out next, not after
                    # the rest of a large message (send_relay rarely has to wait).
                    await asyncio.sleep(0)
                if self._force_ack and conn.ack_pending:
                    await self.link.send_relay(b"\x01" + conn.ack_record())
                self._force_ack = False
            except (ConnectionError, RuntimeError, LifelineError):
                # The reader notices the dead link and resumes; what was not
                # acknowledged goes out again then.
                continue
            if conn.ack_pending and self._ack_timer is None:
                self._ack_timer = self._loop.call_later(ACK_DELAY, self._ack_due)

    def _ack_due(self) -> None:
        self._ack_timer = None
        self._force_ack = True
        self._dirty.set()

    async def _link_lost(self) -> bool:
        """Reconnects and resumes; returns False once the session is over."""
        if self.ended is not None:
            return False
        conn = self.conn
        if conn is None or conn.state != State.OPEN or not self._resume_registered:
            self._finish(Ended("link_lost", "The connection to the server was lost."))
            return False
        self._events.put_nowait(PeerState("reconnecting"))
        started = time.monotonic()
        attempt = 0
        while time.monotonic() - started < RECONNECT_FOR and self.ended is None:
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1
            try:
                link = await self.client.connect(self.role, self.token)
                await link.send({"t": "resume", "session_id": self.session_id, "role": self.role})
                challenge = await link.expect("challenge")
                assert conn.keys is not None and self.session_id is not None
                proof = conn.keys.resume_proof(self.session_id, challenge["nonce"])
                await link.send({"t": "resume_proof", "proof": proof})
                await link.expect("resumed")
            except ConnectionFailed:
                continue
            except (BrokerError, SessionEnded) as exc:
                self._finish(Ended("peer_lost", "The session could not be resumed."), exc)
                return False
            self.link = link
            conn.resume()
            self._events.put_nowait(PeerState("reconnected"))
            self._dirty.set()
            return True
        self._finish(Ended("link_lost", "The connection to the server was lost."))
        return False
