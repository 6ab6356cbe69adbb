"""The audit log: every session's events as the console reports them, and the broker's
own (sign-ins, lockouts, code claims, disconnects), with technician, group, address and
time (the Rescue papers' "chat log").

Text that could identify a person or say what they said is sealed before it is stored
(AES-256-GCM under the data key, :mod:`broker.data_keys`): chat and note text, the
customer's name, host and custom fields, file names and paths, recording file names. The
rest (kind, time, technician, group, address, permission names, sizes, hashes) stays
clear so that it can be queried. A group may keep no chat text at all (``omit_chat``) and
may keep its rows only so many days (``retention_days``, see :meth:`AuditLog.purge`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from broker.data_keys import DataKeyError, DataKeys
from broker.records import SessionEvent, Storage
from broker.storage import WEBHOOK_CONTEXT, event_context
from common.crypto import SealError

log = logging.getLogger("lifeline.broker.audit")

#: Per kind, the detail fields that are sealed; ``*`` seals every field of the kind.
SEALED_FIELDS: dict[str, set[str]] = {
    "chat": {"text"},
    "note": {"text"},
    "session_start": {"*"},  # the customer's name, host, os and custom fields
    "file_transfer": {"name"},
    "file_change": {"change", "path"},
    "recording_start": {"file"},
}
#: Events the broker records itself (a console cannot send them).
BROKER_KINDS = (
    "session_start", "session_end", "login_ok", "login_failed", "lockout", "code_claim",
    "disconnect", "password_changed",
)  # fmt: skip
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class GroupSettings:
    """What a group's ``settings`` say about its audit trail."""

    omit_chat: bool = False
    #: Days rows are kept online; 0: for ever.
    retention_days: int = 0

    @classmethod
    def of(cls, settings: dict[str, Any] | None) -> GroupSettings:
        settings = settings or {}
        days = settings.get("retention_days", 0)
        return cls(
            omit_chat=settings.get("omit_chat") is True,
            retention_days=days if isinstance(days, int) and days > 0 else 0,
        )


