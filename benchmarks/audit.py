"""audit: the audit log's cost (issue 8): write throughput with encryption, the broker's
memory over 100,000 stored sessions, and the relay with auditing against without.

Four parts, each against a reference measured in the same run:

* ``writes``: events/s through :meth:`broker.audit.AuditLog.record` in this process
  (sealed chat lines and file names, clear permission and control events), against the
  same rows unsealed through the storage and a bare ``sqlite3`` INSERT loop with the
  broker's settings (WAL, autocommit, ``synchronous=FULL``); then what-ifs
  (:mod:`benchmarks.audit_writes`).
* ``broker events``: a real console reports events as fast as its link takes them to a
  real broker process, which stores each before reading the next; against the broker at
  the last commit before the audit log (:data:`PRE_AUDIT_COMMIT`, exported with git
  archive and run as its own process).
* ``relay``: :mod:`benchmarks.relay`'s paths and measurement, on both brokers,
  interleaved case by case (:mod:`benchmarks.audit_relay`).
* ``memory``: a broker started over a database holding 100,000 ended sessions (ten
  events each, sealed by the real AuditLog), against one over an empty database, RSS
  after a sign-in and after a few whole sessions.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass
from typing import Any

from benchmarks import links, relay
from benchmarks.audit_brokers import (
    PRE_AUDIT_COMMIT,
    SETTLE,
    BurstSample,
    MemoryStage,
    memory_stages,
    start_seconds,
)
from benchmarks.audit_relay import (
    AUDIT,
    PLAIN_KINDS,
    PRE_AUDIT,
    SIZES,
    WITH_EVENTS,
    BrokersResult,
    RelaySample,
    compare_brokers,
)
from benchmarks.audit_writes import (
    BARE,
    PATHS,
    RECORD,
    Populated,
    WritePath,
    WriteSample,
    measure_writes,
    populate,
    summarise_writes,
)
from benchmarks.processes import broker_process, describe_errors, temp_dir
from benchmarks.report import GB, KIB, MB, MIB, Goal, Result

TITLE = "Audit log: write throughput, broker RSS over stored sessions, relay with auditing"

GOAL_EVENTS_PER_SECOND = 2000.0
GOAL_RELAY_RATIO = 0.95  # with auditing, at least 95 % of the relay without
GOAL_RSS_RATIO = 1.10
STORED_GOAL = 100_000


@dataclass
class Settings:
    write_slow: int
    write_fast: int
    write_repetitions: int
    relay: relay.Settings
    #: Seconds after which no new relay repetition starts.
    relay_budget: float
    burst_events: int
    burst_repetitions: int
    stored_sessions: int
    memory_sessions: int


FULL = Settings(
    write_slow=300,
    write_fast=5000,
    write_repetitions=5,
    relay=relay.Settings(bytes_per_case=128 * MIB, repetitions=15, case_timeout=120.0),
    relay_budget=150.0,
    burst_events=800,
    burst_repetitions=3,
    stored_sessions=100_000,
    memory_sessions=10,
)
QUICK = Settings(
    write_slow=60,
    write_fast=2000,
    write_repetitions=3,
    relay=relay.Settings(bytes_per_case=16 * MIB, repetitions=3, case_timeout=60.0),
    relay_budget=15.0,
    burst_events=150,
    burst_repetitions=2,
    stored_sessions=10_000,
    memory_sessions=3,
)


@dataclass
class Memory:
    populated: Populated
    stages: list[MemoryStage]
    start_seconds: dict[str, float]
    logs: list[str]


EMPTY, STORED = "empty database", "stored sessions"


async def _memory(settings: Settings) -> Memory:
    starts: dict[str, float] = {}
    with temp_dir("audit-rss") as work:
        for sub in ("empty", "stored"):
            (work / sub).mkdir()
        populated = populate(work / "stored" / "broker", settings.stored_sessions)
        with broker_process(work / "empty") as empty:
            starts[EMPTY] = start_seconds(empty.proc)
            with broker_process(work / "stored") as stored:
                starts[STORED] = start_seconds(stored.proc)
                # Side by side (RSS does not mind sharing the CPU): half the waiting.
                both = await asyncio.gather(
                    memory_stages(EMPTY, empty, settings.memory_sessions),
                    memory_stages(STORED, stored, settings.memory_sessions),
                )
                stages = both[0] + both[1]
    logs = [
        describe_errors(f"broker over {n}", b.proc.errors)
        for n, b in ((EMPTY, empty), (STORED, stored))
    ]
    return Memory(populated, stages, starts, logs)


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    phases = [time.perf_counter()]
    with temp_dir("audit-writes") as work:
        writes = measure_writes(
            work,
            slow_events=settings.write_slow,
            fast_events=settings.write_fast,
            repetitions=settings.write_repetitions,
        )
    phases.append(time.perf_counter())
    brokers = links.run(
        compare_brokers(
            settings.relay,
            settings.relay_budget,
            settings.burst_events,
            settings.burst_repetitions,
        )
    )
    phases.append(time.perf_counter())
    memory = links.run(_memory(settings))
    phases.append(time.perf_counter())
    took = [b - a for a, b in itertools.pairwise(phases)]
    return _summarise(settings, writes, brokers, memory, took)


# ---- the report ------------------------------------------------------------------------


def _row(
    part: str,
    case: str,
    measure: str,
    value: float,
    reference: float | None = None,
    ratio: float | None = None,
    spread: str = "",
    note: str = "",
) -> dict[str, Any]:
    """One line of the table: a figure, the reference's, their ratio (value/reference
    unless given: the median of paired ratios), and its spread."""
    if ratio is None and reference:
        ratio = value / reference
    return {
        "part": part,
        "case": case,
        "measure": measure,
        "value": value,
        "reference": reference,
        "ratio": ratio,
        "spread": spread,
        "note": note,
    }


def _label(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB else f"{size // KIB} KiB"


def _writes(samples: list[WriteSample]) -> tuple[list[dict[str, Any]], float]:
    """The broker's way and its references against a bare INSERT with the same
    ``synchronous``; the what-ifs against the broker's way."""
    figures = summarise_writes(samples)
    broker_way = WritePath(RECORD)
    rows = []
    for path in PATHS:
        f = figures[path]
        what_if = path.synchronous != "FULL" or path.per_commit != 1
        reference = broker_way if what_if else WritePath(BARE, synchronous=path.synchronous)
        rows.append(
            _row(
                "writes",
                path.name,
                "events/s",
                f.events_per_second,
                figures[reference].events_per_second,
                spread=f"{f.lowest:.0f}-{f.highest:.0f}",
                note=("what if; vs the broker's way" if what_if else "vs bare, same sync")
                + f"; CPU {f.cpu_us_per_event:.0f} us/event",
            )
        )
    return rows, figures[broker_way].events_per_second


