"""Pairing and end-to-end messages through the real broker over TLS on loopback."""

from __future__ import annotations

import pytest

from broker.app import Broker
from common.errors import CodeNotFound, SessionEnded, WrongCode
from common.protocol import Channel
from common.transport import BrokerClient, Login, PeerSession
from tests.conftest import address, paired_sessions


async def test_code_pairs_and_messages_flow_both_ways(broker: Broker, client: BrokerClient, login: Login) -> None:
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        assert applet.peer["name"] == "Alice"
        assert console.peer["name"] == "Bob"
        assert applet.policy is not None and "remote_control" in applet.policy["permissions"]
        console.send(Channel.CHAT, {"t": "chat", "text": "hello from the console"})
        applet.send(Channel.CHAT, {"t": "chat", "text": "hello from the applet"})
        got_applet = await applet.next_message(5)
        got_console = await console.next_message(5)
        assert got_applet.message["text"] == "hello from the console"
        assert got_console.message["text"] == "hello from the applet"
        await console.end()
        with pytest.raises(SessionEnded) as ended:
            await applet.next_message(5)
        assert ended.value.reason == "ended"
        await applet.close()
