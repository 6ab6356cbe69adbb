"""latency: what the relay adds to a small message's trip.

A 64-byte ping goes from the benchmark process to an echo peer in another process
(:mod:`benchmarks.echo_peer`) and back, one at a time, over three paths:

* ``direct tls``: a TLS connection straight to the peer (no relay at all);
* ``tls forwarder``: through the TLS floor process (one extra TLS hop, no WebSocket);
* ``ws relay``: RELAY frames through the broker process, the peer being a paired applet.

Half the round trip approximates one-way latency; ``added`` is the path's figure minus
the direct path's at the same percentile. Rounds alternate between paths so that a
noisy moment of the machine hits all of them.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from benchmarks import links
from benchmarks.links import (
    cipher_name,
    client_context,
    close_stream,
    create_raw_session,
    forwarder_stream,
    set_nodelay,
)
from benchmarks.processes import (
    TECH_EMAIL,
    TECH_PASSWORD,
    BenchmarkError,
    broker_process,
    child,
    describe_errors,
    temp_dir,
)
from benchmarks.report import Goal, Result
from common.transport import BrokerAddress, BrokerClient, ControlLink

TITLE = "Added latency of the relay for 64-byte messages (ping-pong, 127.0.0.1)"

MESSAGE = 64
DIRECT, FORWARDER, WS_RELAY = "direct tls", "tls forwarder", "ws relay"
GOAL_ADDED_P50_US = 300.0


@dataclass
class Settings:
    rounds: int
    pings_per_round: int
    warmup: int
    round_timeout: float


FULL = Settings(rounds=5, pings_per_round=2000, warmup=200, round_timeout=60.0)
QUICK = Settings(rounds=3, pings_per_round=500, warmup=100, round_timeout=30.0)

Ping = Callable[[], Awaitable[None]]


def stream_ping(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Ping:
    payload = os.urandom(MESSAGE)

    async def ping() -> None:
        writer.write(payload)
        if await reader.readexactly(MESSAGE) != payload:
            raise BenchmarkError("the echo peer sent back something else")

    return ping


def relay_ping(link: ControlLink) -> Ping:
    frame = b"\x01" + os.urandom(MESSAGE)

    async def ping() -> None:
        await link.send_relay(frame)
        while True:
            msg = await link.ws.receive()
            if msg.type != aiohttp.WSMsgType.BINARY:
                raise BenchmarkError(f"the relay link delivered {msg.type!r}")
            if msg.data[:1] == b"\x01":
                break  # control messages (none expected) are skipped
        if msg.data != frame:
            raise BenchmarkError("the echo peer sent back something else")

    return ping


async def _round(ping: Ping, count: int) -> list[float]:
    """Round trips in microseconds."""
    out = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        await ping()
        out.append((time.perf_counter_ns() - t0) / 1000)
    return out


async def _main(settings: Settings) -> tuple[dict[str, list[float]], dict[str, Any]]:
    facts: dict[str, Any] = {}
    with temp_dir("latency") as work, broker_process(work) as broker:
        certs = ["--cert", str(broker.cert_file), "--key", str(broker.key_file)]
        ca = ["--ca", str(broker.ca_file)]
        ctx = client_context(broker.ca_file)
        with (
            child("tls_forwarder", ["-m", "benchmarks.tls_forwarder", *certs], work) as fwd,
            child("echo_direct", ["-m", "benchmarks.echo_peer", "direct", *certs], work) as echo,
        ):
            fwd_port = int((await fwd.ready(r"listening on [\d.]+:(\d+)")).group(1))
            echo_port = int((await echo.ready(r"ready on [\d.]+:(\d+)")).group(1))
            token = os.urandom(8)
            forwarded_argv = [
                *("-m", "benchmarks.echo_peer", "forwarded", "--port", str(fwd_port)),
                *(*ca, "--token", token.hex()),
            ]
            with child("echo_forwarded", forwarded_argv, work) as echo_fwd:
                fwd_reader, fwd_writer = await forwarder_stream(fwd_port, ctx, token)
                await echo_fwd.ready("ready")
                direct_reader, direct_writer = await asyncio.open_connection(
                    "127.0.0.1", echo_port, ssl=ctx
                )
                set_nodelay(direct_writer.transport)
                async with BrokerClient(BrokerAddress(broker.url, ca_file=broker.ca_file)) as c:
                    login = await c.login(TECH_EMAIL, TECH_PASSWORD)
                    console = await c.connect("console", login.token)
                    nameplate = await create_raw_session(console)
                    broker_argv = ["-m", "benchmarks.echo_peer", "broker", "--url", broker.url]
                    with child(
                        "echo_applet", [*broker_argv, *ca, "--nameplate", nameplate], work
                    ) as echo_applet:
                        await console.expect("paired", timeout=30.0)
                        await echo_applet.ready("ready")
                        pings = {
                            DIRECT: stream_ping(direct_reader, direct_writer),
                            FORWARDER: stream_ping(fwd_reader, fwd_writer),
                            WS_RELAY: relay_ping(console),
                        }
                        samples = await _measure(pings, settings)
                        facts["tls_cipher"] = direct_writer.get_extra_info("cipher")
                        await console.close()
                for writer in (fwd_writer, direct_writer):
                    await close_stream(writer)
    facts["logs"] = [
        describe_errors(p.name, p.errors) for p in (broker.proc, fwd, echo, echo_fwd, echo_applet)
    ]
    return samples, facts


async def _measure(pings: dict[str, Ping], settings: Settings) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in pings}
    for ping in pings.values():
        await asyncio.wait_for(_round(ping, settings.warmup), settings.round_timeout)
    for _ in range(settings.rounds):
        for name, ping in pings.items():
            try:
                samples[name] += await asyncio.wait_for(
                    _round(ping, settings.pings_per_round), settings.round_timeout
                )
            except TimeoutError:
                raise BenchmarkError(f"{name}: a round of pings took too long") from None
    return samples


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _summarise(
    samples: dict[str, list[float]], settings: Settings, facts: dict[str, Any]
) -> Result:
    one_way = {name: [v / 2 for v in rtts] for name, rtts in samples.items()}
    p50 = {name: statistics.median(v) for name, v in one_way.items()}
    p99 = {name: _percentile(v, 99) for name, v in one_way.items()}
    rows = [
        {
            "path": name,
            "pings": len(values),
            "p50 one-way us": p50[name],
            "p99 one-way us": p99[name],
            "added p50 us": None if name == DIRECT else p50[name] - p50[DIRECT],
            "added p99 us": None if name == DIRECT else p99[name] - p99[DIRECT],
        }
        for name, values in one_way.items()
    ]
    added = p50[WS_RELAY] - p50[DIRECT]
    goals = [
        Goal(
            "ws relay: added one-way latency, p50",
            f"<= {GOAL_ADDED_P50_US:.0f} us",
            f"{added:.0f} us",
            added <= GOAL_ADDED_P50_US,
        )
    ]
    notes = [
        f"{MESSAGE}-byte messages, one in flight; {settings.rounds} rounds of "
        f"{settings.pings_per_round} pings per path, alternating, after "
        f"{settings.warmup} warm-up pings; one-way = round trip / 2; us = microseconds.",
        "Pinger in the benchmark process, echo peer in its own process, relay (broker or "
        "TLS forwarder) in a third: every path crosses processes the same way.",
        "The ws relay path also includes the WebSocket client work on both ends "
        "(aiohttp framing and masking), which a TLS stream does not have; the "
        f"tls forwarder row is a relay hop without it (beyond direct: "
        f"{p50[FORWARDER] - p50[DIRECT]:.0f} us at p50).",
        f"TLS: {cipher_name(facts.get('tls_cipher'))} on every path.",
        *facts["logs"],
    ]
    return Result(TITLE, rows, goals, notes)


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    samples, facts = links.run(_main(settings))
    return _summarise(samples, settings, facts)
