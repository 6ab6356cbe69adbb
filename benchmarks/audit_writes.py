"""The audit log's writes in this process: what one event costs through
:meth:`broker.audit.AuditLog.record`, against the same rows unsealed and a bare INSERT.

Every path writes into its own database, made by :class:`~broker.storage.SqliteStorage`
(the broker's schema and indexes, WAL) in a folder on the same file system as the
broker's data. The broker itself commits every row on its own (``isolation_level=None``)
with SQLite's default ``synchronous=FULL``, so a row waits for an fsync of the WAL; the
``what if`` paths change only that, from outside, to show what a change would buy.

:func:`populate` fills a broker's data folder with many ended sessions, sealed by the
real :class:`~broker.audit.AuditLog` and written in large transactions.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from broker.audit import AuditLog
from broker.data_keys import KEY_FILE, DataKeys
from broker.records import Group, SessionEvent, Storage
from broker.storage import SqliteStorage

GROUP = "Support"
TECHNICIAN = "bench@example.test"
DATABASE = "broker.sqlite3"  # the name broker.app.open_storage uses

#: What a console reports in one session, in order (docs/protocol.md §3.4): three chat
#: lines and a file name are sealed, the permission and control events stay clear.
SESSION_EVENTS: list[tuple[str, dict[str, str]]] = [
    ("permission", {"action": "view_screen", "state": "asked"}),
    ("permission", {"action": "view_screen", "state": "granted"}),
    ("chat", {"by": "technician", "text": "Hello Bob, I can see your screen. Which program?"}),
    ("chat", {"by": "customer", "text": "Outlook: the invoices have not printed since Monday."}),
    ("control_start", {}),
    (
        "file_transfer",
        {
            "direction": "upload",
            "name": "printer-driver-x64.exe",
            "size": "18734592",
            "md5": "9e107d9d372bb6826bd81d3542a419d6",
            "sha256": "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
        },
    ),
    ("chat", {"by": "technician", "text": "Installed. Try printing one now, please."}),
]
CUSTOMER = {"name": "Bob Smith", "host": "bob-pc", "os": "Windows 11"}

RECORD, STORAGE, BARE = "AuditLog.record", "storage.add_session_event", "bare sqlite3 INSERT"


@dataclass(frozen=True)
class WritePath:
    """One way of writing the same events."""

    writer: str
    #: SQLite's ``synchronous`` for the connection: FULL is what the broker uses.
    synchronous: str = "FULL"
    #: Rows per transaction; 1: each statement commits on its own, as in the broker.
    per_commit: int = 1

    @property
    def name(self) -> str:
        commit = "autocommit" if self.per_commit == 1 else f"{self.per_commit} per commit"
        return f"{self.writer} [{self.synchronous}, {commit}]"

    @property
    def fsync_per_row(self) -> bool:
        return self.synchronous == "FULL" and self.per_commit == 1


#: The broker's way and its two references first, then what-ifs.
PATHS = (
    WritePath(RECORD),
    WritePath(STORAGE),
    WritePath(BARE),
    WritePath(RECORD, synchronous="NORMAL"),
    WritePath(BARE, synchronous="NORMAL"),
    WritePath(RECORD, per_commit=100),
)


@dataclass
class WriteSample:
    path: WritePath
    events: int
    wall: float
    cpu: float


def events(count: int) -> Iterator[tuple[str, dict[str, str]]]:
    """``count`` console events, cycling through one session's."""
    for i in range(count):
        yield SESSION_EVENTS[i % len(SESSION_EVENTS)]


