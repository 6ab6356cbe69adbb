"""What the broker stores, one dataclass per table, and :class:`Storage`, the interface
the rest of the broker keeps them through (:class:`~broker.storage.SqliteStorage` is the
embedded implementation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class Group:
    name: str
    permissions: list[str]
    #: Per-group options (broker/group_settings.py): chat storage, retention, the
    #: session-end webhook, allowed networks.
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Technician:
    email: str
    name: str
    group_name: str
    password_hash: str
    created_at: float
    must_change_password: bool = False
    disabled: bool = False
    failed_logins: int = 0
    locked_until: float = 0.0
    totp_secret: str | None = None
    totp_last_step: int = 0
    #: CIDR networks this technician may sign in from; empty: anywhere (the group's
    #: own list still applies).
    allowed_networks: list[str] = field(default_factory=list)
    #: When the password was last set (0: before this was recorded).
    password_changed_at: float = 0.0


@dataclass
class AuthToken:
    token_hash: str
    email: str
    created_at: float
    expires_at: float
    last_used: float


@dataclass
class SessionRow:
    """A session as stored: ``state`` is waiting, queued or paired."""

    session_id: str
    state: str
    created_at: float
    expires_at: float
    nameplate: str | None = None
    technician: str | None = None
    group_name: str | None = None
    queue_technician: str | None = None
    queue_group: str | None = None
    customer: dict[str, str] = field(default_factory=dict)
    paired_at: float | None = None
    policy: bytes | None = None
    resume_key_console: bytes | None = None
    resume_key_applet: bytes | None = None
    node: str = ""


@dataclass
class SessionEvent:
    """One line of a session's log as the technician's console reported it: chat,
    permissions asked and answered, control started and ended (docs/protocol.md §4.6).
    ``session_id`` outlives the session row, which goes when the session ends."""

    session_id: str
    technician: str
    at: float
    kind: str
    detail: dict[str, str] = field(default_factory=dict)
    group_name: str = ""
    #: The address the event came from (logins, claims), when it matters.
    ip: str = ""
    #: The sensitive part of ``detail`` (chat text, customer fields, file names),
    #: AES-256-GCM under the data key ``key_id`` (broker/audit.py); None when none.
    sealed: bytes | None = None
    key_id: str = ""
    #: The row's number (0 until stored).
    id: int = 0


@dataclass
class WebhookDelivery:
    """One session's details waiting to be posted (or posted) to a group's URL; the
    body is sealed like the audit log's text."""

    session_id: str
    group_name: str
    url: str
    sealed: bytes
    key_id: str
    created_at: float
    next_at: float
    attempts: int = 0
    last_error: str = ""
    delivered_at: float | None = None
    id: int = 0


class Storage(Protocol):
    def close(self) -> None: ...

    # groups
    def put_group(self, group: Group) -> None: ...
    def get_group(self, name: str) -> Group | None: ...
    def list_groups(self) -> list[Group]: ...

    # technicians
    def add_technician(self, tech: Technician) -> None: ...
    def get_technician(self, email: str) -> Technician | None: ...
    def update_technician(self, email: str, **changes: Any) -> None: ...
    def list_technicians(self) -> list[Technician]: ...

    # tokens
    def add_token(self, token: AuthToken) -> None: ...
    def get_token(self, token_hash: str) -> AuthToken | None: ...
    def touch_token(self, token_hash: str, now: float) -> None: ...
    def delete_tokens(self, email: str) -> None: ...

    # sessions
    def add_session(self, row: SessionRow) -> None: ...
    def get_session(self, session_id: str) -> SessionRow | None: ...
    def find_by_nameplate(self, nameplate: str) -> SessionRow | None: ...
    def update_session(self, session_id: str, **changes: Any) -> None: ...
    def delete_session(self, session_id: str) -> None: ...
    def list_sessions(self, state: str | None = None) -> list[SessionRow]: ...
    def nameplates_in_use(self) -> set[str]: ...

    # session events
    def add_session_event(self, event: SessionEvent) -> None: ...
    def list_session_events(self, session_id: str) -> list[SessionEvent]: ...
    def find_events(self, *, limit: int | None = None, **where: Any) -> list[SessionEvent]: ...
    def delete_events(self, **where: Any) -> int: ...
    def count_events(self) -> int: ...
    def reseal(self, reseal: Callable[[bytes, bytes], bytes]) -> int: ...

    # webhooks
    def add_webhook(self, delivery: WebhookDelivery) -> int: ...
    def due_webhooks(self, now: float) -> list[WebhookDelivery]: ...
    def list_webhooks(self, *, undelivered: bool = False) -> list[WebhookDelivery]: ...
    def update_webhook(self, delivery_id: int, **changes: Any) -> None: ...
    def delete_webhooks(
        self, *, session_id: str | None = None, before: float | None = None,
        group: str | None = None,
    ) -> int: ...  # fmt: skip

    # backups
    def backup(self, path: Path) -> None: ...

    # organisation-wide settings
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
