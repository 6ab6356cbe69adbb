"""The broker's persistent state in SQLite.

:class:`~broker.records.Storage` is what the rest of the broker uses;
:class:`SqliteStorage` is the embedded default, on the tables of :mod:`broker.schema`.
The SQL is portable (no SQLite-only syntax beyond the connection pragmas), so a
PostgreSQL implementation can share it when several broker nodes share one database
(docs/scaling.md).
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, Protocol, TypeVar

from broker.records import (
    AuthToken,
    Group,
    SessionEvent,
    SessionRow,
    Technician,
    WebhookDelivery,
)
from broker.schema import ADDED_COLUMNS, SCHEMA, SCHEMA_VERSION

T = TypeVar("T")
_GROUP_JSON = ("permissions", "settings")
_EVENT_COLUMNS = "session_id, technician, at, kind, detail, group_name, ip, sealed, key_id, id"
_TECH_JSON = ("allowed_networks",)


def _row_to(cls: type[T], row: sqlite3.Row, *, json_fields: tuple[str, ...] = ()) -> T:
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = row[f.name]
        if f.name in json_fields:
            value = json.loads(value)
        elif f.type in ("bool",) and value is not None:
            value = bool(value)
        kwargs[f.name] = value
    return cls(**kwargs)


class Sealer(Protocol):
    """Seals values at rest (:class:`broker.data_keys.DataKeys`)."""

    current: str

    def seal(self, plaintext: bytes, context: bytes) -> bytes: ...
    def open(self, sealed: bytes, context: bytes) -> bytes: ...


#: Where each sealed column's context comes from (a value moved elsewhere won't open).
CUSTOMER_CONTEXT = b"sessions.customer"
TOTP_CONTEXT = b"technicians.totp_secret"
WEBHOOK_CONTEXT = b"webhook_outbox"
#: + the group's name; the sealed secret is base64 in the group's settings.
WEBHOOK_SECRET_CONTEXT = b"groups.webhook_secret|"


def event_context(kind: str) -> bytes:
    return f"session_events|{kind}".encode()


class SqliteStorage:
    """Storage in one SQLite file (WAL mode). Thread-safe through one lock.

    With ``keys``, the customer's details of live sessions and TOTP secrets are sealed
    in the file (the audit log seals its own text, broker/audit.py)."""

    def __init__(self, path: Path | str, keys: Sealer | None = None) -> None:
        self.path = Path(path)
        self.keys = keys
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
            self._migrate()
            self._db.execute(
                "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                "ON CONFLICT(key) DO NOTHING",
                (str(SCHEMA_VERSION),),
            )

    def _migrate(self) -> None:
        """Brings a database made by an older broker up to this schema (columns are
        only ever added, so older brokers' rows stay valid)."""
        for table, column, definition in ADDED_COLUMNS:
            present = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        self._db.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _seal_column(self, value: Any, context: bytes) -> Any:
        """A value for a sealed column: sealed when there are keys, else as it is."""
        if value is None or self.keys is None:
            return value
        text = value if isinstance(value, str) else json.dumps(value)
        return self.keys.seal(text.encode(), context)

    def _open_column(self, value: Any, context: bytes) -> Any:
        if isinstance(value, bytes):
            if self.keys is None:
                raise ValueError("a sealed value needs the broker's data key")
            return self.keys.open(value, context).decode()
        return value

    def _session(self, row: sqlite3.Row) -> SessionRow:
        session = _row_to(SessionRow, row)
        session.customer = json.loads(self._open_column(row["customer"], CUSTOMER_CONTEXT))
        return session

    def _technician(self, row: sqlite3.Row) -> Technician:
        tech = _row_to(Technician, row, json_fields=_TECH_JSON)
        tech.totp_secret = self._open_column(row["totp_secret"], TOTP_CONTEXT)
        return tech

    def _update(self, table: str, key: str, value: str, changes: dict[str, Any]) -> None:
        allowed = {
            "technicians": Technician,
            "sessions": SessionRow,
        }[table]
        names = {f.name for f in fields(allowed)}
        bad = set(changes) - names
        if bad:
            raise ValueError(f"unknown columns {sorted(bad)}")
        if table == "sessions" and "customer" in changes:
            changes["customer"] = self._seal_column(changes["customer"], CUSTOMER_CONTEXT)
        if table == "technicians" and "totp_secret" in changes:
            changes["totp_secret"] = self._seal_column(changes["totp_secret"], TOTP_CONTEXT)
        values = [json.dumps(v) if isinstance(v, dict | list) else v for v in changes.values()]
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self._exec(f"UPDATE {table} SET {assignments} WHERE {key} = ?", (*values, value))  # noqa: S608

    # groups
    def put_group(self, group: Group) -> None:
        self._exec(
            "INSERT INTO groups(name, permissions, settings) VALUES(?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions, "
            "settings = excluded.settings",
            (group.name, json.dumps(sorted(group.permissions)), json.dumps(group.settings)),
        )

    def get_group(self, name: str) -> Group | None:
        rows = self._exec("SELECT * FROM groups WHERE name = ?", (name,))
        return _row_to(Group, rows[0], json_fields=_GROUP_JSON) if rows else None

    def list_groups(self) -> list[Group]:
        rows = self._exec("SELECT * FROM groups ORDER BY name")
        return [_row_to(Group, r, json_fields=_GROUP_JSON) for r in rows]

    # technicians
    def add_technician(self, tech: Technician) -> None:
        try:
            self._exec(
                "INSERT INTO technicians(email, name, group_name, password_hash, "
                "must_change_password, disabled, created_at) VALUES(?, ?, ?, ?, ?, ?, ?)",
                (
                    tech.email,
                    tech.name,
                    tech.group_name,
                    tech.password_hash,
                    int(tech.must_change_password),
                    int(tech.disabled),
                    tech.created_at,
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"cannot add {tech.email}: {exc}") from None

    def get_technician(self, email: str) -> Technician | None:
        rows = self._exec("SELECT * FROM technicians WHERE email = ?", (email,))
        return self._technician(rows[0]) if rows else None

    def update_technician(self, email: str, **changes: Any) -> None:
        self._update("technicians", "email", email, changes)

    def list_technicians(self) -> list[Technician]:
        return [self._technician(r) for r in self._exec("SELECT * FROM technicians ORDER BY email")]

    # tokens
    def add_token(self, token: AuthToken) -> None:
        self._exec(
            "INSERT INTO auth_tokens(token_hash, email, created_at, expires_at, last_used) "
            "VALUES(?, ?, ?, ?, ?)",
            (token.token_hash, token.email, token.created_at, token.expires_at, token.last_used),
        )

    def get_token(self, token_hash: str) -> AuthToken | None:
        rows = self._exec("SELECT * FROM auth_tokens WHERE token_hash = ?", (token_hash,))
        return _row_to(AuthToken, rows[0]) if rows else None

    def touch_token(self, token_hash: str, now: float) -> None:
        self._exec("UPDATE auth_tokens SET last_used = ? WHERE token_hash = ?", (now, token_hash))

    def delete_tokens(self, email: str) -> None:
        self._exec("DELETE FROM auth_tokens WHERE email = ?", (email,))

    # sessions
    def add_session(self, row: SessionRow) -> None:
        self._exec(
            "INSERT INTO sessions(session_id, nameplate, state, technician, group_name, "
            "queue_technician, queue_group, customer, created_at, expires_at, node) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.session_id,
                row.nameplate,
                row.state,
                row.technician,
                row.group_name,
                row.queue_technician,
                row.queue_group,
                self._seal_column(json.dumps(row.customer), CUSTOMER_CONTEXT),
                row.created_at,
                row.expires_at,
                row.node,
            ),
        )

    def get_session(self, session_id: str) -> SessionRow | None:
        rows = self._exec("SELECT * FROM sessions WHERE session_id = ?", (session_id,))
        return self._session(rows[0]) if rows else None

    def find_by_nameplate(self, nameplate: str) -> SessionRow | None:
        rows = self._exec("SELECT * FROM sessions WHERE nameplate = ?", (nameplate,))
        return self._session(rows[0]) if rows else None

    def update_session(self, session_id: str, **changes: Any) -> None:
        self._update("sessions", "session_id", session_id, changes)

    def delete_session(self, session_id: str) -> None:
        self._exec("DELETE FROM sessions WHERE session_id = ?", (session_id,))

    def list_sessions(self, state: str | None = None) -> list[SessionRow]:
        if state is None:
            rows = self._exec("SELECT * FROM sessions ORDER BY created_at")
        else:
            rows = self._exec(
                "SELECT * FROM sessions WHERE state = ? ORDER BY created_at", (state,)
            )
        return [self._session(r) for r in rows]

    def nameplates_in_use(self) -> set[str]:
        rows = self._exec("SELECT nameplate FROM sessions WHERE nameplate IS NOT NULL")
        return {r["nameplate"] for r in rows}

    # session events
    def add_session_event(self, event: SessionEvent) -> None:
        self._exec(
            "INSERT INTO session_events(session_id, technician, at, kind, detail, group_name, "
            "ip, sealed, key_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.session_id, event.technician, event.at, event.kind, json.dumps(event.detail),
             event.group_name, event.ip, event.sealed, event.key_id),
        )  # fmt: skip

    def list_session_events(self, session_id: str) -> list[SessionEvent]:
        rows = self._exec(
            f"SELECT {_EVENT_COLUMNS} FROM session_events WHERE session_id = ? ORDER BY id",  # noqa: S608
            (session_id,),
        )
        return [_row_to(SessionEvent, r, json_fields=("detail",)) for r in rows]

    def _event_filter(
        self,
        *,
        technician: str | None = None,
        session_id: str | None = None,
        group: str | None = None,
        kinds: list[str] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> tuple[str, tuple[Any, ...]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("technician", technician), ("session_id", session_id),
                              ("group_name", group)):  # fmt: skip
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if kinds:
            clauses.append(f"kind IN ({', '.join('?' * len(kinds))})")
            params.extend(kinds)
        if since is not None:
            clauses.append("at >= ?")
            params.append(since)
        if until is not None:
            clauses.append("at < ?")
            params.append(until)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    def find_events(self, *, limit: int | None = None, **where: Any) -> list[SessionEvent]:
        """Events matching every filter given (``technician``, ``session_id``, ``group``,
        ``kinds``, ``since``, ``until``), oldest first."""
        sql, params = self._event_filter(**where)
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self._exec(
            f"SELECT {_EVENT_COLUMNS} FROM session_events{sql} ORDER BY at, id{tail}",  # noqa: S608
            params,
        )
        return [_row_to(SessionEvent, r, json_fields=("detail",)) for r in rows]

    def delete_events(self, **where: Any) -> int:
        """Deletes the events matching every filter given; returns how many."""
        sql, params = self._event_filter(**where)
        if not sql:
            raise ValueError("refusing to delete every event without a filter")
        with self._lock:
            return self._db.execute(f"DELETE FROM session_events{sql}", params).rowcount  # noqa: S608

    def count_events(self) -> int:
        return int(self._exec("SELECT COUNT(*) AS n FROM session_events")[0]["n"])

    def reseal(self, reseal: Callable[[bytes, bytes], bytes]) -> int:
        """Seals every sealed value again (a data key rotation), in one transaction:
        ``reseal(sealed, context)`` returns the value sealed anew. Returns how many."""
        columns = (
            ("session_events", "sealed", "kind"),
            ("webhook_outbox", "sealed", None),
            ("sessions", "customer", None),
            ("technicians", "totp_secret", None),
        )
        contexts = {"webhook_outbox": WEBHOOK_CONTEXT, "sessions": CUSTOMER_CONTEXT,
                    "technicians": TOTP_CONTEXT}  # fmt: skip
        count = 0
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for table, column, kind in columns:
                    extra = f", {kind}" if kind else ""
                    rows = self._db.execute(
                        f"SELECT rowid AS rid, {column}{extra} FROM {table} "  # noqa: S608
                        f"WHERE typeof({column}) = 'blob'"
                    ).fetchall()
                    for row in rows:
                        context = event_context(row[kind]) if kind else contexts[table]
                        value = reseal(row[column], context)
                        key = (
                            ", key_id = ?" if table in ("session_events", "webhook_outbox") else ""
                        )
                        params = (value, value.partition(b":")[0].decode()) if key else (value,)
                        self._db.execute(
                            f"UPDATE {table} SET {column} = ?{key} WHERE rowid = ?",  # noqa: S608
                            (*params, row["rid"]),
                        )
                        count += 1
                for row in self._db.execute("SELECT name, settings FROM groups").fetchall():
                    settings = json.loads(row["settings"])
                    if isinstance(settings.get("webhook_secret"), str):
                        context = WEBHOOK_SECRET_CONTEXT + row["name"].encode()
                        value = reseal(base64.b64decode(settings["webhook_secret"]), context)
                        settings["webhook_secret"] = base64.b64encode(value).decode()
                        self._db.execute(
                            "UPDATE groups SET settings = ? WHERE name = ?",
                            (json.dumps(settings), row["name"]),
                        )
                        count += 1
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return count

    # webhooks
    def add_webhook(self, delivery: WebhookDelivery) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO webhook_outbox(session_id, group_name, url, sealed, key_id, "
                "created_at, next_at) VALUES(?, ?, ?, ?, ?, ?, ?)",
                (delivery.session_id, delivery.group_name, delivery.url, delivery.sealed,
                 delivery.key_id, delivery.created_at, delivery.next_at),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

    def due_webhooks(self, now: float) -> list[WebhookDelivery]:
        rows = self._exec(
            "SELECT * FROM webhook_outbox WHERE delivered_at IS NULL AND next_at <= ? "
            "ORDER BY next_at",
            (now,),
        )
        return [_row_to(WebhookDelivery, r) for r in rows]

    def list_webhooks(self, *, undelivered: bool = False) -> list[WebhookDelivery]:
        where = " WHERE delivered_at IS NULL" if undelivered else ""
        rows = self._exec(f"SELECT * FROM webhook_outbox{where} ORDER BY id")  # noqa: S608
        return [_row_to(WebhookDelivery, r) for r in rows]

    def update_webhook(self, delivery_id: int, **changes: Any) -> None:
        names = {f.name for f in fields(WebhookDelivery)} - {"id"}
        if set(changes) - names:
            raise ValueError(f"unknown columns {sorted(set(changes) - names)}")
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self._exec(
            f"UPDATE webhook_outbox SET {assignments} WHERE id = ?",  # noqa: S608
            (*changes.values(), delivery_id),
        )

    def delete_webhooks(self, *, session_id: str | None = None, before: float | None = None,
                        group: str | None = None) -> int:  # fmt: skip
        clauses: list[str] = []
        params: list[Any] = []
        if session_id is not None:
            clauses.append("session_id = ?")
            params.append(session_id)
        if before is not None:
            clauses.append("created_at < ?")
            params.append(before)
        if group is not None:
            clauses.append("group_name = ?")
            params.append(group)
        if not clauses:
            raise ValueError("refusing to delete every delivery without a filter")
        with self._lock:
            sql = "DELETE FROM webhook_outbox WHERE " + " AND ".join(clauses)  # noqa: S608
            return self._db.execute(sql, tuple(params)).rowcount

    # backups
    def backup(self, path: Path) -> None:
        """A consistent copy of the whole database at ``path`` (SQLite's online backup:
        the broker keeps running)."""
        target = sqlite3.connect(str(path))
        try:
            with self._lock:
                self._db.backup(target)
        finally:
            target.close()

    # organisation-wide settings (the password policy, …)
    def get_meta(self, key: str) -> str | None:
        rows = self._exec("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._exec(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
