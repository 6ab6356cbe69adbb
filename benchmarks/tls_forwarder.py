"""The TLS floor: the least a relay can do, as its own process.

``python -m benchmarks.tls_forwarder --cert C --key K`` listens on 127.0.0.1 with the
broker's certificate and TLS settings, pairs two connections that open with the same
8-byte token (like magic-wormhole's transit relay), and then forwards bytes both ways
with transport-level flow control. No WebSocket, no framing, no parsing: every CPU
second it spends is TLS decryption, TLS encryption and the event loop. A relay that
forwards the same bytes can approach this cost but not beat it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import cast

from benchmarks.links import GO, PAIR_TOKEN_SIZE, run, set_nodelay
from broker.tls import BrokerCertificates, server_context


class _Half(asyncio.Protocol):
    """One accepted connection; forwards what it reads to its peer."""

    def __init__(self, waiting: dict[bytes, _Half]) -> None:
        self._waiting = waiting
        self._head = b""
        self._token: bytes | None = None
        self.peer: _Half | None = None
        self.transport: asyncio.Transport | None = None
        self._peer_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        set_nodelay(transport)

    def data_received(self, data: bytes) -> None:
        if self.peer is not None:
            assert self.peer.transport is not None
            self.peer.transport.write(data)
            return
        self._head += data
        if len(self._head) < PAIR_TOKEN_SIZE:
            return
        token, rest = self._head[:PAIR_TOKEN_SIZE], self._head[PAIR_TOKEN_SIZE:]
        other = self._waiting.pop(token, None)
        if other is None:
            # Clients wait for GO before sending, so nothing follows the token yet.
            self._token = token
            self._waiting[token] = self
            return
        self.peer, other.peer = other, self
        for half in (self, other):
            assert half.transport is not None
            half.transport.write(GO)
        if rest:
            assert other.transport is not None
            other.transport.write(rest)

    # The peer's send buffer is full: stop reading what would go into it.
    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._token is not None and self._waiting.get(self._token) is self:
            del self._waiting[self._token]
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()
            self.peer.peer = None
        self.peer = None


async def serve(cert: Path, key: Path, host: str, port: int) -> None:
    ctx = server_context(BrokerCertificates(cert, key))
    waiting: dict[bytes, _Half] = {}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Half(waiting), host, port, ssl=ctx, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"TLS forwarder listening on {host}:{bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tls_forwarder")
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    run(serve(args.cert, args.key, args.host, args.port))


if __name__ == "__main__":
    main()
