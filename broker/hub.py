"""Live sessions: pairing applets with consoles, relaying, resuming, ending.

One :class:`Link` per WebSocket. A link says ``hello``, then either creates or claims
a session (or queues / picks up one), or resumes one it was part of. Once both roles
are attached the hub sends ``paired`` to each, and from then on forwards RELAY frames
untouched: it has no key and never parses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any

from broker import networks
from broker.accounts import Accounts, NetworkNotAllowed
from broker.audit import AuditLog
from broker.config import BrokerConfig
from broker.data_keys import DataKeys
from broker.live_sessions import ROLES, Link, LiveSession, customer_details
from broker.permissions import inactivity_timeout, sign_policy
from broker.ratelimit import RateLimiter
from broker.records import SessionRow, Storage, Technician
from broker.webhook import Webhooks
from common.crypto import SigningKey, verify_resume_proof
from common.crypto.code import MIN_NAMEPLATE_DIGITS, is_nameplate
from common.errors import (
    AuthenticationError,
    BrokerError,
    CodeNotFound,
    InvalidState,
    ProtocolError,
    RateLimited,
)

log = logging.getLogger("lifeline.broker")

CLOSE_MESSAGES = {
    "ended": "The session was ended.",
    "bad_code": "That code is wrong or has expired. Ask your technician for a new one.",
    "expired": "The code expired before anyone used it.",
    "queue_expired": "No technician was free to take your request. Please try again later.",
    "peer_lost": "The other side did not come back in time. The session has ended.",
    "peer_left": "The other side left before the secure connection was set up.",
}
#: The most waiting sessions one queue listing carries.
MAX_QUEUE_ENTRIES = 50
#: What a console reports of its sessions (docs/protocol.md §3.4), and the fields each
#: event may carry. The broker itself records ``session_start`` and ``session_end``.
SESSION_EVENT_FIELDS = {
    "chat": {"by", "text"},
    "permission": {"action", "state", "reason"},
    "control_start": set(),
    "control_end": {"reason"},
    "note": {"text"},
    "recording_start": {"file"},
    "recording_stop": {"reason"},
    "file_transfer": {"direction", "name", "size", "md5", "sha256"},
    "file_change": {"change", "path"},
}
MAX_EVENT_TEXT = 4000
_WHO = {"console": "technician", "applet": "customer"}
MAX_EVENTS_PER_SESSION = 20_000
QUEUE_WAIT_LIMIT = 3600.0


class SessionHub:
    def __init__(
        self, storage: Storage, accounts: Accounts, signer: SigningKey, config: BrokerConfig
    ) -> None:
        self.storage = storage
        self.accounts = accounts
        self.signer = signer
        self.config = config
        self.sessions: dict[str, LiveSession] = {}
        self.links: set[Link] = set()
        self.claim_limiter = RateLimiter(config.claims_per_minute)
        #: Where every session's events and the broker's own go (sealed at rest).
        keys = getattr(storage, "keys", None)
        if not isinstance(keys, DataKeys):
            keys = DataKeys.load(config.data_dir, config.data_key_file)
        self.audit = AuditLog(storage, keys)
        #: Posts each ended session's details to its group's URL (broker/webhook.py).
        self.webhooks = Webhooks(storage, self.audit, config.webhook_backoff)
        self.webhook_task: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()

    # ---- start and stop ------------------------------------------------------------

    def recover(self) -> None:
        """After a restart: paired sessions wait out the grace period for their peers;
        half-made ones are gone with the connections that made them."""
        for row in self.storage.list_sessions():
            if row.state == "paired" and row.resume_key_console and row.resume_key_applet:
                live = LiveSession(row)
                self.sessions[row.session_id] = live
                live.timer = self._loop.call_later(
                    self.config.grace_period, self._grace_expired, live
                )
                log.info("session %s waits for its peers after restart", row.session_id)
            else:
                self.storage.delete_session(row.session_id)

    async def shutdown(self) -> None:
        for link in list(self.links):
            await link.ws.close()

    # ---- dispatch ------------------------------------------------------------------

    async def on_control(self, link: Link, msg: dict[str, Any]) -> None:
        t = msg["t"]
        if link.token is not None:
            # Re-checked on every request: a disabled or expired sign-in stops here.
            link.technician = self.accounts.authenticate_token(link.token)
        if t == "ping":
            await link.send({"t": "pong"})
            return
        if link.role is None:
            if t != "hello":
                raise InvalidState("Say hello first.")
            await self._hello(link, msg)
            return
        if t == "hello":
            raise InvalidState("Hello was already said.")
        if link.pending_challenge is not None:
            if t != "resume_proof":
                raise InvalidState("Answer the resume challenge first.")
            await self._resume_proof(link, msg["proof"])
            return
        handler = {
            ("console", "create_session"): self._create_session,
            ("console", "queue_list"): self._queue_list,
            ("console", "pickup"): self._pickup,
            ("applet", "claim"): self._claim,
            ("applet", "enqueue"): self._enqueue,
        }.get((link.role, t))
        if handler is not None:
            if link.session is not None:
                raise InvalidState("This connection already belongs to a session.")
            await handler(link, msg)
            return
        if t == "resume":
            await self._resume(link, msg)
            return
        if t == "end" and link.session is not None:
            await self.close_session(link.session, "ended", by=link.role)
            return
        session = link.session
        if session is None or not session.paired:
            raise InvalidState(f"{t!r} needs a paired session.")
        if t == "register_resume":
            await self._register_resume(link, session, msg["key"])
        elif t == "session_event" and link.role == "console":
            self._session_event(link, session, msg["kind"], msg["detail"])
        elif t == "handshake_failed":
            await self.close_session(session, "bad_code")
        else:
            raise InvalidState(f"{t!r} is not allowed here.")

    async def _hello(self, link: Link, msg: dict[str, Any]) -> None:
        role = msg["role"]
        if role not in ROLES:
            raise ProtocolError("The role must be console or applet.")
        if role == "console":
            token = msg.get("token")
            if not token:
                raise AuthenticationError("Sign in first.")
            tech = self.accounts.authenticate_token(token)
            # A token is tied to the networks its technician may work from: one taken
            # elsewhere cannot open a console link there.
            group = self.storage.get_group(tech.group_name)
            which = networks.refused_by(tech, group, link.ip)
            if which is not None:
                networks.log_refused(tech, group, link.ip, which)
                self.audit.record("login_failed", technician=tech.email, group=tech.group_name,
                                  ip=link.ip, detail={"reason": "network_not_allowed"})  # fmt: skip
                raise NetworkNotAllowed(link.ip)
            link.technician = tech
            link.token = token
        link.role = role
        await link.send(
            {
                "t": "welcome",
                "broker": self.config.node_name,
                "policy_key": self.signer.public_bytes(),
            }
        )

    # ---- making sessions -----------------------------------------------------------

    def _register(self, row: SessionRow, link: Link) -> LiveSession:
        """Stores a new session with ``link`` as its first side."""
        assert link.role is not None
        self.storage.add_session(row)
        live = LiveSession(row)
        live.links[link.role] = link
        link.session = live
        self.sessions[row.session_id] = live
        return live

    def _new_nameplate(self) -> str:
        in_use = self.storage.nameplates_in_use()
        digits = MIN_NAMEPLATE_DIGITS
        # Grow the nameplate once half of a length's numbers are taken, so a random
        # pick rarely collides and codes stay as short as the load allows.
        while sum(1 for n in in_use if len(n) == digits) * 2 >= 10**digits:
            digits += 1
        while True:
            candidate = f"{secrets.randbelow(10**digits):0{digits}d}"
            if candidate not in in_use:
                return candidate

    async def _create_session(self, link: Link, msg: dict[str, Any]) -> None:
        tech = link.technician
        assert tech is not None
        now = time.time()
        asked = msg.get("ttl")
        ttl = min(max(float(asked), 10.0), 86_400.0) if asked else self.config.nameplate_ttl
        row = SessionRow(
            session_id=secrets.token_urlsafe(16),
            state="waiting",
            created_at=now,
            expires_at=now + ttl,
            nameplate=self._new_nameplate(),
            technician=tech.email,
            group_name=tech.group_name,
            node=self.config.node_name,
        )
        live = self._register(row, link)
        live.timer = self._loop.call_later(ttl, self._expired, live)
        log.info("session %s created by %s", row.session_id, tech.email)
        await link.send(
            {
                "t": "session_created",
                "session_id": row.session_id,
                "nameplate": row.nameplate,
                "expires_at": row.expires_at,
            }
        )

    async def _claim(self, link: Link, msg: dict[str, Any]) -> None:
        if not self.claim_limiter.allow(link.ip):
            raise RateLimited()
        nameplate = msg["nameplate"]
        row = self.storage.find_by_nameplate(nameplate) if is_nameplate(nameplate) else None
        live = self.sessions.get(row.session_id) if row else None
        if live is None or live.row.state != "waiting" or live.row.expires_at < time.time():
            log.info("claim of an unknown nameplate from %s", link.ip)
            self.audit.record("code_claim", ip=link.ip, detail={"result": "unknown code"})
            raise CodeNotFound()
        live.row.customer = customer_details(msg.get("customer"))
        self.storage.update_session(live.session_id, customer=live.row.customer)
        live.links["applet"] = link
        link.session = live
        console = live.links["console"]
        assert console is not None and console.technician is not None
        self.audit.record(
            "code_claim", session_id=live.session_id, technician=console.technician.email,
            group=console.technician.group_name, ip=link.ip, detail={"result": "claimed"},
        )  # fmt: skip
        await link.send(
            {
                "t": "claimed",
                "session_id": live.session_id,
                "technician": {"name": console.technician.name},
            }
        )
        await self._pair(live, queue_flow=False)

    async def _enqueue(self, link: Link, msg: dict[str, Any]) -> None:
        if not self.claim_limiter.allow(link.ip):
            raise RateLimited()
        technician, group = msg.get("technician"), msg.get("group")
        if technician:
            target = self.storage.get_technician(technician.strip().lower())
            if target is None or target.disabled:
                raise BrokerError("That technician is not available.", code="no_such_queue")
            technician = target.email
        elif group:
            if self.storage.get_group(group) is None:
                raise BrokerError("That support queue does not exist.", code="no_such_queue")
        else:
            raise ProtocolError("Name a technician or a group to queue for.")
        now = time.time()
        row = SessionRow(
            session_id=secrets.token_urlsafe(16),
            state="queued",
            created_at=now,
            expires_at=now + QUEUE_WAIT_LIMIT,
            queue_technician=technician,
            queue_group=None if technician else group,
            customer=customer_details(msg.get("customer")),
            node=self.config.node_name,
        )
        live = self._register(row, link)
        live.timer = self._loop.call_later(QUEUE_WAIT_LIMIT, self._expired, live, "queue_expired")
        await link.send({"t": "queued", "session_id": row.session_id})
        await self._notify_queue()

    def _queue_for(
        self, tech: Technician, limit: int | None = MAX_QUEUE_ENTRIES
    ) -> list[dict[str, Any]]:
        """The oldest ``limit`` customers waiting for ``tech`` or their group."""
        now = time.time()
        entries = [
            {
                "session_id": live.session_id,
                "customer": live.row.customer,
                "waiting_seconds": round(now - live.row.created_at, 1),
                "queue": "private" if live.row.queue_technician else "group",
            }
            for live in self.sessions.values()
            if live.row.state == "queued"
            and (
                live.row.queue_technician == tech.email
                or (live.row.queue_group is not None and live.row.queue_group == tech.group_name)
            )
        ]
        return entries[:limit]

    async def _queue_list(self, link: Link, msg: dict[str, Any]) -> None:
        assert link.technician is not None
        link.in_lobby = True
        await link.send({"t": "queue", "entries": self._queue_for(link.technician)})

    async def _notify_queue(self) -> None:
        for link in list(self.links):
            if not (link.in_lobby and link.token is not None):
                continue
            try:  # customer details go only to a sign-in that is still valid
                link.technician = self.accounts.authenticate_token(link.token, activity=False)
            except AuthenticationError:
                link.in_lobby = False
                await link.ws.close()
                continue
            await link.send({"t": "queue", "entries": self._queue_for(link.technician)})

    async def _pickup(self, link: Link, msg: dict[str, Any]) -> None:
        tech = link.technician
        assert tech is not None
        live = self.sessions.get(msg["session_id"])
        if (
            live is None
            or live.row.state != "queued"
            or not any(
                e["session_id"] == live.session_id for e in self._queue_for(tech, limit=None)
            )
        ):
            raise BrokerError("That customer is no longer waiting.", code="not_waiting")
        live.row.technician, live.row.group_name = tech.email, tech.group_name
        self.storage.update_session(
            live.session_id, technician=tech.email, group_name=tech.group_name
        )
        live.links["console"] = link
        link.session = live
        await self._pair(live, queue_flow=True)
        await self._notify_queue()

    async def _pair(self, live: LiveSession, *, queue_flow: bool) -> None:
        console, applet = live.links["console"], live.links["applet"]
        assert console is not None and applet is not None and console.technician is not None
        if live.timer:
            live.timer.cancel()
            live.timer = None
        tech = console.technician
        group = self.storage.get_group(tech.group_name)
        policy = sign_policy(
            self.signer,
            session_id=live.session_id,
            technician_email=tech.email,
            technician_name=tech.name,
            group=tech.group_name,
            permissions=group.permissions if group else [],
            broker=self.config.node_name,
            inactivity_timeout=inactivity_timeout(group.settings) if group else None,
        )
        # The nameplate is spent once claimed: nobody else can claim it again.
        live.row.state, live.row.policy, live.row.paired_at = "paired", policy, time.time()
        self.storage.update_session(
            live.session_id, state="paired", policy=policy, paired_at=live.row.paired_at
        )
        log.info("session %s paired", live.session_id)
        self.audit.record(
            "session_start", session_id=live.session_id, technician=tech.email,
            group=tech.group_name, ip=applet.ip, at=live.row.paired_at,
            detail=dict(live.row.customer),
        )  # fmt: skip
        peers = {
            "console": {**live.row.customer, "role": "applet"},
            "applet": {"role": "console", "name": tech.name},
        }
        for role, link in (("console", console), ("applet", applet)):
            await link.send(
                {
                    "t": "paired",
                    "session_id": live.session_id,
                    "policy": policy,
                    "peer": peers[role],
                    "queue_flow": queue_flow,
                }
            )

    # ---- the session's log ---------------------------------------------------------

    def _session_event(
        self, link: Link, live: LiveSession, kind: str, detail: dict[str, Any]
    ) -> None:
        """Stores one event the technician's console reported. The broker cannot read
        the session, so this is the console's account of it, tied to the signed-in
        technician and the broker's clock."""
        # Refused events leave the link up: a console's mistake must not cost the
        # customer their session.
        allowed = SESSION_EVENT_FIELDS.get(kind)
        if allowed is None:
            raise BrokerError(f"{kind!r} is not a session event.", code="bad_event")
        if not set(detail) <= allowed or not all(isinstance(v, str) for v in detail.values()):
            raise BrokerError(f"A {kind!r} event carries fields it may not have.", code="bad_event")
        if any(len(v) > MAX_EVENT_TEXT for v in detail.values()):
            raise BrokerError("A session event's text is too long.", code="bad_event")
        live.events += 1
        if live.events > MAX_EVENTS_PER_SESSION:
            raise BrokerError("This session's log is full.", code="log_full")
        assert link.technician is not None
        self.audit.record(
            kind, session_id=live.session_id, technician=link.technician.email,
            group=link.technician.group_name, detail=detail,
        )  # fmt: skip

    # ---- resuming ------------------------------------------------------------------

    async def _register_resume(self, link: Link, live: LiveSession, key: bytes) -> None:
        assert link.role is not None
        column = f"resume_key_{link.role}"
        if getattr(live.row, column) is not None:
            raise InvalidState("The resume key is already registered.")
        setattr(live.row, column, key)
        self.storage.update_session(live.session_id, **{column: key})
        await link.send({"t": "ok", "ref": "register_resume"})

    async def _resume(self, link: Link, msg: dict[str, Any]) -> None:
        role = msg["role"]
        live = self.sessions.get(msg["session_id"])
        if link.session is not None or role != link.role:
            raise InvalidState("This connection cannot resume that session.")
        if live is None or not live.paired or getattr(live.row, f"resume_key_{role}") is None:
            raise BrokerError("That session has ended.", code="session_gone")
        if role == "console" and (
            link.technician is None or link.technician.email != live.row.technician
        ):
            raise AuthenticationError("That session belongs to another technician.")
        nonce = secrets.token_bytes(32)
        link.pending_challenge = (live, role, nonce)
        await link.send({"t": "challenge", "nonce": nonce})

    async def _resume_proof(self, link: Link, proof: bytes) -> None:
        assert link.pending_challenge is not None
        live, role, nonce = link.pending_challenge
        link.pending_challenge = None
        key = getattr(live.row, f"resume_key_{role}")
        if self.sessions.get(live.session_id) is not live or not verify_resume_proof(
            key, live.session_id, role, nonce, proof
        ):
            raise AuthenticationError("The resume proof is not valid.")
        old = live.links[role]
        if old is not None:
            old.replaced = True
            old.session = None
            await old.ws.close()
        live.links[role] = link
        link.session = live
        other = live.other(role)
        if other is not None and live.timer:
            live.timer.cancel()
            live.timer = None
        log.info("session %s: %s resumed", live.session_id, role)
        await link.send({"t": "resumed", "peer_present": other is not None})
        if other is not None:
            await other.send({"t": "peer_state", "state": "connected"})

    # ---- relaying ------------------------------------------------------------------

    async def forward(self, link: Link, data: bytes) -> None:
        """Sends a RELAY frame, unchanged, to the other side of the link's session.

        Called only for a link in a paired session: the app's fast path checks that
        once per frame, so this hot path does not check it again."""
        live = link.session
        assert live is not None and link.role is not None
        target = live.other(link.role)
        if target is None:
            return  # The peer is reconnecting; the sender retransmits after it resumes.
        target.blocked_since = self._loop.time()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await target.ws.send_bytes(data)
        target.blocked_since = None

    def refresh_console_tokens(self) -> None:
        """A technician working in a session is active even when only relay frames
        flow: keep their sign-in from timing out, so a crash-and-reconnect resumes."""
        for link in list(self.links):
            if link.token is not None and link.session is not None:
                self.accounts.touch(link.token)

    def sweep_slow_links(self) -> None:
        limit = self._loop.time() - self.config.slow_client_timeout
        for link in list(self.links):
            if link.blocked_since is not None and link.blocked_since < limit:
                log.warning("dropping a link that stopped reading (%s)", link.ip)
                link.blocked_since = None
                # A polite close would wait on the same full buffer: cut the connection.
                if link.transport is not None:
                    link.transport.abort()

    # ---- ending --------------------------------------------------------------------

    async def disconnected(self, link: Link) -> None:
        self.links.discard(link)
        if link.token is not None and link.session is not None:
            # Being in a session is activity: the reconnect must not find the
            # technician signed out for inactivity.
            self.accounts.touch(link.token)
        live, link.session = link.session, None
        if link.in_lobby:
            link.in_lobby = False
        if live is None or link.replaced or link.role is None:
            return
        if live.links.get(link.role) is link:
            live.links[link.role] = None
        if live.paired:
            self.audit.record(
                "disconnect", session_id=live.session_id, technician=live.row.technician or "",
                group=live.row.group_name or "", ip=link.ip,
                detail={"who": _WHO[link.role]},
            )  # fmt: skip
        if live.row.state in ("waiting", "queued"):
            await self.close_session(live, "ended", by=link.role)
            return
        has_keys = live.row.resume_key_console and live.row.resume_key_applet
        if not has_keys:
            await self.close_session(live, "peer_left")
            return
        other = live.other(link.role)
        if other is not None:
            await other.send({"t": "peer_state", "state": "reconnecting"})
        if live.timer is None:
            live.timer = self._loop.call_later(self.config.grace_period, self._grace_expired, live)

    def _grace_expired(self, live: LiveSession) -> None:
        live.timer = None
        self._loop.create_task(self.close_session(live, "peer_lost"))

    def _expired(self, live: LiveSession, reason: str = "expired") -> None:
        live.timer = None
        self._loop.create_task(self.close_session(live, reason))

    async def close_session(self, live: LiveSession, reason: str, *, by: str | None = None) -> None:
        if self.sessions.pop(live.session_id, None) is None:
            return
        if live.timer:
            live.timer.cancel()
            live.timer = None
        was_queued = live.row.state == "queued"
        if live.paired and live.row.technician:
            self.audit.record(
                "session_end", session_id=live.session_id, technician=live.row.technician,
                group=live.row.group_name or "",
                detail={"reason": reason, **({"by": _WHO[by]} if by else {})},
            )  # fmt: skip
            try:
                self.webhooks.session_ended(live.session_id, live.row.group_name or "")
            except Exception:  # never worth failing the session's end
                log.exception("could not queue the webhook of session %s", live.session_id)
        self.storage.delete_session(live.session_id)
        message = CLOSE_MESSAGES.get(reason, "The session has ended.")
        if reason == "ended" and by:
            message = (
                f"The session was ended by the {'technician' if by == 'console' else 'customer'}."
            )
        log.info("session %s closed: %s", live.session_id, reason)
        for link in live.links.values():
            if link is not None:
                link.session = None
                await link.send({"t": "closed", "reason": reason, "message": message})
                await link.ws.close()
        if was_queued:
            await self._notify_queue()

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = {"waiting": 0, "queued": 0, "paired": 0}
        for live in self.sessions.values():
            counts[live.row.state] = counts.get(live.row.state, 0) + 1
        return counts
