"""Real broker processes for the audit benchmark: the broker as it was before the audit
log (a reference in the same run), session events sent by a real console, and the
broker's memory over a data folder full of stored sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.audit_writes import CUSTOMER, DATABASE, SESSION_EVENTS, events
from benchmarks.processes import (
    ROOT,
    TECH_EMAIL,
    TECH_PASSWORD,
    BenchmarkError,
    BrokerProcess,
    Child,
    broker_process,
)
from common.transport import BrokerAddress, BrokerClient, PeerSession

#: The last commit before the audit log (broker storage schema 2, events unsealed and
#: without the broker's own events).
PRE_AUDIT_COMMIT = "9a95219"
SETTLE = 3.0


# ---- the broker before the audit log ---------------------------------------------------


def export_code(commit: str, folder: Path) -> Path:
    """``broker/`` and ``common/`` as they were at ``commit``, under ``folder`` (git
    archive: the repository and its working tree are left as they are)."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "broker", "common"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise BenchmarkError(f"git archive {commit} failed: {done.stderr.decode().strip()}")
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def code_env(code: Path) -> dict[str, str]:
    """Runs ``python -m broker.cli`` from ``code`` rather than from this checkout:
    without PYTHONSAFEPATH the current folder (this checkout) would come first."""
    return {"PYTHONSAFEPATH": "1", "PYTHONPATH": str(code)}


@contextlib.contextmanager
def broker_from(code: Path, workdir: Path) -> Iterator[BrokerProcess]:
    """:func:`benchmarks.processes.broker_process` with the code under ``code``."""
    with broker_process(workdir, env=code_env(code)) as broker:
        yield broker


# ---- session events from a real console ------------------------------------------------


@dataclass
class BurstSample:
    broker: str
    events: int
    wall: float
    broker_cpu: float


def _stored(db: sqlite3.Connection, session_id: str) -> int:
    row = db.execute("SELECT COUNT(*) FROM session_events WHERE session_id = ?", (session_id,))
    return int(row.fetchone()[0])


async def event_burst(
    label: str, broker: BrokerProcess, console: PeerSession, count: int, timeout: float
) -> BurstSample:
    """The console reports ``count`` events at once (its log queue sends them one after
    the other, as fast as the link takes them); the time runs until the broker's
    database holds the last one (polled every 20 ms with a reader of its own)."""
    assert console.session_id is not None
    db = sqlite3.connect(broker.data_dir / DATABASE)
    try:
        target = _stored(db, console.session_id) + count
        cpu0, t0 = broker.proc.cpu_seconds(), time.perf_counter()
        for kind, detail in events(count):
            console.log_event(kind, **detail)
        deadline = t0 + timeout
        while _stored(db, console.session_id) < target:
            if time.perf_counter() > deadline:
                raise BenchmarkError(f"{label}: {count} session events not stored in {timeout} s")
            await asyncio.sleep(0.02)
        return BurstSample(label, count, time.perf_counter() - t0, broker.proc.cpu_seconds() - cpu0)
    finally:
        db.close()


# ---- memory over many stored sessions --------------------------------------------------


@dataclass
class MemoryStage:
    broker: str
    stage: str
    rss: int
    peak: int


def peak_rss(proc: Child) -> int:
    """The highest RSS the process has had (VmHWM), in bytes; 0 where unknown."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{proc.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


async def settled(label: str, stage: str, proc: Child) -> MemoryStage:
    await asyncio.sleep(SETTLE)
    return MemoryStage(label, stage, proc.rss(), peak_rss(proc))


async def one_session(
    console_client: BrokerClient, applet_client: BrokerClient, token: str, db: sqlite3.Connection
) -> None:
    """A whole session as a console and an applet make it: paired with the customer's
    details, one session's worth of events, ended; returns once its end is stored."""
    console = await PeerSession.create(console_client, token)
    try:
        assert console.code is not None
        applet = await PeerSession.claim(applet_client, str(console.code), dict(CUSTOMER))
        try:
            await asyncio.gather(console.wait_open(30), applet.wait_open(30))
            for kind, detail in SESSION_EVENTS:
                console.log_event(kind, **detail)
            await console.end()
        finally:
            await applet.close()
    finally:
        await console.close()
    assert console.session_id is not None
    deadline = time.monotonic() + 30
    while not db.execute(
        "SELECT 1 FROM session_events WHERE session_id = ? AND kind = 'session_end'",
        (console.session_id,),
    ).fetchall():
        if time.monotonic() > deadline:
            raise BenchmarkError("a session's end was not stored within 30 s")
        await asyncio.sleep(0.05)


async def memory_stages(label: str, broker: BrokerProcess, sessions: int) -> list[MemoryStage]:
    """RSS after one sign-in, then after ``sessions`` whole sessions."""
    address = BrokerAddress(broker.url, ca_file=broker.ca_file)
    db = sqlite3.connect(broker.data_dir / DATABASE)
    try:
        async with BrokerClient(address) as console_client, BrokerClient(address) as applet:
            login = await console_client.login(TECH_EMAIL, TECH_PASSWORD)
            stages = [await settled(label, "started, one sign-in", broker.proc)]
            for _ in range(sessions):
                await one_session(console_client, applet, login.token, db)
            stages.append(await settled(label, f"after {sessions} sessions", broker.proc))
    finally:
        db.close()
    return stages


def start_seconds(proc: Child) -> float:
    """Seconds from the process's start until now (call it once it said it listens)."""
    return time.time() - float(proc.process.create_time())
