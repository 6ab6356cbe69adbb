"""The broker's audit log: what sessions and sign-ins leave behind, sealed at rest,
queried, exported and forgotten, purged, backed up and restored, posted to a webhook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from broker.app import Broker, open_storage
from broker.audit import AuditLog
from broker.cli import main as broker_main
from broker.cli_audit import _webhooks as show_webhooks
from broker.config import BrokerConfig
from broker.data_keys import DataKeyError, DataKeys
from broker.records import Group
from broker.storage import SqliteStorage
from common.errors import AuthenticationError
from common.transport import BrokerClient, Login, PeerSession
from tests.conftest import Tech, address, make_config, paired_sessions, seed

SECRET_TEXT = "my password is hunter2"


def raw_database(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("broker.sqlite3*")))


async def chat_session(
    broker: Broker, client: BrokerClient, login: Login, *, text: str = SECRET_TEXT
) -> str:
    """A session where the console reports a chat line and a note, then ends it."""
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        session_id = console.session_id
        assert session_id is not None
        console.log_event("chat", by="customer", text=text)
        console.log_event("note", text="Customer Bob Smith, invoice 4471")
        console.log_event("permission", action="view_screen", state="asked")
        await console.end()
        await console.close()
        await applet.close()
    async with asyncio.timeout(5):
        while not broker.storage.find_events(session_id=session_id, kinds=["session_end"]):
            await asyncio.sleep(0.02)
    return session_id


async def test_a_session_leaves_rows_with_no_plaintext_in_the_file(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    session_id = await chat_session(broker, client, login)
    rows = broker.audit.query(session_id=session_id)
    assert [r["kind"] for r in rows] == [
        "code_claim", "session_start", "chat", "note", "permission", "session_end",
    ]  # fmt: skip
    assert rows[2]["detail"] == {"by": "customer", "text": SECRET_TEXT}
    assert rows[1]["detail"] == {"name": "Bob", "host": "bob-pc"}
    assert {r["technician"] for r in rows} == {"alice@example.test"}
    assert {r["group"] for r in rows} == {"Support"}
    assert rows[0]["ip"] == "127.0.0.1"
    raw = raw_database(broker.config.data_dir)
    for secret in (SECRET_TEXT, "Bob Smith", "bob-pc", "invoice"):
        assert secret.encode() not in raw, secret
    # The clear columns still answer questions without the key.
    db = sqlite3.connect(broker.config.data_dir / "broker.sqlite3")
    kinds = [
        r[0]
        for r in db.execute(
            "SELECT kind FROM session_events WHERE session_id = ? ORDER BY id", (session_id,)
        )
    ]
    db.close()  # fmt: skip
    assert "chat" in kinds


async def test_a_group_that_omits_chat_stores_none(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    group = broker.storage.get_group("Support")
    assert group is not None
    group.settings["omit_chat"] = True
    broker.storage.put_group(group)
    session_id = await chat_session(broker, client, login)
    [chat] = broker.audit.query(session_id=session_id, kinds=["chat"])
    assert chat["detail"] == {"by": "customer", "omitted": "1"}
    [event] = broker.storage.find_events(session_id=session_id, kinds=["chat"])
    assert event.sealed is None  # not even sealed: gone
    assert SECRET_TEXT.encode() not in raw_database(broker.config.data_dir)


async def test_sign_ins_lockouts_and_claims_are_logged_with_addresses(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    await client.login(tech.email, tech.password)
    for _ in range(broker.config.lockout_failures):
        with pytest.raises(AuthenticationError):
            await client.login(tech.email, "wrong password 1")
    async with BrokerClient(address(broker)) as applet_client:
        with pytest.raises(Exception, match="code"):
            await PeerSession.claim(applet_client, "1234567890", {"name": "Eve"})
    rows = broker.audit.query(kinds=["login_ok", "login_failed", "lockout", "code_claim"])
    kinds = [r["kind"] for r in rows]
    assert kinds[0] == "login_ok" and kinds.count("login_failed") == 5
    assert "lockout" in kinds and kinds[-1] == "code_claim"
    assert rows[-1]["detail"] == {"result": "unknown code"}
    assert all(r["ip"] == "127.0.0.1" for r in rows)
    assert rows[1]["detail"]["reason"] == "auth_failed"


async def test_query_by_technician_customer_dates_and_kind(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    first = await chat_session(broker, client, login)
    middle = time.time()
    await asyncio.sleep(0.05)
    second = await chat_session(broker, client, login, text="second")
    audit = broker.audit
    assert {r["session"] for r in audit.query(customer="BOB-PC")} == {first, second}
    assert audit.query(customer="nobody") == []
    later = audit.query(since=middle, kinds=["chat"])
    assert [r["detail"]["text"] for r in later] == ["second"]
    assert audit.query(until=middle, kinds=["chat"])[0]["session"] == first
    assert len(audit.query(technician="alice@example.test", kinds=["note"])) == 2
    assert audit.query(technician="nobody@example.test") == []


async def test_export_and_forget_a_technician_leaves_other_sessions(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    mine = await chat_session(broker, client, login)
    other = seed(broker, "bea@example.test", "Bea")
    other_login = await client.login(other.email, other.password)
    theirs = await chat_session(broker, client, other_login, text="bea's chat")
    exported = broker.audit.export(technician="alice@example.test")
    assert exported["technician"]["email"] == "alice@example.test"
    assert {e["session"] for e in exported["events"] if e["session"]} == {mine}
    assert any(e["detail"].get("text") == SECRET_TEXT for e in exported["events"])
    counts = broker.audit.forget(technician="alice@example.test")
    assert counts["sessions"] == 1 and counts["events"] >= 6
    assert broker.audit.query(session_id=mine) == []
    assert broker.audit.query(technician="alice@example.test") == []
    chats = broker.audit.query(session_id=theirs, kinds=["chat"])
    assert [r["detail"]["text"] for r in chats] == ["bea's chat"]
    assert broker.audit.forget(session_id=theirs)["events"] >= 6
    assert broker.audit.query(session_id=theirs) == []


async def test_retention_purges_old_rows_and_says_how_many(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    session_id = await chat_session(broker, client, login)
    group = broker.storage.get_group("Support")
    assert group is not None
    group.settings["retention_days"] = 30
    broker.storage.put_group(group)
    count = len(broker.audit.query(group="Support"))
    assert broker.audit.purge(now=time.time() + 29 * 86400) == {"Support": 0}
    assert broker.audit.purge(now=time.time() + 31 * 86400) == {"Support": count}
    assert broker.audit.query(session_id=session_id) == []


def test_the_data_key_file_is_private_and_checked(tmp_path: Path) -> None:
    keys = DataKeys.load(tmp_path)
    path = tmp_path / "data-key.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert DataKeys.load(tmp_path).key == keys.key
    os.chmod(path, 0o644)
    with pytest.raises(DataKeyError, match="chmod 600"):
        DataKeys.load(tmp_path)
    env_key = os.urandom(32)
    import base64

    from_env = DataKeys.load(
        tmp_path / "x", env={"LIFELINE_DATA_KEY": base64.b64encode(env_key).decode()}
    )
    assert from_env.key == env_key and from_env.path is None
    assert not (tmp_path / "x").exists()  # nothing written when the key comes from outside
    with pytest.raises(DataKeyError, match="32 bytes"):
        DataKeys.load(tmp_path, env={"LIFELINE_DATA_KEY": "c2hvcnQ="})


def test_without_the_key_the_text_stays_sealed(tmp_path: Path) -> None:
    storage = open_storage(tmp_path)
    audit = AuditLog(storage, storage.keys)  # type: ignore[arg-type]
    audit.record("chat", session_id="s", technician="t", detail={"by": "customer", "text": "x"})
    storage.close()
    (tmp_path / "data-key.json").rename(tmp_path / "lost.json")
    storage = open_storage(tmp_path)  # a new key is made: the old rows cannot be read
    audit = AuditLog(storage, storage.keys)  # type: ignore[arg-type]
    [row] = audit.query(session_id="s")
    assert "text" not in row["detail"] and "cannot be opened" in row["detail"]["sealed"]
    storage.close()


async def test_rotating_the_key_seals_everything_again(
    broker_config: BrokerConfig, tmp_path: Path
) -> None:
    storage = open_storage(broker_config.data_dir)
    keys = storage.keys
    assert isinstance(keys, DataKeys)
    audit = AuditLog(storage, keys)
    storage.put_group(Group("G", []))
    audit.record("chat", session_id="s", group="G", detail={"by": "customer", "text": "hi"})
    audit.record("session_start", session_id="s", group="G", detail={"name": "Bob"})
    old = keys.current
    new, count = audit.rotate_key()
    assert new != old and count == 2 and list(keys.keys) == [new]
    assert [r["detail"] for r in audit.query(session_id="s")] == [
        {"by": "customer", "text": "hi"}, {"name": "Bob"},
    ]  # fmt: skip
    storage.close()
    reread = DataKeys.load(broker_config.data_dir)
    assert reread.current == new and old not in reread.keys


def test_backup_and_restore_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "b"
    assert broker_main(["--data", str(data), "admin", "add-group", "G"]) == 0
    storage = open_storage(data)
    audit = AuditLog(storage, storage.keys)  # type: ignore[arg-type]
    audit.record("note", session_id="s1", group="G", detail={"text": "before the backup"})
    storage.close()
    backup = tmp_path / "backup.sqlite3"
    assert broker_main(["--data", str(data), "admin", "backup", str(backup)]) == 0
    storage = open_storage(data)
    AuditLog(storage, storage.keys).forget(session_id="s1")  # type: ignore[arg-type]
    storage.close()
    assert broker_main(["--data", str(data), "admin", "restore", str(backup), "--yes"]) == 0
    storage = open_storage(data)
    rows = AuditLog(storage, storage.keys).query(session_id="s1")  # type: ignore[arg-type]
    storage.close()
    assert [r["detail"]["text"] for r in rows] == ["before the backup"]
    (tmp_path / "junk").write_bytes(b"not a database")
    assert (
        broker_main(["--data", str(data), "admin", "restore", str(tmp_path / "junk"), "--yes"]) == 2
    )
    assert "not a" in capsys.readouterr().err


def test_the_admin_cli_queries_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "b"
    assert broker_main(["--data", str(data), "admin", "add-group", "G"]) == 0
    storage = open_storage(data)
    audit = AuditLog(storage, storage.keys)  # type: ignore[arg-type]
    audit.record("session_start", session_id="s1", technician="ann@x", group="G",
                 detail={"name": "Bob", "host": "bob-pc"})  # fmt: skip
    audit.record("chat", session_id="s1", technician="ann@x", group="G",
                 detail={"by": "customer", "text": "hello there"})  # fmt: skip
    storage.close()
    capsys.readouterr()
    assert broker_main(["--data", str(data), "admin", "audit", "--customer", "bob", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["kind"] for r in rows] == ["session_start", "chat"]
    assert broker_main(["--data", str(data), "admin", "audit", "--kind", "chat"]) == 0
    assert "text=hello there" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        broker_main(["--data", str(data), "admin", "audit", "--since", "yesterday"])
    assert "not a date" in capsys.readouterr().err
    assert broker_main(["--data", str(data), "admin", "group-settings", "G", "--omit-chat",
                        "yes", "--retention-days", "90"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "chat text not stored; rows kept 90 days" in out
    assert "sessions end after the applet's own 15 minutes without activity" in out
    assert broker_main(["--data", str(data), "admin", "group-settings", "G",
                        "--inactivity-minutes", "30"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "rows kept 90 days" in out and "sessions end after 30 minutes without" in out
    for bad in ("-1", "1441", "soon"):
        with pytest.raises(SystemExit):
            broker_main(["--data", str(data), "admin", "group-settings", "G",
                         "--inactivity-minutes", bad])  # fmt: skip
        assert "a number of minutes up to 1440" in capsys.readouterr().err
    assert broker_main(["--data", str(data), "admin", "group-settings", "G",
                        "--inactivity-minutes", "0"]) == 0  # fmt: skip
    assert "the applet's own 15 minutes" in capsys.readouterr().out
    assert broker_main(["--data", str(data), "admin", "export", "--session", "s1"]) == 0
    assert json.loads(capsys.readouterr().out)["events"][1]["detail"]["text"] == "hello there"
    assert broker_main(["--data", str(data), "admin", "forget", "--session", "s1", "--yes"]) == 0
    assert "2 event(s) of 1 session(s)" in capsys.readouterr().out
    assert broker_main(["--data", str(data), "admin", "rotate-data-key"]) == 0
    assert "new data key" in capsys.readouterr().out


# ---- the webhook -------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]], list[int]]]:
    """A local HTTP server that answers with the statuses in ``answers`` (then 200)."""
    received: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", received, answers
    await runner.cleanup()


@pytest.fixture
def broker_config(tmp_path: Path) -> BrokerConfig:
    config = make_config(tmp_path / "broker")
    config.webhook_backoff = (0.2, 0.4)
    return config


async def test_the_webhook_is_signed_retried_and_keeps_chat_out(
    broker: Broker,
    client: BrokerClient,
    login: Login,
    receiver: tuple[str, list[tuple[dict[str, str], bytes]], list[int]],
) -> None:
    url, received, answers = receiver
    secret = broker.hub.webhooks.configure("Support", url)
    assert secret is not None
    assert secret not in raw_database(broker.config.data_dir)  # stored sealed
    answers.append(500)
    session_id = await chat_session(broker, client, login)
    async with asyncio.timeout(10):
        while len(received) < 2:
            await asyncio.sleep(0.05)
    (first_headers, first), (headers, body) = received
    assert first == body  # the same delivery, retried after the 500
    assert first_headers["X-Lifeline-Delivery"] == headers["X-Lifeline-Delivery"]
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Lifeline-Signature"], expected)
    details: dict[str, Any] = json.loads(body)
    assert details["session_id"] == session_id and details["technician"] == "alice@example.test"
    assert details["customer"] == {"name": "Bob", "host": "bob-pc"}
    assert details["end_reason"] == "ended" and not details["chat_included"]
    assert SECRET_TEXT not in body.decode()
    chat = next(e for e in details["events"] if e["kind"] == "chat")
    assert chat["detail"] == {"by": "customer"}
    async with asyncio.timeout(5):
        while broker.storage.list_webhooks(undelivered=True):
            await asyncio.sleep(0.05)
    [delivery] = broker.storage.list_webhooks()
    assert delivery.attempts == 2 and delivery.delivered_at is not None


async def test_a_failing_webhook_never_blocks_and_shows_in_the_cli(
    broker: Broker,
    client: BrokerClient,
    login: Login,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broker.hub.webhooks.configure("Support", "http://127.0.0.1:9/nothing-listens", chat=True)
    started = time.monotonic()
    await chat_session(broker, client, login)
    assert time.monotonic() - started < 5  # the session ended without waiting for it
    async with asyncio.timeout(10):
        while not any(d.last_error for d in broker.storage.list_webhooks()):
            await asyncio.sleep(0.05)
    assert isinstance(broker.storage, SqliteStorage)
    show_webhooks(broker.storage, show_all=False)
    out = capsys.readouterr().out
    assert "nothing-listens" in out and "attempt" in out and "last error" in out
