"""Many paired, idle sessions held open from a process of their own.

``python -m benchmarks.idle_clients --url U --ca CA --pairs N --subnet 127.0.5``
(technician token in ``LIFELINE_BENCH_TOKEN``) opens N console links, each creating a
session, and N applet links claiming them; each pair then swaps one small relay frame
each way (as a handshake would) and goes quiet. It prints ``ready N`` and keeps the
links open, answering the broker's heartbeats, until SIGTERM.

The broker allows each source address a burst of 20 claims, then 20 a minute, so the
applet links come from several loopback addresses (``SUBNET.1``, ``SUBNET.2``, …; all of
127.0.0.0/8 is local on Linux), a few claims each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import aiohttp

from benchmarks.links import claim_raw_session, client_context, create_raw_session, run
from common.protocol.broker_messages import MAX_FRAME
from common.transport import BrokerAddress, ControlLink

CLAIMS_PER_ADDRESS = 16  # below the broker's burst of 20
CONCURRENCY = 32
SETUP_TIMEOUT = 300.0
HANDSHAKE_BYTES = 256


async def _connect(http: aiohttp.ClientSession, ws_url: str, hello: dict[str, str]) -> ControlLink:
    """What BrokerClient.connect does, over a given HTTP session (and source address)."""
    ws = await http.ws_connect(
        ws_url, max_msg_size=MAX_FRAME, compress=0, heartbeat=20.0, autoping=True
    )
    link = ControlLink(ws)
    await link.send({"t": "hello", **hello})
    await link.expect("welcome")
    return link


async def _relay_once(sender: ControlLink, receiver: ControlLink) -> None:
    frame = b"\x01" + os.urandom(HANDSHAKE_BYTES)
    await sender.send_relay(frame)
    msg = await receiver.ws.receive(timeout=30.0)
    if msg.data != frame:
        raise RuntimeError(f"the relay delivered {msg.type!r} instead of the frame")


async def _drain(link: ControlLink) -> None:
    """Reads until the link closes: aiohttp answers pings only while someone reads."""
    with contextlib.suppress(Exception):
        while (await link.ws.receive()).type not in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            pass


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    token = os.environ["LIFELINE_BENCH_TOKEN"]
    ws_url = BrokerAddress(args.url).ws_url
    ctx = client_context(args.ca)

    def session(source: str | None) -> aiohttp.ClientSession:
        local = (source, 0) if source else None
        # limit=0: a WebSocket holds its connection, and the default pool stops at 100.
        connector = aiohttp.TCPConnector(ssl=ctx, limit=0, local_addr=local)
        return aiohttp.ClientSession(connector=connector)

    addresses = (args.pairs + CLAIMS_PER_ADDRESS - 1) // CLAIMS_PER_ADDRESS
    consoles = session(None)
    applets = [session(f"{args.subnet}.{i + 1}") for i in range(addresses)]
    links: list[ControlLink] = []
    drains: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async def pair(i: int) -> None:
        async with gate:
            console = await _connect(consoles, ws_url, {"role": "console", "token": token})
            links.append(console)
            nameplate = await create_raw_session(console)
            applet = await _connect(applets[i // CLAIMS_PER_ADDRESS], ws_url, {"role": "applet"})
            links.append(applet)
            await claim_raw_session(applet, nameplate)
            await console.expect("paired")
            await _relay_once(console, applet)
            await _relay_once(applet, console)
        # Read from now on: the broker's heartbeat closes a link that leaves its ping
        # unanswered, and setting up the other pairs can take longer than that.
        drains.extend(asyncio.create_task(_drain(link)) for link in (console, applet))

    try:
        await asyncio.wait_for(asyncio.gather(*(pair(i) for i in range(args.pairs))), SETUP_TIMEOUT)
        print(f"ready {args.pairs}", flush=True)
        await stop.wait()
    finally:
        for task in drains:
            task.cancel()
        await asyncio.gather(*drains, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                asyncio.gather(*(link.ws.close() for link in links), return_exceptions=True),
                30.0,
            )
        for http in (consoles, *applets):
            await http.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.idle_clients")
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--pairs", type=int, required=True)
    parser.add_argument("--subnet", required=True, help="first three octets, e.g. 127.0.5")
    args = parser.parse_args()
    try:
        run(_main(args))
    except Exception as exc:
        print(f"idle_clients: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
