"""Client ends for the benchmarks: raw relay links through the broker, and plain TLS
streams to the reference forwarder. Shared by the benchmark process and its children."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import ssl
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from common.transport import BrokerClient, ControlLink
from common.transport import tls as client_tls

T = TypeVar("T")

#: The TLS forwarder pairs two connections that start with the same token, then sends
#: GO to both; from then on it forwards bytes both ways.
PAIR_TOKEN_SIZE = 8
GO = b"\x00"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Runs ``coro`` on uvloop when installed, the loop the broker itself uses.

    SIGTERM cancels it (as Ctrl-C does), so every ``with`` on the way out stops its
    processes and removes its folders; a program may install its own handler instead.
    """

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await coro

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    result: T = uvloop.run(main())
    return result


def client_context(ca_file: Path) -> ssl.SSLContext:
    """The same verifying context BrokerClient uses, for the reference TLS paths."""
    return client_tls.context_from_ca(ca_file=ca_file)


def cipher_name(info: object) -> str:
    """``get_extra_info("cipher")`` as text: suite and protocol version."""
    if isinstance(info, tuple) and len(info) >= 2:
        return f"{info[0]} {info[1]}"
    return "unknown"


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def create_raw_session(link: ControlLink) -> str:
    """Console side: a new session on ``link``; returns its nameplate."""
    await link.send({"t": "create_session"})
    created = await link.expect("session_created")
    return str(created["nameplate"])


async def claim_raw_session(link: ControlLink, nameplate: str) -> None:
    """Applet side: claims ``nameplate`` and waits until the broker pairs the session."""
    await link.send({"t": "claim", "nameplate": nameplate})
    await link.expect("claimed")
    await link.expect("paired")


async def raw_pair(
    console_client: BrokerClient, applet_client: BrokerClient, token: str
) -> tuple[ControlLink, ControlLink]:
    """A paired console and applet link, with no end-to-end layer: relay frames sent
    on one arrive unchanged on the other."""
    console = await console_client.connect("console", token)
    nameplate = await create_raw_session(console)
    applet = await applet_client.connect("applet")
    await claim_raw_session(applet, nameplate)
    await console.expect("paired")
    return console, applet


async def forwarder_stream(
    port: int, ctx: ssl.SSLContext, token: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TLS stream through the reference forwarder, once it has found the peer."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=ctx, limit=1 << 20), 10.0
    )
    set_nodelay(writer.transport)
    writer.write(token)
    await writer.drain()
    await asyncio.wait_for(reader.readexactly(len(GO)), 10.0)
    return reader, writer


async def close_stream(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 2.0)
