"""``lifeline-demo``: the whole of Lifeline on this one machine.

    lifeline-demo                     on a desktop: broker, console signed in, and an
                                      applet joined with a fresh code on your screen
    lifeline-demo --headless --out D  no screen needed: starts Xvfb, drives a scripted
                                      session, leaves D/summary.json and screenshots
    lifeline-demo --broker-only       just the broker, until Ctrl+C

Everything runs on the embedded defaults: SQLite and a self-made certificate authority
under ``--data`` (``./.lifeline-demo``), and a demo technician account.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifeline-demo",
        description="Lifeline on this one machine: broker, console and applet.",
    )
    parser.add_argument("--data", type=Path, default=Path(".lifeline-demo"),
                        help="the broker's data folder (default ./.lifeline-demo)")  # fmt: skip
    parser.add_argument("--port", type=int, default=8443, help="the broker's port")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--headless", action="store_true",
                      help="start Xvfb and drive a scripted session (the default with no "
                           "screen)")  # fmt: skip
    mode.add_argument("--broker-only", action="store_true", help="run only the broker")
    mode.add_argument("--once", action="store_true",
                      help="start the broker, print how to reach it, stop (for tests)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("lifeline-demo-out"),
                        help="where --headless writes summary.json and screenshots")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    if args.once or args.broker_only:
        install_event_loop_policy()
        prepare(args.data)
        return asyncio.run(run(BrokerConfig(data_dir=args.data, port=args.port), args.once))
    if args.headless or not os.environ.get("DISPLAY"):
        from console.demo_session import run_headless

        return run_headless(args.out, args.data)
    from console.demo_live import run_live

    return run_live(args.data)


if __name__ == "__main__":
    sys.exit(main())
