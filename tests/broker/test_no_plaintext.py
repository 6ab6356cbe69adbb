"""The broker's database and logs never hold what the peers said to each other."""

from __future__ import annotations

import logging

import pytest

from broker.app import Broker
from common.protocol import Channel
from common.transport import BrokerClient, Login
from tests.conftest import address, paired_sessions

SECRET_TEXT = "my-bank-pin-is-7f3a9c2e"


async def test_database_and_logs_contain_no_peer_plaintext(
    broker: Broker, client: BrokerClient, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        console.send(Channel.CHAT, {"t": "chat", "text": SECRET_TEXT})
        applet.send(Channel.FILE, {"t": "file", "data": SECRET_TEXT.encode() * 1000})
        assert (await applet.next_message(5)).message["text"] == SECRET_TEXT
        assert (await console.next_message(5)).message["data"].startswith(SECRET_TEXT.encode())
        stored = b"".join(p.read_bytes() for p in broker.config.data_dir.glob("broker.sqlite3*"))
        assert stored  # the check reads something real
        assert SECRET_TEXT.encode() not in stored
        assert console.code is not None and console.code.secret.encode() not in stored
        logs = caplog.text
        assert "paired" in logs  # logging was on
        assert SECRET_TEXT not in logs and console.code.secret not in logs
        await console.end()
        await applet.close()