class AuditLog:
    def __init__(self, storage: Storage, keys: DataKeys) -> None:
        self.storage = storage
        self.keys = keys

    # ---- writing -------------------------------------------------------------------

    def record(
        self,
        kind: str,
        *,
        session_id: str = "",
        technician: str = "",
        group: str = "",
        ip: str = "",
        detail: dict[str, str] | None = None,
        at: float | None = None,
    ) -> None:
        """Stores one event, sealing its sensitive fields (and dropping chat text for
        groups that keep none)."""
        detail = dict(detail or {})
        if kind == "chat" and group and self._settings(group).omit_chat:
            detail.pop("text", None)
            detail["omitted"] = "1"
        names = SEALED_FIELDS.get(kind, set())
        secret = {k: v for k, v in detail.items() if "*" in names or k in names}
        clear = {k: v for k, v in detail.items() if k not in secret}
        sealed = None
        if secret:
            sealed = self.keys.seal(json.dumps(secret).encode(), event_context(kind))
        self.storage.add_session_event(
            SessionEvent(
                session_id, technician, time.time() if at is None else at, kind, clear,
                group_name=group, ip=ip, sealed=sealed,
                key_id=self.keys.current if sealed is not None else "",
            )
        )  # fmt: skip

    def _settings(self, group: str) -> GroupSettings:
        row = self.storage.get_group(group)
        return GroupSettings.of(row.settings if row is not None else None)

    # ---- reading -------------------------------------------------------------------

    def open(self, event: SessionEvent) -> dict[str, str]:
        """The event's whole detail, its sealed part opened."""
        detail = dict(event.detail)
        if event.sealed is not None:
            try:
                detail.update(json.loads(self.keys.open(event.sealed, event_context(event.kind))))
            except (SealError, DataKeyError):
                detail["sealed"] = "cannot be opened with this data key"
        return detail

    def query(
        self,
        *,
        technician: str | None = None,
        session_id: str | None = None,
        customer: str | None = None,
        group: str | None = None,
        kinds: list[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Events as plain dictionaries, oldest first. ``customer`` matches the name or
        host the customer gave (case-insensitive, part of it): the sessions whose start
        names them, then their events."""
        where: dict[str, Any] = {"technician": technician, "session_id": session_id,
                                 "group": group, "since": since, "until": until}  # fmt: skip
        sessions: set[str] | None = None
        if customer is not None:
            sessions = self._sessions_of_customer(customer, where)
            if not sessions:
                return []
        events = self.storage.find_events(kinds=kinds, **where)
        if sessions is not None:
            events = [e for e in events if e.session_id in sessions]
        rows = [self.as_dict(e) for e in events]
        return rows[:limit] if limit is not None else rows

    def _sessions_of_customer(self, customer: str, where: dict[str, Any]) -> set[str]:
        wanted = customer.casefold()
        starts = self.storage.find_events(
            kinds=["session_start"], **{**where, "since": None, "until": where["until"]}
        )
        found = set()
        for event in starts:
            detail = self.open(event)
            if any(wanted in str(v).casefold() for v in detail.values()):
                found.add(event.session_id)
        return found

    def as_dict(self, event: SessionEvent) -> dict[str, Any]:
        return {
            "at": event.at,
            "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.at)),
            "kind": event.kind,
            "session": event.session_id,
            "technician": event.technician,
            "group": event.group_name,
            "ip": event.ip,
            "detail": self.open(event),
        }

    # ---- keeping and forgetting ----------------------------------------------------

    def purge(self, now: float | None = None) -> dict[str, int]:
        """Deletes the rows of each group older than its ``retention_days``; returns the
        count per group (only groups with a limit)."""
        now = time.time() if now is None else now
        counts: dict[str, int] = {}
        for group in self.storage.list_groups():
            days = GroupSettings.of(group.settings).retention_days
            if days:
                before = now - days * SECONDS_PER_DAY
                counts[group.name] = self.storage.delete_events(group=group.name, until=before)
                self.storage.delete_webhooks(group=group.name, before=before)
        return counts

    def export(
        self, *, technician: str | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        """Everything stored about a technician or a session (GDPR access), as JSON."""
        if (technician is None) == (session_id is None):
            raise ValueError("export one technician or one session")
        result: dict[str, Any] = {"exported_at": time.time()}
        if technician is not None:
            tech = self.storage.get_technician(technician)
            if tech is None:
                raise ValueError(f"there is no technician {technician!r}")
            result["technician"] = {
                "email": tech.email, "name": tech.name, "group": tech.group_name,
                "created_at": tech.created_at, "disabled": tech.disabled,
                "two_step_sign_in": tech.totp_secret is not None,
                "allowed_networks": tech.allowed_networks,
            }  # fmt: skip
            result["events"] = self.query(technician=technician)
        else:
            result["session"] = session_id
            result["events"] = self.query(session_id=session_id)
        return result

    def forget(
        self, *, technician: str | None = None, session_id: str | None = None
    ) -> dict[str, int]:
        """Deletes everything stored about a technician's sessions, or one session
        (GDPR erasure); returns the counts. Other technicians' sessions stay."""
        if (technician is None) == (session_id is None):
            raise ValueError("delete one technician's data or one session")
        counts = {"events": 0, "webhook_deliveries": 0, "sessions": 0}
        if session_id is not None:
            sessions: Iterable[str] = [session_id]
        else:
            events = self.storage.find_events(technician=technician)
            sessions = sorted({e.session_id for e in events if e.session_id})
        for sid in sessions:
            counts["events"] += self.storage.delete_events(session_id=sid)
            counts["webhook_deliveries"] += self.storage.delete_webhooks(session_id=sid)
        if technician is not None:
            # The technician's own events outside sessions (sign-ins, lockouts).
            counts["events"] += self.storage.delete_events(technician=technician)
        counts["sessions"] = len(list(sessions))
        return counts

    def rotate_key(self) -> tuple[str, int]:
        """Seals every stored value again under a new data key, then forgets the old
        ones; returns the new key's id and how many values were sealed again."""
        self.keys.add_new()
        self.keys.save()  # the new key is safe on disk before any row needs it
        count = self.storage.reseal(
            lambda sealed, context: self.keys.seal(self.keys.open(sealed, context), context)
        )
        self.keys.forget_old()
        self.keys.save()
        log.info("data key rotated to %s; %d values sealed again", self.keys.current, count)
        return self.keys.current, count

    # ---- webhooks share the sealing ------------------------------------------------

    def seal_webhook(self, body: bytes) -> bytes:
        return self.keys.seal(body, WEBHOOK_CONTEXT)

    def open_webhook(self, sealed: bytes) -> bytes:
        return self.keys.open(sealed, WEBHOOK_CONTEXT)
