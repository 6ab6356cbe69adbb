"""``lifeline-broker admin`` commands: audit log, data keys, retention, exports, backups.

lifeline-broker admin audit [--technician E] [--session S] [--customer C] [--group G]
                            [--kind K]… [--since WHEN] [--until WHEN] [--limit N] [--json]
lifeline-broker admin group-settings GROUP [--omit-chat yes|no] [--retention-days N]
                                   [--inactivity-minutes N]
lifeline-broker admin purge
lifeline-broker admin set-webhook GROUP URL [--chat] | --remove
lifeline-broker admin webhooks [--all]
lifeline-broker admin export (--technician E | --session S) [-o FILE]
lifeline-broker admin forget (--technician E | --session S) [--yes]
lifeline-broker admin backup FILE
lifeline-broker admin restore FILE [--yes]
lifeline-broker admin rotate-data-key
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from broker.audit import AuditLog, GroupSettings
from broker.data_keys import DataKeys
from broker.permissions import MAX_INACTIVITY_TIMEOUT, inactivity_timeout
from broker.storage import SqliteStorage
from broker.webhook import Webhooks

COMMANDS = (
    "audit", "group-settings", "purge", "set-webhook", "webhooks", "export", "forget",
    "backup", "restore", "rotate-data-key",
)  # fmt: skip


def _when(text: str) -> float:
    """``2026-11-23``, ``2026-11-23 14:30`` or ISO 8601, local time unless it says."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write 2026-11-23 or 2026-11-23 14:30"
        ) from None


def _yes_no(text: str) -> bool:
    if text.lower() in ("yes", "y", "true", "on", "1"):
        return True
    if text.lower() in ("no", "n", "false", "off", "0"):
        return False
    raise argparse.ArgumentTypeError("answer yes or no")


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < 0:
        raise argparse.ArgumentTypeError("a number of days, 0 to keep rows for ever")
    return days


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError:
        minutes = -1
    if not 0 <= minutes * 60 <= MAX_INACTIVITY_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"a number of minutes up to {MAX_INACTIVITY_TIMEOUT // 60}, 0 for the applet's own"
        )
    return minutes