def new_storage(folder: Path) -> tuple[SqliteStorage, DataKeys]:
    """A broker database and data key in ``folder``, with the group the events name."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = DataKeys.create(folder / KEY_FILE)
    storage = SqliteStorage(folder / DATABASE, keys)
    storage.put_group(Group(GROUP, ["view_screen"]))
    return storage, keys


class _Writer:
    """Writes events along one :class:`WritePath` into its own database."""

    def __init__(self, path: WritePath, folder: Path) -> None:
        self.path = path
        self.storage, keys = new_storage(folder)
        self.audit = AuditLog(self.storage, keys)
        self.bare: sqlite3.Connection | None = None
        # The storage's own connection (or a bare one), so that PRAGMAs and
        # transactions apply to the statements being timed.
        db: sqlite3.Connection = self.storage._db
        if path.writer == BARE:
            self.bare = db = sqlite3.connect(folder / DATABASE, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={path.synchronous}")
        self.db = db
        self.session_id = uuid.uuid4().hex

    def prepared(self, count: int) -> list[Callable[[], None]]:
        """One call per event; what the broker has at hand when an event arrives (the
        kind and detail) is made ahead, so only the writing is timed."""
        calls: list[Callable[[], None]] = []
        sid = self.session_id
        for kind, detail in events(count):
            if self.path.writer == RECORD:
                calls.append(functools.partial(self._record, kind, detail))
            elif self.path.writer == STORAGE:
                calls.append(functools.partial(self._add, kind, detail))
            else:
                row = (sid, TECHNICIAN, 0.0, kind, json.dumps(detail), GROUP, "", None, "")
                calls.append(functools.partial(self._bare_insert, row))
        return calls

    def _record(self, kind: str, detail: dict[str, str]) -> None:
        self.audit.record(
            kind, session_id=self.session_id, technician=TECHNICIAN, group=GROUP, detail=detail
        )

    def _add(self, kind: str, detail: dict[str, str]) -> None:
        self.storage.add_session_event(
            SessionEvent(self.session_id, TECHNICIAN, time.time(), kind, detail, group_name=GROUP)
        )

    def _bare_insert(self, row: tuple[Any, ...]) -> None:
        assert self.bare is not None
        self.bare.execute(
            "INSERT INTO session_events(session_id, technician, at, kind, detail, "
            "group_name, ip, sealed, key_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )

    def measure(self, count: int) -> WriteSample:
        calls = self.prepared(count)
        per = self.path.per_commit
        cpu0, t0 = time.process_time(), time.perf_counter()
        for start in range(0, count, per):
            if per > 1:
                self.db.execute("BEGIN")
            for call in calls[start : start + per]:
                call()
            if per > 1:
                self.db.execute("COMMIT")
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return WriteSample(self.path, count, wall, cpu)

    def close(self) -> None:
        if self.bare is not None:
            self.bare.close()
        self.storage.close()


def measure_writes(
    folder: Path, *, slow_events: int, fast_events: int, repetitions: int
) -> list[WriteSample]:
    """Every path, interleaved ``repetitions`` times; a path that fsyncs every row
    writes ``slow_events`` per case, the others ``fast_events``."""
    writers = [_Writer(p, folder / f"writes-{i}") for i, p in enumerate(PATHS)]
    try:
        for w in writers:  # warm-up: the file's first pages, the AES key, the lookups
            w.measure(20)
        samples = []
        for repetition in range(repetitions):
            # Each repetition in another order, so that a slow moment is shared out.
            order = writers if repetition % 2 == 0 else writers[::-1]
            for w in order:
                samples.append(w.measure(slow_events if w.path.fsync_per_row else fast_events))
        return samples
    finally:
        for w in writers:
            w.close()


@dataclass
class WriteFigures:
    """One path's medians over its repetitions."""

    events_per_second: float
    lowest: float
    highest: float
    cpu_us_per_event: float


def summarise_writes(samples: list[WriteSample]) -> dict[WritePath, WriteFigures]:
    figures = {}
    for path in PATHS:
        mine = [s for s in samples if s.path == path]
        rates = [s.events / s.wall for s in mine]
        figures[path] = WriteFigures(
            statistics.median(rates),
            min(rates),
            max(rates),
            statistics.median(1e6 * s.cpu / s.events for s in mine),
        )
    return figures


# ---- a data folder with many stored sessions -------------------------------------------


class _Collected:
    """Stands in for the storage while :class:`AuditLog` seals rows: it keeps them, to
    be written in large transactions rather than one commit each."""

    def __init__(self) -> None:
        self.rows: list[SessionEvent] = []

    def get_group(self, name: str) -> None:
        return None  # the group keeps chat text

    def add_session_event(self, event: SessionEvent) -> None:
        self.rows.append(event)


@dataclass
class Populated:
    sessions: int
    rows: int
    seconds: float
    database_bytes: int


def populate(data_dir: Path, sessions: int, *, batch: int = 5000) -> Populated:
    """``sessions`` ended sessions of ten events each (the code claim, the start with
    the customer's details, :data:`SESSION_EVENTS`, the end), sealed with the folder's
    data key as the broker seals them, a minute apart over the past months."""
    t0 = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = DataKeys.create(data_dir / KEY_FILE)
    storage = SqliteStorage(data_dir / DATABASE, keys)
    collected = _Collected()
    audit = AuditLog(cast(Storage, collected), keys)
    db: sqlite3.Connection = storage._db
    start = time.time() - sessions * 60.0
    rows = 0
    try:
        for first in range(0, sessions, batch):
            for n in range(first, min(first + batch, sessions)):
                _one_session(audit, uuid.uuid4().hex, start + n * 60.0, n)
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO session_events(session_id, technician, at, kind, detail, "
                "group_name, ip, sealed, key_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.session_id,
                        e.technician,
                        e.at,
                        e.kind,
                        json.dumps(e.detail),
                        e.group_name,
                        e.ip,
                        e.sealed,
                        e.key_id,
                    )
                    for e in collected.rows
                ],
            )
            db.execute("COMMIT")
            rows += len(collected.rows)
            collected.rows.clear()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # The rows open with the folder's key, as the broker will read them.
        [last] = storage.find_events(kinds=["chat"], limit=1)
        assert AuditLog(storage, keys).open(last)["text"] == SESSION_EVENTS[2][1]["text"]
    finally:
        storage.close()
    size = sum(p.stat().st_size for p in data_dir.glob(f"{DATABASE}*"))
    return Populated(sessions, rows, time.perf_counter() - t0, size)


def _one_session(audit: AuditLog, sid: str, at: float, n: int) -> None:
    who: dict[str, Any] = {"session_id": sid, "technician": TECHNICIAN, "group": GROUP}
    ip = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    audit.record("code_claim", ip=ip, detail={"result": "claimed"}, at=at, **who)
    audit.record("session_start", ip=ip, detail={**CUSTOMER, "name": f"Customer {n}"}, at=at, **who)
    for i, (kind, detail) in enumerate(SESSION_EVENTS):
        audit.record(kind, detail=detail, at=at + 1 + i, **who)
    audit.record("session_end", detail={"reason": "ended", "by": "technician"}, at=at + 50, **who)
