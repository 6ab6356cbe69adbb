"""The broker database's tables (portable SQL: SQLite here, PostgreSQL when several
broker nodes share one database, docs/scaling.md) and the columns added since version 1,
which :class:`~broker.storage.SqliteStorage` adds to an older database when it opens it.
"""

from __future__ import annotations

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
    name TEXT PRIMARY KEY,
    permissions TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS technicians (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    group_name TEXT NOT NULL REFERENCES groups(name),
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    totp_secret TEXT,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    allowed_networks TEXT NOT NULL DEFAULT '[]',
    password_changed_at DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS auth_tokens (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES technicians(email),
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    last_used DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    nameplate TEXT UNIQUE,
    state TEXT NOT NULL,
    technician TEXT,
    group_name TEXT,
    queue_technician TEXT,
    queue_group TEXT,
    customer TEXT NOT NULL DEFAULT '{}',
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    paired_at DOUBLE PRECISION,
    policy BLOB,
    resume_key_console BLOB,
    resume_key_applet BLOB,
    node TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sessions_state ON sessions(state);
CREATE TABLE IF NOT EXISTS session_events (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    technician TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    group_name TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    sealed BLOB,
    key_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS session_events_session ON session_events(session_id, id);
CREATE INDEX IF NOT EXISTS session_events_at ON session_events(at);
CREATE INDEX IF NOT EXISTS session_events_technician ON session_events(technician, at);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    url TEXT NOT NULL,
    sealed BLOB NOT NULL,
    key_id TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at DOUBLE PRECISION NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at DOUBLE PRECISION
);
"""

#: Columns added since schema version 1: (table, column, definition).
ADDED_COLUMNS = (
    ("groups", "settings", "TEXT NOT NULL DEFAULT '{}'"),
    ("technicians", "allowed_networks", "TEXT NOT NULL DEFAULT '[]'"),
    ("technicians", "password_changed_at", "DOUBLE PRECISION NOT NULL DEFAULT 0"),
    ("session_events", "group_name", "TEXT NOT NULL DEFAULT ''"),
    ("session_events", "ip", "TEXT NOT NULL DEFAULT ''"),
    ("session_events", "sealed", "BLOB"),
    ("session_events", "key_id", "TEXT NOT NULL DEFAULT ''"),
)