def _who(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--technician", metavar="EMAIL", help="a technician's account")
    who.add_argument("--session", metavar="ID", help="one session")


def add_commands(sub: Any) -> None:
    a = sub.add_parser(
        "audit",
        help="query the audit log",
        description="Session events and the broker's own (sign-ins, lockouts, code claims, "
        "disconnects), oldest first, with sealed text opened. Filters combine.",
    )
    a.add_argument("--technician", metavar="EMAIL")
    a.add_argument("--session", metavar="ID")
    a.add_argument("--customer", metavar="TEXT", help="part of the customer's name or host")
    a.add_argument("--group", metavar="NAME")
    a.add_argument(
        "--kind", action="append", metavar="KIND",
        help="chat, permission, session_start, login_failed, … (repeatable)",
    )  # fmt: skip
    a.add_argument("--since", type=_when, metavar="WHEN", help="from this date/time")
    a.add_argument("--until", type=_when, metavar="WHEN", help="before this date/time")
    a.add_argument("--limit", type=int, metavar="N", help="at most N events")
    a.add_argument("--json", action="store_true", help="one JSON array instead of a table")

    g = sub.add_parser(
        "group-settings",
        help="show or change a group's audit and session settings",
        description="Without options, shows the group's settings. --omit-chat yes stores no "
        "chat text for the group's sessions from now on; --retention-days N has the hourly "
        "purge delete the group's rows older than N days (0: keep for ever); "
        "--inactivity-minutes N has the customer's applet end the group's new sessions after "
        "N minutes without activity (0: the applet's own 15 minutes).",
    )
    g.add_argument("group")
    g.add_argument("--omit-chat", type=_yes_no, metavar="yes|no")
    g.add_argument("--retention-days", type=_days, metavar="N")
    g.add_argument("--inactivity-minutes", type=_minutes, metavar="N")

    sub.add_parser(
        "purge",
        help="apply every group's retention now",
        description="Deletes audit rows older than each group's retention-days and says how "
        "many. The running broker does this every hour by itself.",
    )

    w = sub.add_parser(
        "set-webhook",
        help="post session details to a URL when a session ends",
        description="At each session's end the broker POSTs its details as JSON to URL, "
        "signed with HMAC-SHA256 in the X-Lifeline-Signature header. The signing secret is "
        "printed once: give it to the receiving system.",
    )
    w.add_argument("group")
    w.add_argument("url", nargs="?", help="https://… (omit with --remove)")
    w.add_argument("--chat", action="store_true", help="include chat text (unless omitted)")
    w.add_argument("--remove", action="store_true", help="stop posting for this group")

    h = sub.add_parser(
        "webhooks",
        help="list webhook deliveries that failed or wait",
        description="Deliveries not yet accepted by their URL, with attempts and last error.",
    )
    h.add_argument("--all", action="store_true", help="delivered ones too")

    e = sub.add_parser(
        "export",
        help="everything stored about a technician or a session (JSON)",
        description="For data access requests: the account and every event, text opened.",
    )
    _who(e)
    e.add_argument("-o", "--output", type=Path, metavar="FILE", help="write there, not stdout")

    f = sub.add_parser(
        "forget",
        help="delete everything stored about a technician's sessions or one session",
        description="For erasure requests: deletes the events (and pending webhook posts) of "
        "the technician's sessions, or of one session, and says how many. Other technicians' "
        "sessions stay. The account itself stays: disable it with 'disable'.",
    )
    _who(f)
    f.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    b = sub.add_parser(
        "backup",
        help="copy the database while the broker runs",
        description="A consistent copy through SQLite's online backup. The data key is not "
        "in it: keep the key file (or LIFELINE_DATA_KEY) safe separately.",
    )
    b.add_argument("file", type=Path)

    r = sub.add_parser(
        "restore",
        help="put a backup in place (stop the broker first)",
        description="Checks that FILE is a Lifeline broker database, then replaces the "
        "data folder's database with it. The broker must not be running.",
    )
    r.add_argument("file", type=Path)
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    sub.add_parser(
        "rotate-data-key",
        help="seal all stored text with a new data key",
        description="Makes a new data key, seals every stored value again with it and "
        "forgets the old key (the key file is rewritten). Run it with the broker stopped.",
    )


def run(args: argparse.Namespace, storage: SqliteStorage, accounts: Any) -> int | None:
    if args.action not in COMMANDS:
        return None
    keys = storage.keys
    assert isinstance(keys, DataKeys)
    audit = AuditLog(storage, keys)
    if args.action == "audit":
        rows = audit.query(
            technician=args.technician, session_id=args.session, customer=args.customer,
            group=args.group, kinds=args.kind, since=args.since, until=args.until,
            limit=args.limit,
        )  # fmt: skip
        if args.json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
        else:
            _table(rows)
    elif args.action == "group-settings":
        _group_settings(storage, args)
    elif args.action == "purge":
        counts = audit.purge()
        if not counts:
            print("no group has a retention limit; nothing deleted")
        for group, n in counts.items():
            print(f"group {group}: {n} row(s) deleted")
    elif args.action == "set-webhook":
        webhooks = Webhooks(storage, audit, ())
        if args.remove:
            webhooks.configure(args.group, None)
            print(f"group {args.group}: no webhook")
        elif not args.url:
            raise ValueError("give the URL, or --remove")
        else:
            secret = webhooks.configure(args.group, args.url, chat=args.chat)
            assert secret is not None
            print(f"group {args.group}: session details go to {args.url}"
                  f" ({'with' if args.chat else 'without'} chat text)")  # fmt: skip
            print(f"signing secret (shown once): {secret.decode()}")
    elif args.action == "webhooks":
        _webhooks(storage, show_all=args.all)
    elif args.action == "export":
        data = audit.export(technician=args.technician, session_id=args.session)
        text = json.dumps(data, indent=2, ensure_ascii=False)
        if args.output:
            args.output.write_text(text + "\n")
            print(f"{len(data['events'])} event(s) written to {args.output}")
        else:
            print(text)
    elif args.action == "forget":
        who = f"technician {args.technician}" if args.technician else f"session {args.session}"
        if not args.yes and not _confirm(f"Delete everything stored about {who}?"):
            print("nothing deleted")
            return 1
        counts = audit.forget(technician=args.technician, session_id=args.session)
        print(f"{who}: {counts['events']} event(s) of {counts['sessions']} session(s) and "
              f"{counts['webhook_deliveries']} webhook delivery(ies) deleted")  # fmt: skip
    elif args.action == "backup":
        storage.backup(args.file)
        print(f"backup written to {args.file} ({args.file.stat().st_size // 1024} KiB); "
              "keep the data key safe separately")  # fmt: skip
    elif args.action == "restore":
        return _restore(storage, args)
    elif args.action == "rotate-data-key":
        key_id, count = audit.rotate_key()
        print(f"new data key {key_id}; {count} stored value(s) sealed again")
    return 0


def _table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("no events")
        return
    for row in rows:
        detail = " ".join(f"{k}={v}" for k, v in row["detail"].items())
        who = row["technician"] or "-"
        session = row["session"][:8] or "-"
        print(f"{row['time']}  {row['kind']:15} {who:28} {session:8} {row['ip'] or '-':15} "
              f"{detail}")  # fmt: skip


def _group_settings(storage: SqliteStorage, args: argparse.Namespace) -> None:
    group = storage.get_group(args.group)
    if group is None:
        raise ValueError(f"there is no group named {args.group!r}")
    if args.omit_chat is not None:
        group.settings["omit_chat"] = args.omit_chat
    if args.retention_days is not None:
        group.settings["retention_days"] = args.retention_days
    if args.inactivity_minutes == 0:
        group.settings.pop("inactivity_timeout", None)
    elif args.inactivity_minutes is not None:
        group.settings["inactivity_timeout"] = args.inactivity_minutes * 60
    if (args.omit_chat, args.retention_days, args.inactivity_minutes) != (None, None, None):
        storage.put_group(group)
    settings = GroupSettings.of(group.settings)
    days = f"{settings.retention_days} days" if settings.retention_days else "for ever"
    idle = inactivity_timeout(group.settings)
    ends = f"{idle / 60:g} minutes" if idle else "the applet's own 15 minutes"
    print(f"group {group.name}: chat text {'not stored' if settings.omit_chat else 'stored'}; "
          f"rows kept {days}; webhook {group.settings.get('webhook_url') or 'none'}; "
          f"sessions end after {ends} without activity")  # fmt: skip


def _webhooks(storage: SqliteStorage, *, show_all: bool) -> None:
    deliveries = storage.list_webhooks(undelivered=not show_all)
    if not deliveries:
        print("no deliveries waiting or failed" if not show_all else "no deliveries")
        return
    for d in deliveries:
        if d.delivered_at is not None:
            state = "delivered " + time.strftime("%Y-%m-%d %H:%M", time.localtime(d.delivered_at))
        elif d.next_at == float("inf"):
            state = "given up"
        else:
            state = "next try " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(d.next_at))
        print(f"#{d.id} session {d.session_id[:8]} group {d.group_name} → {d.url}: "
              f"{d.attempts} attempt(s), {state}"
              + (f"; last error: {d.last_error}" if d.last_error else ""))  # fmt: skip


def _restore(storage: SqliteStorage, args: argparse.Namespace) -> int:
    source: Path = args.file
    try:
        check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master")}
            ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            check.close()
    except sqlite3.Error as exc:
        raise ValueError(f"{source} is not a database: {exc}") from None
    if not ok or not {"meta", "technicians", "session_events"} <= tables:
        raise ValueError(f"{source} is not a Lifeline broker database (or it is damaged)")
    target = storage.path
    if not args.yes and not _confirm(f"Replace {target} with {source}?"):
        print("nothing restored")
        return 1
    storage.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    print(f"{target} restored from {source}")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise ValueError(f"{question} Add --yes to confirm when not asked interactively.")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
