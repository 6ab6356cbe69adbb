"""Conformance tests run against any broker: ``--broker-url`` (with its CA and a
technician account), or by default a reference broker started here."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

from broker.app import start_broker
from common.crypto.certificates import fingerprint
from common.transport import BrokerAddress, BrokerClient
from tests.conftest import make_config, seed


@dataclass
class Target:
    address: BrokerAddress
    email: str
    password: str
    #: The context the client itself uses (pinned CA file, fingerprint, or system trust).
    ssl_context: ssl.SSLContext
    #: Whether the broker's certificate comes from its own CA (not the system store).
    private_ca: bool

    @property
    def endpoint(self) -> tuple[str, int, ssl.SSLContext]:
        url = urlparse(self.address.url)
        return url.hostname or "127.0.0.1", url.port or 443, self.ssl_context


async def _target(address: BrokerAddress, email: str, password: str) -> Target:
    client = BrokerClient(address)
    try:
        context = await client._context()
    finally:
        await client.close()
    private = address.ca_file is not None or address.ca_fingerprint is not None
    return Target(address, email, password, context, private)


@pytest.fixture
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    url = request.config.getoption("--broker-url")
    if url:
        email = request.config.getoption("--tech-email")
        password = request.config.getoption("--tech-password")
        if not (email and password):
            pytest.fail("--broker-url needs --tech-email and --tech-password")
        ca_file = request.config.getoption("--broker-ca-file")
        address = BrokerAddress(
            url,
            ca_file=Path(ca_file) if ca_file else None,
            ca_fingerprint=request.config.getoption("--broker-ca-fingerprint"),
        )
        yield await _target(address, email, password)
        return
    broker = await start_broker(make_config(tmp_path / "broker"))
    tech = seed(broker)
    assert broker.certs.ca_file is not None
    try:
        # The reference run pins by fingerprint, the way an applet is built.
        pinned = BrokerAddress(
            broker.url, ca_fingerprint=fingerprint(broker.certs.ca_file.read_bytes())
        )
        yield await _target(pinned, tech.email, tech.password)
    finally:
        await broker.stop()
