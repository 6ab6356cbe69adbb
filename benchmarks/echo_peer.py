"""The far end of the latency ping-pong, in its own process, as a real peer would be.

``python -m benchmarks.echo_peer direct --cert C --key K``
    a TLS server on 127.0.0.1 that echoes (the direct path, no relay);
``python -m benchmarks.echo_peer forwarded --port P --ca CA --token HEX``
    connects through the TLS forwarder and echoes;
``python -m benchmarks.echo_peer broker --url U --ca CA --nameplate N``
    an applet that claims ``N`` and sends every relay frame back unchanged.

Each prints one ``ready`` line and echoes until its connection closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path
from typing import cast

import aiohttp

from benchmarks.links import claim_raw_session, client_context, forwarder_stream, run, set_nodelay
from broker.tls import BrokerCertificates, server_context
from common.transport import BrokerAddress, BrokerClient


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        set_nodelay(transport)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def _direct(args: argparse.Namespace, stop: asyncio.Event) -> None:
    ctx = server_context(BrokerCertificates(args.cert, args.key))
    server = await asyncio.get_running_loop().create_server(_Echo, "127.0.0.1", 0, ssl=ctx)
    print(f"ready on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()


async def _forwarded(args: argparse.Namespace, stop: asyncio.Event) -> None:
    reader, writer = await forwarder_stream(
        args.port, client_context(args.ca), bytes.fromhex(args.token)
    )
    print("ready", flush=True)

    async def echo() -> None:
        while data := await reader.read(1 << 16):
            writer.write(data)

    task = asyncio.create_task(echo())
    await asyncio.wait([task, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED")
    task.cancel()
    writer.close()


async def _broker(args: argparse.Namespace, stop: asyncio.Event) -> None:
    async with BrokerClient(BrokerAddress(args.url, ca_file=args.ca)) as client:
        link = await client.connect("applet")
        await claim_raw_session(link, args.nameplate)
        print("ready", flush=True)

        async def echo() -> None:
            while True:
                msg = await link.ws.receive()
                if msg.type != aiohttp.WSMsgType.BINARY:
                    return
                if msg.data[:1] == b"\x01":
                    await link.ws.send_bytes(msg.data)

        task = asyncio.create_task(echo())
        await asyncio.wait([task, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED")
        task.cancel()
        with contextlib.suppress(Exception):
            await link.close()


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await {"direct": _direct, "forwarded": _forwarded, "broker": _broker}[args.mode](args, stop)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.echo_peer")
    parser.add_argument("mode", choices=["direct", "forwarded", "broker"])
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    parser.add_argument("--ca", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--token")
    parser.add_argument("--url")
    parser.add_argument("--nameplate")
    run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