def _bursts(bursts: list[BurstSample]) -> tuple[list[dict[str, Any]], float]:
    def rates(label: str) -> list[float]:
        return [b.events / b.wall for b in bursts if b.broker == label]

    def cpu(label: str) -> float:
        return statistics.median(1e6 * b.broker_cpu / b.events for b in bursts if b.broker == label)

    audit, old = statistics.median(rates(AUDIT)), statistics.median(rates(PRE_AUDIT))
    rows = [
        _row(
            "broker events",
            f"{label} broker",
            "events/s stored",
            statistics.median(rates(label)),
            old if label == AUDIT else None,
            spread=f"{min(rates(label)):.0f}-{max(rates(label)):.0f}",
            note=f"broker CPU {cpu(label):.0f} us/event",
        )
        for label in (AUDIT, PRE_AUDIT)
    ]
    return rows, audit


def _cpu_per_gb(samples: list[RelaySample]) -> float:
    """Relay CPU per GB over all ``samples`` together: psutil counts CPU in 10 ms
    ticks, a few dozen per case, so single cases are too coarse to show 5 %."""
    return sum(s.sample.relay_cpu for s in samples) / (sum(s.sample.nbytes for s in samples) / GB)


def _mbs(s: RelaySample) -> float:
    return s.sample.nbytes / MB / s.sample.wall


