"""A hostile broker, and hostile clients against the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import aiohttp
import psutil
import pytest

from broker.app import Broker
from broker.config import BrokerConfig
from broker.hub import SessionHub
from common.errors import ConnectionFailed, ProtocolError, RateLimited, SessionEnded, WrongCode
from common.protocol import Channel
from common.protocol.broker_messages import control_frame
from common.protocol.framing import Kind
from common.transport import BrokerClient, Login, PeerSession
from tests.broker.hostile import (
    MitmHub,
    ReplayHub,
    TamperHub,
    closed_within,
    hostile_broker,
    masked_frame_header,
    raw_tls,
    raw_websocket,
    record_kind,
)
from tests.conftest import address, paired_sessions, seed


async def test_a_broker_substituting_spake2_messages_is_detected(
    broker_config: BrokerConfig,
) -> None:
    async with hostile_broker(broker_config, MitmHub) as broker:
        tech = seed(broker)
        async with BrokerClient(address(broker)) as c1, BrokerClient(address(broker)) as c2:
            token = (await c1.login(tech.email, tech.password)).token
            console = await PeerSession.create(c1, token)
            applet = await PeerSession.claim(c2, str(console.code))
            for side in (console, applet):
                with pytest.raises(WrongCode):
                    await side.wait_open(10)
            with pytest.raises(SessionEnded):
                console.send(Channel.CHAT, {"t": "chat", "text": "never"})
            await console.close()
            await applet.close()
        hub = broker.hub
        assert isinstance(hub, MitmHub)
        kinds = {record_kind(f) for f in hub.seen}
        assert Kind.DATA not in kinds  # no application data ever flowed
        assert hub.sessions == {}  # the code is burnt


async def test_a_broker_flipping_a_bit_ends_the_session(broker_config: BrokerConfig) -> None:
    async with hostile_broker(broker_config, TamperHub) as broker:
        tech = seed(broker)
        async with BrokerClient(address(broker)) as c1, BrokerClient(address(broker)) as c2:
            console, applet = await paired_sessions(
                c1, c2, (await c1.login(tech.email, tech.password)).token
            )
            console.send(Channel.CHAT, {"t": "chat", "text": "pay 100 to Bob"})
            with pytest.raises(SessionEnded) as ended:
                await applet.next_message(5)
            assert ended.value.reason == "tampered"
            await console.close()
            await applet.close()


async def test_a_broker_replaying_records_delivers_nothing_twice(
    broker_config: BrokerConfig,
) -> None:
    async with hostile_broker(broker_config, ReplayHub) as broker:
        tech = seed(broker)
        async with BrokerClient(address(broker)) as c1, BrokerClient(address(broker)) as c2:
            console, applet = await paired_sessions(
                c1, c2, (await c1.login(tech.email, tech.password)).token
            )
            for i in range(5):
                console.send(Channel.CHAT, {"t": "chat", "i": i})
            got = [(await applet.next_message(5)).message["i"] for _ in range(5)]
            assert got == list(range(5))
            with pytest.raises(TimeoutError):
                await applet.next_message(0.3)
            assert applet.conn is not None and applet.conn.counters.duplicates_dropped >= 5
            await console.end()
            await applet.close()


@pytest.fixture
async def live_pair(
    broker: Broker, client: BrokerClient, login: Login
) -> AsyncIterator[tuple[PeerSession, PeerSession]]:
    async with BrokerClient(address(broker)) as applet_client:
        pair = await paired_sessions(client, applet_client, login.token)
        yield pair
        for side in pair:
            await side.close()


async def still_works(pair: tuple[PeerSession, PeerSession], text: str) -> None:
    console, applet = pair
    console.send(Channel.CHAT, {"t": "chat", "text": text})
    assert (await applet.next_message(5)).message["text"] == text


async def test_garbage_before_the_upgrade_closes_only_that_connection(
    broker: Broker, live_pair: tuple[PeerSession, PeerSession]
) -> None:
    reader, writer = await raw_tls(broker)
    writer.write(os.urandom(4096))
    assert await closed_within(reader, 5)
    writer.close()
    await still_works(live_pair, "after garbage")


async def test_a_100_mib_length_header_is_refused_without_allocating(
    broker: Broker, live_pair: tuple[PeerSession, PeerSession]
) -> None:
    rss_before = psutil.Process().memory_info().rss
    reader, writer = await raw_websocket(broker)
    writer.write(masked_frame_header(100 * 1024 * 1024) + b"\x01" * 4096)
    await writer.drain()
    assert await closed_within(reader, 5)
    writer.close()
    assert psutil.Process().memory_info().rss - rss_before < 50 * 1024 * 1024
    await still_works(live_pair, "after the huge header")


@pytest.mark.parametrize(
    "payload",
    [
        b"\x07garbage",
        b"\x00\xc1\xc1",
        b"\x01relay-before-pairing",
        control_frame({"t": "claim", "nameplate": "1"}),
        control_frame({"t": "hello", "role": "root"}),
        b"",
    ],
    ids=["unknown-frame", "bad-msgpack", "relay-first", "claim-before-hello", "bad-role", "empty"],
)
async def test_bad_frames_close_only_that_link(
    broker: Broker, live_pair: tuple[PeerSession, PeerSession], payload: bytes
) -> None:
    reader, writer = await raw_websocket(broker)
    writer.write(masked_frame_header(len(payload)) + payload)
    await writer.drain()
    assert await closed_within(reader, 5)
    writer.close()
    await still_works(live_pair, "after a bad frame")


async def test_a_silent_client_is_dropped_after_the_hello_timeout(broker: Broker) -> None:
    broker.config.hello_timeout = 0.3
    reader, writer = await raw_websocket(broker)
    assert await closed_within(reader, 3)
    writer.close()


async def test_code_claims_are_rate_limited_per_address(
    broker: Broker, client: BrokerClient, tech: object
) -> None:
    broker.hub.claim_limiter.__init__(3)  # type: ignore[misc]
    link = await client.connect("applet")
    for _ in range(3):
        await link.send({"t": "claim", "nameplate": "999"})
        with pytest.raises(Exception) as err:
            await link.expect("claimed")
        assert getattr(err.value, "code", "") == "bad_code"
    await link.send({"t": "claim", "nameplate": "999"})
    with pytest.raises(RateLimited):
        await link.expect("claimed")
    await link.close()


async def test_connection_limit(broker: Broker, client: BrokerClient) -> None:
    broker.config.max_connections = 1
    first = await client.connect("applet")
    with pytest.raises(ConnectionFailed):
        await client.connect("applet")
    await first.close()


async def test_a_reader_that_stops_reading_is_closed(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    broker.config.slow_client_timeout = 1.0
    console_link = await client.connect("console", login.token)
    await console_link.send({"t": "create_session"})
    created = await console_link.expect("session_created")
    _reader, writer = await raw_websocket(broker)
    for msg in (
        {"t": "hello", "role": "applet"},
        {"t": "claim", "nameplate": created["nameplate"]},
    ):
        frame = control_frame(msg)
        writer.write(masked_frame_header(len(frame)) + frame)
    await writer.drain()
    await console_link.expect("paired")
    transport = writer.transport
    transport.pause_reading()  # the applet side stops reading altogether
    chunk = b"\x01" + bytes(512 * 1024)
    with contextlib.suppress(Exception):
        async with asyncio.timeout(4):
            while True:
                await console_link.send_relay(chunk)
    for _ in range(100):
        if not any(link.role == "applet" for link in broker.hub.links):
            break
        await asyncio.sleep(0.05)
    assert not any(link.role == "applet" for link in broker.hub.links)
    writer.close()
    await console_link.close()


async def test_healthz_reports_status(broker: Broker) -> None:
    async with aiohttp.ClientSession() as http:
        import ssl

        ctx = ssl.create_default_context(cafile=str(broker.certs.ca_file))
        async with http.get(f"{broker.url}/healthz", ssl=ctx) as resp:
            body = await resp.json()
    assert resp.status == 200 and body["status"] == "ok"
    assert set(body["sessions"]) >= {"waiting", "queued", "paired"}


class GarbageToAppletHub(SessionHub):
    """Answers the applet's first relay frame with a frame type that does not exist."""

    async def forward(self, link, data):  # type: ignore[no-untyped-def]
        if link.role == "applet":
            await link.ws.send_bytes(b"\x07not-a-frame")
            return
        await super().forward(link, data)


async def test_a_client_ends_the_session_on_a_malformed_broker_frame(
    broker_config: BrokerConfig,
) -> None:
    async with hostile_broker(broker_config, GarbageToAppletHub) as broker:
        tech = seed(broker)
        async with BrokerClient(address(broker)) as c1, BrokerClient(address(broker)) as c2:
            token = (await c1.login(tech.email, tech.password)).token
            console = await PeerSession.create(c1, token)
            applet = await PeerSession.claim(c2, str(console.code))
            with pytest.raises(ProtocolError):
                await applet.wait_open(10)
            assert applet.ended is not None and applet.ended.reason == "protocol_error"
            await console.close()
            await applet.close()
