"""idle_rss: the broker's memory with many paired sessions that send nothing.

The broker runs as ``lifeline-broker serve``; two client processes
(:mod:`benchmarks.idle_clients`) open the pairs, so the benchmark process only watches.
The broker's resident set size (psutil) is read once it has served one sign-in, again
when every pair is paired and idle (checked on ``/healthz``), and once more after the
clients have gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

from benchmarks import links
from benchmarks.processes import (
    TECH_EMAIL,
    TECH_PASSWORD,
    BenchmarkError,
    Child,
    broker_process,
    child,
    describe_errors,
    raise_open_file_limit,
    temp_dir,
)
from benchmarks.report import KIB, MIB, Goal, Result
from common.transport import BrokerAddress, BrokerClient

TITLE = "Broker memory (RSS) with paired idle sessions"

GOAL_PAIRS = 1000
GOAL_RSS_MIB = 128.0
CLIENT_PROCESSES = 2
SETTLE = 3.0


@dataclass
class Settings:
    pairs: int
    setup_timeout: float


FULL = Settings(pairs=1000, setup_timeout=300.0)
QUICK = Settings(pairs=200, setup_timeout=120.0)


@dataclass
class Stage:
    name: str
    rss: int
    health: dict[str, Any]


async def _health(client: BrokerClient) -> dict[str, Any]:
    return await client.get_json("/healthz")


async def _settled_rss(proc: Child) -> int:
    """RSS after the broker has had a moment to finish what it was doing."""
    await asyncio.sleep(SETTLE)
    return proc.rss()


async def _wait_for(client: BrokerClient, paired: int, connections: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = await _health(client)
        if health["sessions"]["paired"] == paired and health["connections"] == connections:
            return
        await asyncio.sleep(0.5)
    raise BenchmarkError(f"the broker did not reach {paired} paired sessions: {health}")


async def _main(settings: Settings) -> tuple[list[Stage], list[str]]:
    stages: list[Stage] = []
    clients: list[Child] = []
    raise_open_file_limit()
    with temp_dir("idle-rss") as work, broker_process(work) as broker:
        address = BrokerAddress(broker.url, ca_file=broker.ca_file)
        async with BrokerClient(address) as client:
            login = await client.login(TECH_EMAIL, TECH_PASSWORD)
            stages.append(
                Stage(
                    "started, one sign-in", await _settled_rss(broker.proc), await _health(client)
                )
            )
            shares = [settings.pairs // CLIENT_PROCESSES] * CLIENT_PROCESSES
            shares[0] += settings.pairs - sum(shares)
            argv = ["-m", "benchmarks.idle_clients", "--url", broker.url]
            argv += ["--ca", str(broker.ca_file)]
            env = {"LIFELINE_BENCH_TOKEN": login.token}
            with contextlib.ExitStack() as stack:
                clients += [
                    stack.enter_context(
                        child(
                            f"idle_clients_{i}",
                            [*argv, "--pairs", str(n), "--subnet", f"127.0.{10 + i}"],
                            work,
                            env=env,
                            stop_timeout=60.0,
                        )
                    )
                    for i, n in enumerate(shares)
                ]
                for proc in clients:
                    await proc.ready(r"ready \d+", timeout=settings.setup_timeout)
                await _wait_for(client, settings.pairs, 2 * settings.pairs, 30.0)
                stages.append(
                    Stage(
                        f"{settings.pairs} pairs paired, idle",
                        await _settled_rss(broker.proc),
                        await _health(client),
                    )
                )
            # Leaving the stack stopped the clients (SIGTERM: they close their links).
            await _wait_for(client, 0, 0, 60.0)
            stages.append(
                Stage("clients gone", await _settled_rss(broker.proc), await _health(client))
            )
    logs = [describe_errors(p.name, p.errors) for p in (broker.proc, *clients)]
    return stages, logs


def _summarise(stages: list[Stage], settings: Settings, logs: list[str]) -> Result:
    base = stages[0].rss
    rows = [
        {
            "stage": s.name,
            "paired sessions": s.health["sessions"]["paired"],
            "connections": s.health["connections"],
            "RSS MiB": s.rss / MIB,
            "vs start MiB": (s.rss - base) / MIB,
        }
        for s in stages
    ]
    idle = stages[1].rss
    per_pair = (idle - base) / settings.pairs
    at_goal = idle if settings.pairs == GOAL_PAIRS else base + per_pair * GOAL_PAIRS
    estimated = "" if settings.pairs == GOAL_PAIRS else f" (estimated from {settings.pairs})"
    goals = [
        Goal(
            f"broker RSS with {GOAL_PAIRS} paired idle sessions{estimated}",
            f"<= {GOAL_RSS_MIB:.0f} MiB",
            f"{at_goal / MIB:.1f} MiB",
            at_goal / MIB <= GOAL_RSS_MIB,
        )
    ]
    notes = [
        f"Per pair (2 WebSocket connections over TLS): {per_pair / KIB:.1f} KiB "
        f"({per_pair / 2 / KIB:.1f} KiB per connection), measured as (idle - start) / pairs.",
        f"Pairs opened by {CLIENT_PROCESSES} client processes (python -m "
        "benchmarks.idle_clients); each pair swapped one 256-byte relay frame each way, "
        "then stayed silent apart from WebSocket heartbeats.",
        "Applet links come from several 127.0.x.y source addresses, 16 claims each, to stay "
        "inside the broker's per-address claim limit (20 at once, then 20 a minute).",
        f"RSS read {SETTLE:.0f} s after each stage settled; MiB = 2^20 bytes.",
        *logs,
    ]
    return Result(TITLE, rows, goals, notes)


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    stages, logs = links.run(_main(settings))
    return _summarise(stages, settings, logs)
