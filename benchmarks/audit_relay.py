"""The relay benchmark's measurement, run against this checkout's broker (which audits)
and the broker from before the audit log, side by side in one run; then session events
sent by a real console to each.

Both brokers run at once, each with its own TLS forwarder (the forwarder presents the
broker's certificate). The paths and the measuring are :mod:`benchmarks.relay`'s own
(``_open_paths``, ``_measure``); this module only pairs them up: every case runs on both
brokers one after the other, in alternating order, so that each ratio compares two
figures taken seconds apart on this noisy machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import relay
from benchmarks.audit_brokers import (
    PRE_AUDIT_COMMIT,
    BurstSample,
    broker_from,
    event_burst,
    export_code,
)
from benchmarks.audit_writes import events
from benchmarks.processes import (
    BenchmarkError,
    BrokerProcess,
    Child,
    broker_process,
    child,
    describe_errors,
    temp_dir,
)
from benchmarks.report import KIB, MIB
from broker.data_keys import KEY_FILE
from common.transport import PeerSession

AUDIT, PRE_AUDIT = "audit", "pre-audit"
MIN_REPETITIONS = 3
SIZES = (64 * KIB, 1 * MIB)
#: The e2e path once more, while the console reports events at this rate (the mix of
#: :data:`benchmarks.audit_writes.SESSION_EVENTS`): a folder of small files moving,
#: or a lively chat with rights asked and given.
EVENTS_PER_SECOND = 20.0
EVENTS_SIZE = 64 * KIB
PLAIN_KINDS = (relay.WS_RELAY, relay.WS_E2E)
WITH_EVENTS = f"{relay.WS_E2E} + {EVENTS_PER_SECOND:g} events/s"


@dataclass
class RelayCase:
    broker: str
    kind: str
    size: int
    path: relay._Path
    #: For the path with events: how many the console reported during each transfer.
    logged: list[int] = dataclasses.field(default_factory=list)


@dataclass
class RelaySample:
    broker: str
    kind: str
    size: int
    repetition: int
    sample: relay.Sample
    logged: int = 0


def with_events(
    transfer: relay.Transfer, console: PeerSession, logged: list[int]
) -> relay.Transfer:
    """``transfer``, while ``console`` reports session events at EVENTS_PER_SECOND;
    appends to ``logged`` how many it reported."""

    async def run(payload: bytes, count: int) -> int:
        sent = 0

        async def report() -> None:
            nonlocal sent
            for kind, detail in events(1 << 30):
                console.log_event(kind, **detail)
                sent += 1
                await asyncio.sleep(1 / EVENTS_PER_SECOND)

        task = asyncio.create_task(report())
        try:
            return await transfer(payload, count)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            logged.append(sent)

    return run


@contextlib.contextmanager
def forwarder_for(broker: BrokerProcess, workdir: Path) -> Iterator[Child]:
    argv = ["-m", "benchmarks.tls_forwarder", "--cert", str(broker.cert_file)]
    with child("tls_forwarder", [*argv, "--key", str(broker.key_file)], workdir) as proc:
        yield proc


async def _cases(
    label: str,
    broker: BrokerProcess,
    forwarder: Child,
    opened: contextlib.AsyncExitStack,
    facts: dict[str, Any],
) -> list[RelayCase]:
    port = int((await forwarder.ready(r"listening on [\d.]+:(\d+)")).group(1))
    paths = {p.name: p for p in await relay._open_paths(broker, forwarder, port, opened, facts)}
    cases = [RelayCase(label, k, size, paths[k]) for size in SIZES for k in PLAIN_KINDS]
    if label == AUDIT:  # one floor is enough: it is the same forwarder code
        cases += [RelayCase(label, relay.TLS_FLOOR, size, paths[relay.TLS_FLOOR]) for size in SIZES]
    e2e = paths[relay.WS_E2E]
    assert e2e.e2e_sender is not None
    events_case = RelayCase(label, WITH_EVENTS, EVENTS_SIZE, e2e)
    events_case.path = dataclasses.replace(
        e2e, transfer=with_events(e2e.transfer, e2e.e2e_sender, events_case.logged)
    )
    return [*cases, events_case]


@dataclass
class BrokersResult:
    relay: list[RelaySample]
    bursts: list[BurstSample]
    notes: list[str]


async def compare_brokers(
    settings: relay.Settings, budget: float, burst_events: int, burst_repetitions: int
) -> BrokersResult:
    """Both brokers up; the relay cases, then the event bursts, each interleaved. No relay
    repetition starts once ``budget`` seconds have gone (after the first
    :data:`MIN_REPETITIONS`): a loaded machine gets fewer, not a longer run."""
    facts: dict[str, Any] = {}
    with temp_dir("audit-relay") as work:
        for sub in (AUDIT, PRE_AUDIT):
            (work / sub).mkdir()
        code = export_code(PRE_AUDIT_COMMIT, work / "pre-audit-code")
        with (
            broker_process(work / AUDIT) as audit_broker,
            broker_from(code, work / PRE_AUDIT) as old_broker,
            forwarder_for(audit_broker, work / AUDIT) as audit_fwd,
            forwarder_for(old_broker, work / PRE_AUDIT) as old_fwd,
        ):
            # The audit log keeps a data key beside the database; the old broker must not.
            if (old_broker.data_dir / KEY_FILE).exists():
                raise BenchmarkError(f"the broker from {PRE_AUDIT_COMMIT} has an audit log")
            brokers = {AUDIT: audit_broker, PRE_AUDIT: old_broker}
            async with contextlib.AsyncExitStack() as opened:
                cases = await _cases(AUDIT, audit_broker, audit_fwd, opened, facts)
                cases += await _cases(PRE_AUDIT, old_broker, old_fwd, opened, {})
                samples = await _run_relay(cases, settings, time.monotonic() + budget)
                consoles = {c.broker: c.path.e2e_sender for c in cases if c.kind == WITH_EVENTS}
                bursts = []
                for repetition in range(burst_repetitions):
                    order = (AUDIT, PRE_AUDIT) if repetition % 2 == 0 else (PRE_AUDIT, AUDIT)
                    for label in order:
                        console = consoles[label]
                        assert console is not None
                        bursts.append(
                            await event_burst(
                                label, brokers[label], console, burst_events, 30 + burst_events / 5
                            )
                        )
    notes = [
        describe_errors(f"{AUDIT} broker", audit_broker.proc.errors),
        describe_errors(f"{PRE_AUDIT} broker", old_broker.proc.errors),
        describe_errors("tls_forwarders", audit_fwd.errors + old_fwd.errors),
    ]
    return BrokersResult(samples, bursts, notes)


async def _run_relay(
    cases: list[RelayCase], settings: relay.Settings, deadline: float
) -> list[RelaySample]:
    for case in cases:  # warm-up, as the relay benchmark does
        await relay._measure(
            case.path, 64 * KIB, settings, -1, min(16 * MIB, settings.bytes_per_case)
        )
    for case in cases:
        case.logged.clear()
    raw_paths = list({id(c.path): c.path for c in cases if c.kind == relay.WS_RELAY}.values())
    samples = []
    for repetition in range(settings.repetitions):
        if repetition >= MIN_REPETITIONS and time.monotonic() > deadline:
            break
        for size in sorted({c.size for c in cases}):
            for kind in (relay.TLS_FLOOR, *PLAIN_KINDS, WITH_EVENTS):
                pair = [c for c in cases if c.kind == kind and c.size == size]
                # Alternating which broker goes first: neither always gets the warmer
                # (or the noisier) moment.
                if repetition % 2:
                    pair.reverse()
                for case in pair:
                    await _keep_alive(raw_paths)
                    sample = await relay._measure(
                        case.path, size, settings, repetition, settings.bytes_per_case
                    )
                    logged = case.logged[-1] if case.kind == WITH_EVENTS else 0
                    samples.append(
                        RelaySample(case.broker, case.kind, size, repetition, sample, logged)
                    )
    return samples


async def _keep_alive(raw_paths: list[relay._Path]) -> None:
    """One byte through each raw relay pair, outside the measurement.

    The broker pings a link that sends it nothing (the raw receiving link) every 20 s
    and drops it if no pong comes within 10 s; the client answers pings only while it
    reads. With two brokers' cases in turn on a loaded machine, a raw pair can sit
    unread longer than that, so each is read before every case."""
    for path in raw_paths:
        await path.transfer(b"", 1)
