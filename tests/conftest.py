"""Shared fixtures: a real broker over real TLS on 127.0.0.1, and accounts in it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from broker.app import Broker, start_broker
from broker.config import BrokerConfig
from common.crypto import SessionCode
from common.transport import BrokerAddress, BrokerClient, Login, PeerSession

PASSWORD = "correct-horse-42"


@dataclass
class Tech:
    email: str
    password: str
    name: str


def make_config(data_dir: Path, **overrides: object) -> BrokerConfig:
    config = BrokerConfig(data_dir=data_dir, host="127.0.0.1", port=0)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def seed(broker: Broker, email: str = "alice@example.test", name: str = "Alice") -> Tech:
    if broker.storage.get_group("Support") is None:
        broker.accounts.add_group("Support")
    if broker.storage.get_technician(email) is None:
        broker.accounts.add_technician(email, name, PASSWORD, "Support")
    return Tech(email, PASSWORD, name)


@pytest.fixture
def broker_config(tmp_path: Path) -> BrokerConfig:
    return make_config(tmp_path / "broker")


@pytest.fixture
async def broker(broker_config: BrokerConfig) -> AsyncIterator[Broker]:
    running = await start_broker(broker_config)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def tech(broker: Broker) -> Tech:
    return seed(broker)


def address(broker: Broker) -> BrokerAddress:
    return BrokerAddress(broker.url, ca_file=broker.certs.ca_file)


@pytest.fixture
async def client(broker: Broker) -> AsyncIterator[BrokerClient]:
    async with BrokerClient(address(broker)) as c:
        yield c


@pytest.fixture
async def login(client: BrokerClient, tech: Tech) -> Login:
    return await client.login(tech.email, tech.password)


async def paired_sessions(
    console_client: BrokerClient, applet_client: BrokerClient, token: str
) -> tuple[PeerSession, PeerSession]:
    """A console and an applet session joined by a code, keys confirmed."""
    console = await PeerSession.create(console_client, token)
    assert console.code is not None
    applet = await PeerSession.claim(
        applet_client, str(console.code), {"name": "Bob", "host": "bob-pc"}
    )
    sas_console, sas_applet = await console.wait_open(10), await applet.wait_open(10)
    assert sas_console == sas_applet
    return console, applet


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lifeline conformance")
    group.addoption(
        "--broker-url", help="run tests/conformance against this broker (https://host:port)"
    )
    group.addoption("--broker-ca-file", help="CA file that signed the broker's certificate")
    group.addoption("--broker-ca-fingerprint", help="pinned SHA-256 fingerprint of the broker's CA")
    group.addoption("--tech-email", help="a technician account on that broker")
    group.addoption("--tech-password", help="its password")


def wrong_code(code: SessionCode | None) -> str:
    """The same nameplate with a different secret: what a mistyped code looks like."""
    assert code is not None
    return f"{code.nameplate}{(int(code.secret) + 1) % 10**6:06d}"


async def stops_at(count: Callable[[], int], expected: int) -> None:
    """Waits for ``count()`` to reach ``expected`` (however slow the machine), then
    checks that it stays there."""
    async with asyncio.timeout(10):
        while count() < expected:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert count() == expected
