"""The technician's home against the real broker: codes, the live queue, pickups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from broker.app import Broker
from common.transport import BrokerClient, Login, PeerSession
from console.lobby import (
    Abandoned,
    CodeReady,
    Lobby,
    LobbyEvent,
    QueueChanged,
    SessionReady,
    SignedOut,
    parse_queue,
)
from tests.conftest import Tech, address


class Events:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[LobbyEvent] = asyncio.Queue()

    async def next(self, kind: type, where: Any = lambda e: True) -> Any:
        async with asyncio.timeout(10):
            while True:
                event = await self.queue.get()
                if isinstance(event, kind) and where(event):
                    return event


@pytest.fixture
async def lobby(client: BrokerClient, login: Login) -> AsyncIterator[tuple[Lobby, Events]]:
    events = Events()
    lobby = Lobby(client, login, events.queue.put_nowait)
    lobby.start()
    yield lobby, events
    await lobby.close()


async def test_a_code_becomes_a_session(broker: Broker, lobby: tuple[Lobby, Events]) -> None:
    home, events = lobby
    ticket = home.new_session()
    ready: CodeReady = await events.next(CodeReady)
    assert ready.ticket == ticket and ready.expires_at > time.time() + 500
    assert ready.download_name == "Lifeline-" + ready.code.replace("-", "") + ".exe"
    async with BrokerClient(address(broker)) as customer:
        applet = await PeerSession.claim(customer, ready.code, {"name": "Bob", "host": "bob-pc"})
        session: SessionReady = await events.next(SessionReady)
        assert session.ticket == ticket and session.customer == "Bob (bob-pc)"
        assert session.sas == await applet.wait_open(5)
        await session.session.end()
        await applet.close()


async def test_a_withdrawn_code_is_gone(broker: Broker, lobby: tuple[Lobby, Events]) -> None:
    home, events = lobby
    ticket = home.new_session()
    ready: CodeReady = await events.next(CodeReady)
    await home.cancel(ticket)
    assert (await events.next(Abandoned)).ticket == ticket
    async with BrokerClient(address(broker)) as customer:
        with pytest.raises(Exception, match="wrong or has expired"):
            await PeerSession.claim(customer, ready.code)


async def test_the_queue_is_live_and_a_pickup_opens(
    broker: Broker, tech: Tech, lobby: tuple[Lobby, Events]
) -> None:
    home, events = lobby
    assert (await events.next(QueueChanged)).entries == ()
    async with BrokerClient(address(broker)) as customer:
        applet = await PeerSession.enqueue(
            customer, technician=tech.email, customer={"name": "Carol"}
        )
        changed: QueueChanged = await events.next(QueueChanged, lambda e: e.entries)
        (entry,) = changed.entries
        assert (entry.who, entry.queue) == ("Carol", "private")
        assert time.time() - 5 < entry.since <= time.time()
        ticket = home.pickup(entry.session_id)
        ready: SessionReady = await events.next(SessionReady)
        assert ready.ticket == ticket and ready.customer == "Carol"
        assert ready.sas == await applet.wait_open(5)
        async with asyncio.timeout(5):
            while home.queue:  # the pickup's push may come before or after the session
                await asyncio.sleep(0.02)
        late = home.pickup(entry.session_id)
        abandoned: Abandoned = await events.next(Abandoned)
        assert abandoned.ticket == late and "no longer waiting" in abandoned.message
        await ready.session.end()
        await applet.close()


async def test_a_revoked_sign_in_signs_the_lobby_out(
    broker: Broker, tech: Tech, lobby: tuple[Lobby, Events]
) -> None:
    _, events = lobby
    await events.next(QueueChanged)
    broker.accounts.set_disabled(tech.email, True)
    async with BrokerClient(address(broker)) as customer:
        await PeerSession.enqueue(customer, group="Support")  # the push re-checks the token
        assert (await events.next(SignedOut)).message


def test_malformed_queue_entries_are_left_out() -> None:
    good = {"session_id": "s1", "customer": {"name": "A", "n": 3}, "waiting_seconds": 4.0}
    entries = parse_queue(
        [
            {**good, "queue": "group"},
            {**good, "queue": "elsewhere"},
            {**good, "waiting_seconds": "long", "queue": "group"},
            "junk",
            {**good, "customer": [], "queue": "private"},
        ],
        now=100.0,
    )
    assert [(e.session_id, e.customer, e.since) for e in entries] == [
        ("s1", {"name": "A", "n": "3"}, 96.0)
    ]
