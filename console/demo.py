"""``lifeline-demo``: Lifeline on this one machine.

For now it runs the embedded broker (SQLite and a self-made certificate under
``./.lifeline-demo``) with a demo technician, and prints how to reach it. The console
and applet issues extend it into the full scripted session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from broker.accounts import Accounts
from broker.app import open_storage
from broker.cli import install_event_loop_policy, start_or_explain
from broker.config import BrokerConfig

DEMO_EMAIL = "demo@lifeline.test"
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - a published demo account on loopback


def prepare(data_dir: Path) -> None:
    storage = open_storage(data_dir)
    try:
        accounts = Accounts(storage, BrokerConfig(data_dir=data_dir))
        if storage.get_group("Demo") is None:
            accounts.add_group("Demo")
        if storage.get_technician(DEMO_EMAIL) is None:
            accounts.add_technician(DEMO_EMAIL, "Demo Technician", DEMO_PASSWORD, "Demo")
    finally:
        storage.close()


async def run(config: BrokerConfig, once: bool) -> int:
    broker = await start_or_explain(config)
    if broker is None:
        return 1
    print(f"Lifeline broker listening on {broker.url}")
    lines = [("health", f"{broker.url}/healthz"), *broker.certs.describe()]
    lines.append(("demo technician", f"{DEMO_EMAIL} / {DEMO_PASSWORD}"))
    for label, value in lines:
        print(f"  {label + ':':17}{value}")
    print("Press Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if not once:
        await stop.wait()
    await broker.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lifeline-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(".lifeline-demo"))
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--once", action="store_true", help="start, print, and stop (for tests)")
    args = parser.parse_args(argv)
    prepare(args.data)
    install_event_loop_policy()
    return asyncio.run(run(BrokerConfig(data_dir=args.data, port=args.port), args.once))


if __name__ == "__main__":
    sys.exit(main())