def _relay(samples: list[RelaySample]) -> tuple[list[dict[str, Any]], float, float]:
    """Rows per case and measure; then, over the plain relay cases together, the
    relay's MB/s per core with auditing over without (ratio of totals) and the median
    paired ratio of MB/s."""

    def of(label: str, kind: str, size: int) -> dict[int, RelaySample]:
        return {
            s.repetition: s for s in samples if (s.broker, s.kind, s.size) == (label, kind, size)
        }

    rows = []
    paired_mbs: list[float] = []
    cases = [(k, size) for size in SIZES for k in PLAIN_KINDS] + [(WITH_EVENTS, SIZES[0])]
    for kind, size in cases:
        audit, old = of(AUDIT, kind, size), of(PRE_AUDIT, kind, size)
        floor = _cpu_per_gb(list(of(AUDIT, relay.TLS_FLOOR, size).values()))
        case = f"{kind}, {_label(size)}"
        mbs = [_mbs(s) / _mbs(old[r]) for r, s in audit.items()]
        cpu = [
            s.sample.relay_cpu / old[r].sample.relay_cpu
            for r, s in audit.items()
            if old[r].sample.relay_cpu > 0
        ]
        if kind != WITH_EVENTS:
            paired_mbs += mbs
        note = ""
        if kind == WITH_EVENTS:
            logged = [s.logged / s.sample.wall for s in audit.values()]
            # What reporting events costs the relay, on each broker: against the same
            # path without events in the same repetition.
            cost = {}
            for label, mine in ((AUDIT, audit), (PRE_AUDIT, old)):
                without = of(label, relay.WS_E2E, size)
                cost[label] = statistics.median(_mbs(s) / _mbs(without[r]) for r, s in mine.items())
            note = (
                f"{statistics.median(logged):.0f} events/s reported; MB/s vs the same path "
                f"without events: {cost[AUDIT]:.2f}x ({AUDIT}), {cost[PRE_AUDIT]:.2f}x "
                f"({PRE_AUDIT})"
            )
        a_cpu, o_cpu = _cpu_per_gb(list(audit.values())), _cpu_per_gb(list(old.values()))
        rows += [
            _row("relay", case, "MB/s", statistics.median(_mbs(s) for s in audit.values()),
                 statistics.median(_mbs(s) for s in old.values()),
                 ratio=statistics.median(mbs), spread=f"{min(mbs):.2f}-{max(mbs):.2f}",
                 note=note),
            _row("relay", case, "relay CPU s/GB", a_cpu, o_cpu,
                 spread=f"{min(cpu):.2f}-{max(cpu):.2f}" if cpu else "",
                 note="all repetitions together; spread: single cases"),
            _row("relay", case, "x floor", a_cpu / floor, o_cpu / floor),
        ]  # fmt: skip
    plain = [s for s in samples if s.kind in PLAIN_KINDS]
    per_core = _cpu_per_gb([s for s in plain if s.broker == PRE_AUDIT]) / _cpu_per_gb(
        [s for s in plain if s.broker == AUDIT]
    )
    floor_rows = [
        _row(
            "relay",
            f"{relay.TLS_FLOOR}, {_label(size)}",
            "MB/s",
            statistics.median(
                _mbs(s) for s in samples if s.kind == relay.TLS_FLOOR and s.size == size
            ),
            note="the TLS forwarder: the floor 'x floor' divides by",
        )
        for size in SIZES
    ]
    return floor_rows + rows, per_core, statistics.median(paired_mbs)


def _memory_rows(memory: Memory) -> tuple[list[dict[str, Any]], float]:
    by = {(m.broker, m.stage): m for m in memory.stages}
    rows = []
    last_ratio = 0.0
    for stage in dict.fromkeys(m.stage for m in memory.stages):
        empty, stored = by[EMPTY, stage], by[STORED, stage]
        last_ratio = stored.rss / empty.rss
        rows.append(
            _row(
                "memory",
                f"{memory.populated.sessions} stored sessions: {stage}",
                "RSS MiB",
                stored.rss / MIB,
                empty.rss / MIB,
                note=f"peak {stored.peak / MIB:.1f} MiB (empty: {empty.peak / MIB:.1f})",
            )
        )
    return rows, last_ratio


