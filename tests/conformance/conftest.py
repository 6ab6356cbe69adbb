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
from common.transport import BrokerAddress
from tests.conftest import make_config, seed


@dataclass
class Target:
    address: BrokerAddress
    email: str
    password: str
    ca_pem: bytes

    @property
    def endpoint(self) -> tuple[str, int, ssl.SSLContext]:
        url = urlparse(self.address.url)
        ctx = (
            ssl.create_default_context(cadata=self.ca_pem.decode())
            if self.ca_pem
            else ssl.create_default_context()
        )
        return url.hostname or "127.0.0.1", url.port or 443, ctx


@pytest.fixture
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    url = request.config.getoption("--broker-url")
    if url:
        ca_file = request.config.getoption("--broker-ca-file")
        email = request.config.getoption("--tech-email")
        password = request.config.getoption("--tech-password")
        if not (email and password):
            pytest.fail("--broker-url needs --tech-email and --tech-password")
        yield Target(
            BrokerAddress(
                url,
                ca_file=Path(ca_file) if ca_file else None,
                ca_fingerprint=request.config.getoption("--broker-ca-fingerprint"),
            ),
            email,
            password,
            Path(ca_file).read_bytes() if ca_file else b"",
        )
        return
    broker = await start_broker(make_config(tmp_path / "broker"))
    tech = seed(broker)
    ca_pem = broker.certs.ca_file.read_bytes()
    try:
        # The reference run pins by fingerprint, the way an applet is built.
        yield Target(
            BrokerAddress(broker.url, ca_fingerprint=fingerprint(ca_pem)),
            tech.email,
            tech.password,
            ca_pem,
        )
    finally:
        await broker.stop()
