"""relay: throughput and relay CPU per GB, against the TLS floor measured in the same run.

Three paths carry the same bytes, one direction, from a sender to a receiver, both in
the benchmark process:

* ``tls floor``: TLS streams through :mod:`benchmarks.tls_forwarder`, a separate
  process that only decrypts and re-encrypts (no WebSocket);
* ``ws relay``: RELAY frames between a paired console and applet link through the broker
  process (``lifeline-broker serve``), with no end-to-end layer;
* ``ws relay + e2e``: :class:`~common.transport.PeerSession` on both ends (SPAKE2,
  AES-256-GCM records, acknowledgements) sending ``Channel.FILE`` messages through
  the same broker; messages above 64 KiB go out as several 64 KiB records.

The relay process's CPU (user + system, psutil) is sampled before and after each
transfer. Cases are interleaved (every path at every size, repeated) so that drift of
this noisy machine spreads evenly; the table shows medians.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from benchmarks import links
from benchmarks.links import cipher_name, client_context, close_stream, forwarder_stream, raw_pair
from benchmarks.processes import (
    TECH_EMAIL,
    TECH_PASSWORD,
    BenchmarkError,
    BrokerProcess,
    Child,
    broker_process,
    child,
    describe_errors,
    temp_dir,
)
from benchmarks.report import GB, KIB, MB, MIB, Goal, Result
from common.protocol import Channel, messages
from common.transport import BrokerAddress, BrokerClient, ControlLink, PeerSession

TITLE = "Relay throughput and relay CPU per GB (one direction, 127.0.0.1)"

SIZES = (16 * KIB, 64 * KIB, 1 * MIB)
TLS_FLOOR, WS_RELAY, WS_E2E = "tls floor", "ws relay", "ws relay + e2e"
PATHS = (TLS_FLOOR, WS_RELAY, WS_E2E)
GOAL_PER_CORE = 250.0  # MB/s per relay core, at 64 KiB
GOAL_FLOOR_RATIO = 1.3  # relay CPU per GB over the TLS floor's


@dataclass
class Settings:
    bytes_per_case: int
    repetitions: int
    case_timeout: float


FULL = Settings(bytes_per_case=256 * MIB, repetitions=7, case_timeout=120.0)
QUICK = Settings(bytes_per_case=64 * MIB, repetitions=3, case_timeout=60.0)


@dataclass
class Sample:
    path: str
    size: int
    nbytes: int
    wall: float
    relay_cpu: float
    client_cpu: float
    repetition: int
    records: int = 0


Transfer = Callable[[bytes, int], Awaitable[int]]


def _label(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB else f"{size // KIB} KiB"


# ---- the three paths -----------------------------------------------------------------


def tls_transfer(sender: asyncio.StreamWriter, receiver: asyncio.StreamReader) -> Transfer:
    async def transfer(payload: bytes, count: int) -> int:
        total = len(payload) * count

        async def send() -> None:
            for _ in range(count):
                sender.write(payload)
                await sender.drain()

        async def receive() -> int:
            got = 0
            while got < total:
                data = await receiver.read(1 << 20)
                if not data:
                    raise BenchmarkError("the TLS forwarder closed the stream")
                got += len(data)
            return got

        _, got = await asyncio.gather(send(), receive())
        return got

    return transfer


def raw_transfer(sender: ControlLink, receiver: ControlLink) -> Transfer:
    async def transfer(payload: bytes, count: int) -> int:
        frame = b"\x01" + payload

        async def send() -> None:
            for _ in range(count):
                await sender.send_relay(frame)

        async def receive() -> int:
            got = 0
            for _ in range(count):
                msg = await receiver.ws.receive()
                if msg.type != aiohttp.WSMsgType.BINARY or msg.data[:1] != b"\x01":
                    raise BenchmarkError(f"the relay link delivered {msg.type!r}")
                got += len(msg.data) - 1
            return got

        _, got = await asyncio.gather(send(), receive())
        return got

    return transfer


def e2e_transfer(sender: PeerSession, receiver: PeerSession) -> Transfer:
    async def transfer(payload: bytes, count: int) -> int:
        async def send() -> None:
            for _ in range(count):
                if not sender.writable(Channel.FILE):
                    await sender.wait_writable(Channel.FILE)
                sender.send(Channel.FILE, {"t": "x", "data": payload})

        async def receive() -> int:
            got = 0
            for _ in range(count):
                event = await receiver.next_message()
                got += len(event.message["data"])
            return got

        _, got = await asyncio.gather(send(), receive())
        return got

    return transfer


# ---- measuring -----------------------------------------------------------------------


@dataclass
class _Path:
    name: str
    transfer: Transfer
    #: The process whose CPU is the relay's: the broker, or the TLS forwarder.
    relay: Child
    #: For the e2e path, the sending session (to count its records).
    e2e_sender: PeerSession | None = None


async def _measure(
    path: _Path, size: int, settings: Settings, repetition: int, total: int
) -> Sample:
    count = max(1, total // size)
    payload = bytes(size)
    records0 = _records(path.e2e_sender)
    relay0, client0 = path.relay.cpu_seconds(), time.process_time()
    t0 = time.perf_counter()
    try:
        got = await asyncio.wait_for(path.transfer(payload, count), settings.case_timeout)
    except TimeoutError:
        raise BenchmarkError(
            f"{path.name} with {_label(size)} messages did not finish "
            f"in {settings.case_timeout:.0f} s"
        ) from None
    wall = time.perf_counter() - t0
    if got != size * count:
        raise BenchmarkError(f"{path.name}: {got} bytes arrived, {size * count} were sent")
    return Sample(
        path=path.name,
        size=size,
        nbytes=got,
        wall=wall,
        relay_cpu=path.relay.cpu_seconds() - relay0,
        client_cpu=time.process_time() - client0,
        repetition=repetition,
        records=(_records(path.e2e_sender) - records0) // count,
    )


def _records(session: PeerSession | None) -> int:
    if session is None or session.conn is None:
        return 0
    return session.conn.counters.records_sent


async def _main(settings: Settings) -> tuple[list[Sample], dict[str, Any]]:
    facts: dict[str, Any] = {}
    with temp_dir("relay") as work, broker_process(work) as broker:
        argv = ["-m", "benchmarks.tls_forwarder", "--cert", str(broker.cert_file)]
        with child("tls_forwarder", [*argv, "--key", str(broker.key_file)], work) as forwarder:
            port = int((await forwarder.ready(r"listening on [\d.]+:(\d+)")).group(1))
            # Everything opened is closed on the way out, also when a case fails.
            async with contextlib.AsyncExitStack() as opened:
                paths = await _open_paths(broker, forwarder, port, opened, facts)
                samples = await _run_cases(paths, settings)
    facts["logs"] = [
        describe_errors("broker", broker.proc.errors),
        describe_errors("tls_forwarder", forwarder.errors),
    ]
    return samples, facts


async def _open_paths(
    broker: BrokerProcess,
    forwarder: Child,
    port: int,
    opened: contextlib.AsyncExitStack,
    facts: dict[str, Any],
) -> list[_Path]:
    address = BrokerAddress(broker.url, ca_file=broker.ca_file)
    console_client = await opened.enter_async_context(BrokerClient(address))
    applet_client = await opened.enter_async_context(BrokerClient(address))
    login = await console_client.login(TECH_EMAIL, TECH_PASSWORD)

    ctx = client_context(broker.ca_file)
    (tls_rx, tls_rx_writer), (_, tls_tx) = await asyncio.gather(
        forwarder_stream(port, ctx, b"relay-01"),
        forwarder_stream(port, ctx, b"relay-01"),
    )
    for writer in (tls_tx, tls_rx_writer):
        opened.push_async_callback(close_stream, writer)

    raw_console, raw_applet = await raw_pair(console_client, applet_client, login.token)
    for link in (raw_console, raw_applet):
        opened.push_async_callback(link.close)

    e2e_console = await PeerSession.create(console_client, login.token)
    opened.push_async_callback(e2e_console.close)
    assert e2e_console.code is not None
    e2e_applet = await PeerSession.claim(applet_client, str(e2e_console.code))
    opened.push_async_callback(e2e_applet.close)
    await asyncio.gather(e2e_console.wait_open(30), e2e_applet.wait_open(30))

    facts["tls_cipher"] = tls_tx.get_extra_info("cipher")
    facts["ws_cipher"] = raw_console.ws.get_extra_info("cipher")
    return [
        _Path(TLS_FLOOR, tls_transfer(tls_tx, tls_rx), forwarder),
        _Path(WS_RELAY, raw_transfer(raw_console, raw_applet), broker.proc),
        _Path(WS_E2E, e2e_transfer(e2e_console, e2e_applet), broker.proc, e2e_console),
    ]


async def _run_cases(paths: list[_Path], settings: Settings) -> list[Sample]:
    for path in paths:  # warm-up: buffers, caches, the first acknowledgements
        await _measure(path, 64 * KIB, settings, -1, 16 * MIB)
    samples = []
    # Interleaved: each path at each size in turn, so that a slow moment of the
    # machine hits all of them rather than one.
    for repetition in range(settings.repetitions):
        for size in SIZES:
            for path in paths:
                samples.append(
                    await _measure(path, size, settings, repetition, settings.bytes_per_case)
                )
    return samples


# ---- reporting -----------------------------------------------------------------------


def _summarise(samples: list[Sample], settings: Settings, facts: dict[str, Any]) -> Result:
    def median(path: str, size: int, f: Callable[[Sample], float]) -> float:
        return statistics.median(f(s) for s in samples if s.path == path and s.size == size)

    def cpu_per_gb(s: Sample) -> float:
        return s.relay_cpu / (s.nbytes / GB)

    rows: list[dict[str, Any]] = []
    per_core: dict[tuple[str, int], float] = {}
    ratio: dict[tuple[str, int], float] = {}
    floor = {(s.size, s.repetition): cpu_per_gb(s) for s in samples if s.path == TLS_FLOOR}
    for size in SIZES:
        for path in PATHS:
            cpu = median(path, size, cpu_per_gb)
            per_core[path, size] = median(path, size, lambda s: s.nbytes / MB / s.relay_cpu)
            # Each case against the floor measured right before it, then the median.
            ratios = [
                cpu_per_gb(s) / floor[s.size, s.repetition]
                for s in samples
                if s.path == path and s.size == size
            ]
            ratio[path, size] = statistics.median(ratios)
            rows.append(
                {
                    "path": path,
                    "message": _label(size),
                    "MB/s": median(path, size, lambda s: s.nbytes / MB / s.wall),
                    "relay CPU s/GB": cpu,
                    "x floor": ratio[path, size],
                    "x floor range": None
                    if path == TLS_FLOOR
                    else f"{min(ratios):.2f}-{max(ratios):.2f}",
                    "MB/s per relay core": per_core[path, size],
                    "relay busy %": 100 * median(path, size, lambda s: s.relay_cpu / s.wall),
                    "client busy %": 100 * median(path, size, lambda s: s.client_cpu / s.wall),
                }
            )
    goals = [
        Goal(
            f"{path}: MB/s per relay core at 64 KiB",
            f">= {GOAL_PER_CORE:.0f}",
            f"{per_core[path, 64 * KIB]:.0f}",
            per_core[path, 64 * KIB] >= GOAL_PER_CORE,
        )
        for path in (WS_RELAY, WS_E2E)
    ]
    goals += [
        Goal(
            f"{path}: relay CPU/GB vs TLS floor at {_label(size)}",
            f"<= {GOAL_FLOOR_RATIO}x",
            f"{ratio[path, size]:.2f}x",
            ratio[path, size] <= GOAL_FLOOR_RATIO,
        )
        for path in (WS_RELAY, WS_E2E)
        for size in SIZES
    ]
    records = {
        size: statistics.median(s.records for s in samples if s.path == WS_E2E and s.size == size)
        for size in SIZES
    }
    notes = [
        f"{settings.bytes_per_case // MIB} MiB per case, {settings.repetitions} interleaved "
        "repetitions, medians shown; MB = 10^6 bytes, GB = 10^9 bytes of payload. "
        "'x floor' is the median of each case's CPU/GB over the floor's in the same "
        "repetition; the range is the lowest and highest of those ratios.",
        "Relay = the broker process (lifeline-broker serve) for the ws paths, the "
        "tls_forwarder process for the floor; its CPU is user+system from psutil.",
        "Sender and receiver both run in the benchmark process (one event loop): "
        "'client busy %' near 100 means the clients, not the relay, set the MB/s.",
        "MB/s per relay core = payload bytes / relay CPU seconds (independent of "
        "which side is the bottleneck).",
        "e2e data records per message: "
        + ", ".join(f"{_label(size)} -> {n:g}" for size, n in records.items())
        + f" (a message is msgpack {{t, data}}, {_envelope()} bytes more than its data; a "
        "fragment holds 64 KiB + 1 KiB, so a 64 KiB chunk is one record).",
        f"TLS: {cipher_name(facts.get('ws_cipher'))} (broker), "
        f"{cipher_name(facts.get('tls_cipher'))} (floor).",
        *facts["logs"],
    ]
    if settings is QUICK:
        notes.insert(
            0,
            "--quick: each case lasts about 0.1-0.3 s, near psutil's 10 ms CPU resolution, "
            "and 3 repetitions do not tame this machine's noise: a smoke test, not a verdict.",
        )
    return Result(TITLE, rows, goals, notes)


def _envelope(size: int = 64 * KIB) -> int:
    """Bytes the message adds around ``size`` bytes of data."""
    return len(messages.encode({"t": "x", "data": bytes(size)})) - size


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    samples, facts = links.run(_main(settings))
    return _summarise(samples, settings, facts)
