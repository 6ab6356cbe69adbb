"""Hostile brokers (hub subclasses that tamper with relayed bytes) and raw clients."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import ssl
from collections.abc import AsyncIterator
from typing import Any

from broker.app import Broker, start_broker
from broker.config import BrokerConfig
from broker.hub import SessionHub
from broker.live_sessions import Link
from common.crypto import PakeExchange, SessionCode
from common.protocol import messages
from common.protocol.framing import Kind, encode_record


def record_kind(frame: bytes) -> int:
    """Kind of the peer record inside a RELAY frame (prefix byte + u32 length + body)."""
    return frame[6]


def handshake_message(frame: bytes) -> dict[str, Any]:
    return messages.decode(frame[7:])


def handshake_frame(message: dict[str, Any]) -> bytes:
    return b"\x01" + encode_record(bytes([1, Kind.HANDSHAKE]) + messages.encode(message))


class SpyHub(SessionHub):
    """Records every relayed frame: what a curious broker operator could see."""

    seen: list[bytes]

    async def forward(self, link: Link, data: bytes) -> None:
        self.seen = getattr(self, "seen", [])
        self.seen.append(data)
        await super().forward(link, data)


class MitmHub(SpyHub):
    """Replaces each side's SPAKE2 message with its own, made with a guessed secret."""

    guess = "000000"

    async def forward(self, link: Link, data: bytes) -> None:
        self.seen = getattr(self, "seen", [])
        self.seen.append(data)
        if record_kind(data) == Kind.HANDSHAKE and handshake_message(data)["t"] == "pake":
            live = link.session
            assert live is not None and live.row.nameplate is not None and link.role is not None
            target_role = "applet" if link.role == "console" else "console"
            # Toward the target we pretend to be the side that just spoke.
            impostor = PakeExchange(
                link.role, live.session_id, SessionCode(live.row.nameplate, self.guess)
            )  # type: ignore[arg-type]
            data = handshake_frame({"t": "pake", "m": impostor.outbound})
            target = live.links[target_role]
            if target is not None:
                await target.ws.send_bytes(data)
            return
        await super(SpyHub, self).forward(link, data)


class TamperHub(SpyHub):
    """Flips one bit in the first encrypted record."""

    tampered = False

    async def forward(self, link: Link, data: bytes) -> None:
        if record_kind(data) == Kind.DATA and not self.tampered:
            self.tampered = True
            data = data[:-1] + bytes([data[-1] ^ 1])
        await super().forward(link, data)


class ReplayHub(SpyHub):
    """Sends every encrypted record twice."""

    async def forward(self, link: Link, data: bytes) -> None:
        await super().forward(link, data)
        if record_kind(data) == Kind.DATA:
            await super().forward(link, data)


Target = Broker | tuple[str, int, ssl.SSLContext]


def _endpoint(target: Target) -> tuple[str, int, ssl.SSLContext]:
    if isinstance(target, Broker):
        return (
            "127.0.0.1",
            target.port,
            ssl.create_default_context(cafile=str(target.certs.ca_file)),
        )
    return target


async def raw_tls(target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port, ctx = _endpoint(target)
    return await asyncio.open_connection(host, port, ssl=ctx)


async def raw_websocket(target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket upgraded by hand, so the test can write any frame bytes it likes."""
    reader, writer = await raw_tls(target)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    status = await reader.readline()
    assert b" 101 " in status, status
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return reader, writer


def masked_frame_header(length: int, opcode: int = 0x2) -> bytes:
    if length < 126:
        head = bytes([0x80 | opcode, 0x80 | length])
    elif length < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    return head + b"\x00\x00\x00\x00"  # an all-zero mask leaves the payload as is


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True when the server closes the connection within ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except (ConnectionError, ssl.SSLError):
        return True
    return True


@contextlib.asynccontextmanager
async def hostile_broker(config: BrokerConfig, hub: type[SessionHub]) -> AsyncIterator[Broker]:
    """The real broker, with a hub that misbehaves as ``hub`` says."""
    running = await start_broker(config, hub_class=hub)
    try:
        yield running
    finally:
        await running.stop()