def _summarise(
    settings: Settings,
    writes: list[WriteSample],
    brokers: BrokersResult,
    memory: Memory,
    took: list[float],
) -> Result:
    write_table, record_rate = _writes(writes)
    burst_table, broker_rate = _bursts(brokers.bursts)
    relay_table, per_core, throughput = _relay(brokers.relay)
    memory_table, rss_ratio = _memory_rows(memory)
    stored = memory.populated.sessions
    estimated = "" if stored == STORED_GOAL else f" ({stored:,} in --quick)"
    goals = [
        Goal(
            "AuditLog.record as the broker writes (FULL, a commit per row)",
            f">= {GOAL_EVENTS_PER_SECOND:.0f} events/s",
            f"{record_rate:.0f} events/s",
            record_rate >= GOAL_EVENTS_PER_SECOND,
        ),
        Goal(
            "session events stored by the real broker",
            f">= {GOAL_EVENTS_PER_SECOND:.0f} events/s",
            f"{broker_rate:.0f} events/s",
            broker_rate >= GOAL_EVENTS_PER_SECOND,
        ),
        Goal(
            "relay with auditing vs before: MB/s per relay core (all repetitions of ws "
            "relay and e2e at 64 KiB and 1 MiB together)",
            f">= {GOAL_RELAY_RATIO:.2f}x",
            f"{per_core:.3f}x",
            per_core >= GOAL_RELAY_RATIO,
        ),
        Goal(
            "relay with auditing vs before: MB/s (median paired ratio, same cases)",
            f">= {GOAL_RELAY_RATIO:.2f}x",
            f"{throughput:.3f}x",
            throughput >= GOAL_RELAY_RATIO,
        ),
        Goal(
            f"broker RSS with {STORED_GOAL:,} stored sessions{estimated} vs an empty "
            "database, after the sessions",
            f"<= {GOAL_RSS_RATIO:.2f}x",
            f"{rss_ratio:.3f}x",
            rss_ratio <= GOAL_RSS_RATIO,
        ),
    ]
    pop = memory.populated
    notes = [
        "The goal of 2,000 events/s is this benchmark's bar for 'fast enough' (issue 8 "
        "names no figure); the relay goal is issue 8's (no more than 5 % worse).",
        "ratio: value / reference. Relay MB/s: the median of paired ratios (each case on "
        "both brokers seconds apart, alternating which goes first), spread = their lowest "
        "and highest; relay CPU: all repetitions' CPU over all their bytes (psutil counts "
        "10 ms ticks, too coarse for single cases), spread = single cases' ratios. Writes "
        "and bursts: the ratio of medians, spread = the value's own range.",
        f"writes: {settings.write_slow} events per case when every row is fsynced, "
        f"{settings.write_fast} otherwise; {settings.write_repetitions} interleaved "
        "repetitions, one database per path, on the file system of the broker's data "
        "(the temp folder). The mix cycles through one session's console events: "
        "3 chat lines and a file transfer sealed, 3 permission/control events clear. "
        "'what if' rows change only SQLite's synchronous or wrap rows in a transaction, "
        "from outside; the broker does neither.",
        f"broker events: {settings.burst_events} events per burst, "
        f"{settings.burst_repetitions} bursts per broker alternating; timed until the last "
        "row is in the database. The broker writes each on its event loop; "
        f"pre-audit = git {PRE_AUDIT_COMMIT} (rows unsealed, no group lookup), same "
        "Python and packages, run with PYTHONSAFEPATH=1 PYTHONPATH=<exported code>.",
        f"relay: {settings.relay.bytes_per_case // MIB} MiB per case, "
        f"{1 + max(s.repetition for s in brokers.relay)} repetitions (up to "
        f"{settings.relay.repetitions}, none started after {settings.relay_budget:.0f} s), "
        "medians; benchmarks.relay's paths "
        "(_open_paths) and measurement (_measure), 16 KiB left out for time. "
        f"'{WITH_EVENTS}': the e2e path while its console reports the mixed events "
        "(no such events in the relay benchmark itself).",
        f"memory: {pop.sessions:,} ended sessions, {pop.rows:,} rows sealed by "
        f"AuditLog.record and written in transactions of 5,000 sessions in {pop.seconds:.0f} "
        f"s; database {pop.database_bytes / MIB:.0f} MiB. RSS read {SETTLE:.0f} s after "
        f"each stage; {settings.memory_sessions} whole sessions (pair, 7 events, end) per "
        "broker; peak = VmHWM. Start-up to 'listening': "
        + ", ".join(f"{k} {v:.2f} s" for k, v in memory.start_seconds.items())
        + ".",
        "Time taken: writes {:.0f} s, relay and broker events {:.0f} s, memory {:.0f} s "
        "(database included).".format(*took),
        *brokers.notes,
        *memory.logs,
    ]
    if settings is QUICK:
        notes.insert(0, "--quick: few repetitions and short cases: a smoke test, not a verdict.")
    rows = write_table + burst_table + relay_table + memory_table
    return Result(TITLE, rows, goals, notes)
