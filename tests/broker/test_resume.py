"""Links that drop come back: nothing acknowledged is lost, nothing arrives twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from broker.app import Broker
from common.errors import SessionEnded
from common.protocol import Channel
from common.transport import BrokerAddress, BrokerClient, Ended, PeerSession, PeerState
from tests.broker.cut_proxy import CutProxy
from tests.conftest import PASSWORD, Tech, paired_sessions


@pytest.fixture
async def proxy(broker: Broker) -> AsyncIterator[CutProxy]:
    p = await CutProxy(broker.port).start()
    yield p
    await p.stop()


async def receive_all(session: PeerSession, count: int, timeout: float = 20) -> list[int]:
    got = []
    for _ in range(count):
        got.append((await session.next_message(timeout)).message["i"])
    return got


async def wait_for_state(session: PeerSession, state: str, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while True:
            event = await session.next_event()
            if isinstance(event, PeerState) and event.state == state:
                return
            assert not isinstance(event, Ended), event


async def test_a_cut_relay_connection_resumes_without_loss_or_duplicates(
    broker: Broker, proxy: CutProxy, tech: Tech
) -> None:
    via_proxy = BrokerAddress(proxy.url, ca_file=broker.certs.ca_file)
    async with BrokerClient(via_proxy) as c1, BrokerClient(via_proxy) as c2:
        token = (await c1.login(tech.email, tech.password)).token
        console, applet = await paired_sessions(c1, c2, token)
        for i in range(50):
            console.send(Channel.CHAT, {"t": "chat", "i": i})
            applet.send(Channel.CONTROL, {"t": "ctl", "i": i})
        proxy.cut()
        # Sent while the link is down: kept and delivered after the resume.
        for i in range(50, 100):
            console.send(Channel.CHAT, {"t": "chat", "i": i})
            applet.send(Channel.CONTROL, {"t": "ctl", "i": i})
        assert await receive_all(applet, 100) == list(range(100))
        assert await receive_all(console, 100) == list(range(100))
        with pytest.raises(TimeoutError):
            await applet.next_message(0.5)  # and nothing twice
        await console.end()
        await applet.close()


async def test_the_other_side_sees_reconnecting_then_connected(
    broker: Broker, proxy: CutProxy, tech: Tech, client: BrokerClient
) -> None:
    async with BrokerClient(
        BrokerAddress(proxy.url, ca_file=broker.certs.ca_file)
    ) as applet_client:
        token = (await client.login(tech.email, tech.password)).token
        console, applet = await paired_sessions(client, applet_client, token)
        proxy.cut()  # only the applet goes through the proxy
        await wait_for_state(console, "peer_reconnecting")
        await wait_for_state(console, "peer_connected")
        applet.send(Channel.CHAT, {"t": "chat", "i": 7})
        assert await receive_all(console, 1) == [7]
        await console.end()
        await applet.close()


async def test_after_the_grace_period_the_session_ends_on_both_sides(
    broker: Broker, proxy: CutProxy, tech: Tech, client: BrokerClient
) -> None:
    broker.config.grace_period = 0.5
    async with BrokerClient(
        BrokerAddress(proxy.url, ca_file=broker.certs.ca_file)
    ) as applet_client:
        token = (await client.login(tech.email, tech.password)).token
        console, applet = await paired_sessions(client, applet_client, token)
        proxy.refuse = True
        proxy.cut()
        with pytest.raises(SessionEnded) as console_end:
            await console.next_message(10)
        assert console_end.value.reason == "peer_lost"
        proxy.refuse = False
        with pytest.raises(SessionEnded) as applet_end:
            await applet.next_message(20)
        assert applet_end.value.reason in ("peer_lost", "link_lost")
        assert broker.hub.sessions == {}
        await applet.close()
        await console.close()


# ---- a real broker process, killed and restarted -----------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "broker.cli", "--data", str(data), *args]


class BrokerProcess:
    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port = data, port
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            _cli(self.data, "serve", "--port", str(self.port)),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "listening on" in line, line

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def broker_process(tmp_path: Path) -> Iterator[BrokerProcess]:
    data = tmp_path / "broker"
    env = {**os.environ}
    for args in (
        ("admin", "add-group", "Support"),
        (
            "admin",
            "add-technician",
            "alice@example.test",
            "--name",
            "Alice",
            "--group",
            "Support",
            "--password",
            PASSWORD,
        ),
    ):
        subprocess.run(_cli(data, *args), check=True, env=env, capture_output=True)
    process = BrokerProcess(data, _free_port())
    process.start()
    yield process
    process.stop()


async def test_killing_and_restarting_the_broker_resumes_the_session(
    broker_process: BrokerProcess,
) -> None:
    address = BrokerAddress(
        f"https://127.0.0.1:{broker_process.port}", ca_file=broker_process.data / "ca.pem"
    )
    async with BrokerClient(address) as c1, BrokerClient(address) as c2:
        token = (await c1.login("alice@example.test", PASSWORD)).token
        console, applet = await paired_sessions(c1, c2, token)
        for i in range(20):
            console.send(Channel.CHAT, {"t": "chat", "i": i})
        assert await receive_all(applet, 20) == list(range(20))
        broker_process.kill()
        for i in range(20, 40):
            console.send(Channel.CHAT, {"t": "chat", "i": i})
            applet.send(Channel.CHAT, {"t": "chat", "i": i})
        await asyncio.sleep(0.5)
        await asyncio.to_thread(broker_process.start)
        assert await receive_all(applet, 20, timeout=30) == list(range(20, 40))
        assert await receive_all(console, 20, timeout=30) == list(range(20, 40))
        with pytest.raises(TimeoutError):
            await applet.next_message(0.5)
        await console.end()
        with pytest.raises(SessionEnded):
            await applet.next_message(5)
        await applet.close()
