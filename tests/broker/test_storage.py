from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from broker.records import AuthToken, Group, SessionRow, Technician
from broker.storage import SqliteStorage


def test_storage_round_trips_and_refuses_unknown_columns(tmp_path: Path) -> None:
    db = SqliteStorage(tmp_path / "s.sqlite3")
    db.put_group(Group("G", ["system_info", "desktop_view"]))
    assert db.get_group("G") == Group("G", ["desktop_view", "system_info"])
    db.add_technician(Technician("a@x", "A", "G", "hash", 1.0))
    with pytest.raises(ValueError):
        db.add_technician(Technician("a@x", "A", "G", "hash", 1.0))
    with pytest.raises(ValueError):
        db.add_technician(Technician("b@x", "B", "no-such-group", "hash", 1.0))
    db.update_technician("a@x", failed_logins=3, disabled=1)
    tech = db.get_technician("a@x")
    assert tech is not None and tech.failed_logins == 3 and tech.disabled is True
    with pytest.raises(ValueError):
        db.update_technician("a@x", **{"password_hash = 'x' --": 1})
    db.add_token(AuthToken("h", "a@x", 1.0, 2.0, 1.0))
    db.touch_token("h", 1.5)
    token = db.get_token("h")
    assert token is not None and token.last_used == 1.5
    db.add_session(SessionRow("s1", "waiting", 1.0, 2.0, nameplate="123", customer={"name": "Bob"}))
    db.update_session("s1", state="paired", resume_key_applet=b"k" * 32)
    row = db.find_by_nameplate("123")
    assert row is not None and row.state == "paired" and row.customer == {"name": "Bob"}
    assert row.resume_key_applet == b"k" * 32
    assert db.nameplates_in_use() == {"123"}
    assert [r.session_id for r in db.list_sessions("paired")] == ["s1"]
    db.delete_session("s1")
    assert db.get_session("s1") is None
    db.close()
    # The file persists across opens (a broker restart).
    again = SqliteStorage(tmp_path / "s.sqlite3")
    assert again.get_technician("a@x") is not None
    again.close()


def test_a_version_1_database_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES('schema_version', '1');
        CREATE TABLE groups (name TEXT PRIMARY KEY, permissions TEXT NOT NULL);
        INSERT INTO groups VALUES('Support', '["remote_control"]');
        CREATE TABLE session_events (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL,
            technician TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}');
        INSERT INTO session_events(session_id, technician, at, kind, detail)
            VALUES('s1', 'a@example.test', 1.0, 'note', '{"text": "old"}');
        """
    )
    old.close()
    storage = SqliteStorage(path)
    try:
        group = storage.get_group("Support")
        assert group is not None and group.settings == {}
        [event] = storage.list_session_events("s1")
        assert (event.kind, event.detail, event.sealed, event.group_name) == (
            "note", {"text": "old"}, None, ""
        )  # fmt: skip
        rows = storage._exec("SELECT value FROM meta WHERE key = 'schema_version'")
        assert rows[0]["value"] == "2"
    finally:
        storage.close()
