"""Regression tests for problems found in review of the broker and client."""

from __future__ import annotations

import logging
import time

import pytest

import broker.hub as hub_module
import broker.live_sessions as live_sessions
from broker.accounts import _token_hash
from broker.app import Broker, start_broker
from broker.config import BrokerConfig
from common.crypto.certificates import create_ca, create_server_certificate
from common.errors import (
    AuthenticationError,
    BrokerError,
    ConnectionFailed,
    SessionEnded,
    WrongCode,
)
from common.protocol import Channel
from common.transport import BrokerAddress, BrokerClient, ControlLink, Login, PeerSession
from tests.broker.cut_proxy import CutProxy
from tests.broker.hostile import hostile_broker
from tests.conftest import address, paired_sessions, seed, wrong_code


async def test_relay_data_on_an_unpaired_session_closes_that_link_cleanly(
    client: BrokerClient, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    link = await client.connect("console", login.token)
    await link.send({"t": "create_session"})
    await link.expect("session_created")
    await link.send_relay(b"\x01too early")
    with pytest.raises(BrokerError) as refused:
        await link.expect("paired", timeout=5)
    assert refused.value.code == "protocol_error"
    assert "Error handling request" not in caplog.text


async def test_a_technician_can_end_a_session_nobody_joined(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    console = await PeerSession.create(client, login.token)
    await console.end()
    assert console.ended is not None and console.ended.reason == "ended"
    assert broker.hub.sessions == {}


async def test_a_full_queue_still_fits_one_message(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    broker.hub.claim_limiter.__init__(1000)  # type: ignore[misc]
    applets = []
    async with BrokerClient(address(broker)) as applet_client:
        for i in range(hub_module.MAX_QUEUE_ENTRIES + 5):
            # 4-byte characters: limits must count bytes, not characters.
            customer = {f"k{j}": "😀" * 700 for j in range(15)} | {"name": f"c{i}"}
            applets.append(
                await PeerSession.enqueue(applet_client, group="Support", customer=customer)
            )
        lobby = await client.connect("console", login.token)
        await lobby.send({"t": "queue_list"})
        entries = (await lobby.expect("queue"))["entries"]
        assert len(entries) == hub_module.MAX_QUEUE_ENTRIES
        assert all(len(e["customer"]) <= live_sessions.MAX_CUSTOMER_FIELDS for e in entries)
        # A customer beyond the listed ones can still be picked up.
        last = applets[-1]
        console = await PeerSession.pickup(client, login.token, last.session_id or "")
        assert await console.wait_open(10) == await last.wait_open(10)
        await console.close()
        await lobby.close()
        for applet in applets:
            await applet.close()


async def test_a_queued_customer_is_not_kept_forever(
    broker: Broker, client: BrokerClient, tech: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "QUEUE_WAIT_LIMIT", 0.3)
    applet = await PeerSession.enqueue(client, group="Support")
    with pytest.raises(SessionEnded) as ended:
        await applet.wait_paired(5)
    assert ended.value.reason == "queue_expired"
    assert "No technician was free" in str(ended.value) and "code" not in str(ended.value)
    await applet.close()


async def test_customer_fields_cannot_pose_as_the_role(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    console = await PeerSession.create(client, login.token)
    async with BrokerClient(address(broker)) as applet_client:
        applet = await PeerSession.claim(
            applet_client, str(console.code), {"role": "console", "name": "Eve"}
        )
        await console.wait_open(10)
        assert console.peer["role"] == "applet" and console.peer["name"] == "Eve"
        await console.end()
        await applet.close()


async def test_a_long_session_survives_a_reconnect_after_the_idle_timeout(
    broker: Broker, login: Login
) -> None:
    proxy = await CutProxy(broker.port).start()
    try:
        via_proxy = BrokerAddress(proxy.url, ca_file=broker.certs.ca_file)
        async with BrokerClient(via_proxy) as c1, BrokerClient(address(broker)) as c2:
            console, applet = await paired_sessions(c1, c2, login.token)
            # The technician has worked in this session for longer than the idle logoff.
            broker.storage.touch_token(_token_hash(login.token), time.time() - 31 * 60)
            proxy.cut()
            console.send(Channel.CHAT, {"t": "chat", "i": 1})
            assert (await applet.next_message(20)).message["i"] == 1
            await console.end()
            await applet.close()
    finally:
        await proxy.stop()


async def test_bad_http_requests_get_a_readable_error(client: BrokerClient) -> None:
    with pytest.raises(BrokerError) as err:
        await client._post("/v1/login", {"email": 5, "password": "x"})
    assert err.value.code == "bad_request" and "email" in str(err.value)


async def test_a_failed_code_is_never_offered_again_by_this_applet(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    console = await PeerSession.create(client, login.token)
    assert console.code is not None
    wrong = wrong_code(console.code)
    async with BrokerClient(address(broker)) as applet_client:
        applet = await PeerSession.claim(applet_client, wrong)
        with pytest.raises(WrongCode):
            await applet.wait_open(10)
        await applet.close()
        links_before = len(broker.hub.links)
        with pytest.raises(WrongCode):
            await PeerSession.claim(applet_client, wrong)
        assert len(broker.hub.links) == links_before  # refused without asking the broker
    await console.close()


async def test_queue_flow_failures_do_not_talk_about_a_code() -> None:
    message = str(WrongCode.for_role("applet", queue_flow=True))
    assert "code" not in message.lower() and "did not agree" in message


async def test_a_broker_can_serve_a_certificate_from_another_authority(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = create_ca("Some public CA")
    server = create_server_certificate(ca, ["127.0.0.1", "localhost"])
    (tmp_path / "chain.pem").write_bytes(server.cert_pem + ca.cert_pem)
    (tmp_path / "key.pem").write_bytes(server.key_pem)
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    config = BrokerConfig(
        data_dir=tmp_path / "b",
        port=0,
        cert_file=tmp_path / "chain.pem",
        key_file=tmp_path / "key.pem",
    )
    running = await start_broker(config)
    try:
        assert running.certs.ca_file is None
        assert not (tmp_path / "b" / "ca.pem").exists()  # no self-made CA
        async with BrokerClient(BrokerAddress(running.url, ca_file=tmp_path / "ca.pem")) as c:
            assert (await c.get_json("/healthz"))["status"] == "ok"
            seed(running)
    finally:
        await running.stop()


class EndAfterConfirmHub(hub_module.SessionHub):
    """A broker that ends the session as soon as the applet's key confirmation passes
    through: what one that tested a guessed code against it would do."""

    async def forward(self, link, data):  # type: ignore[no-untyped-def]
        from tests.broker.hostile import handshake_message, record_kind

        if record_kind(data) == 1 and handshake_message(data)["t"] == "confirm":
            if link.role == "applet":
                assert link.session is not None
                await self.close_session(link.session, "ended", by="console")
            return  # the console's confirmation never reaches the applet
        await super().forward(link, data)


async def test_a_code_is_spent_once_its_confirmation_went_out(broker_config: BrokerConfig) -> None:
    async with hostile_broker(broker_config, EndAfterConfirmHub) as running:
        tech = seed(running)
        async with BrokerClient(address(running)) as c1, BrokerClient(address(running)) as c2:
            token = (await c1.login(tech.email, tech.password)).token
            console = await PeerSession.create(c1, token)
            applet = await PeerSession.claim(c2, str(console.code))
            with pytest.raises(SessionEnded):
                await applet.wait_open(10)
            with pytest.raises(WrongCode):
                await PeerSession.claim(c2, str(console.code))  # never a second guess
            await applet.close()
            await console.close()


async def open_lobby(client: BrokerClient, login: Login) -> ControlLink:
    """A console's lobby link that has seen the queue once."""
    lobby = await client.connect("console", login.token)
    await lobby.send({"t": "queue_list"})
    await lobby.expect("queue")
    return lobby


async def test_a_disabled_technician_can_do_nothing_more(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    lobby = await open_lobby(client, login)
    broker.accounts.set_disabled(login.email, True)
    await lobby.send({"t": "create_session"})
    with pytest.raises(AuthenticationError) as refused:
        await lobby.expect("session_created")
    assert refused.value.code == "token_invalid"


async def test_a_disabled_technicians_lobby_gets_no_more_customer_details(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    lobby = await open_lobby(client, login)
    broker.accounts.set_disabled(login.email, True)
    async with BrokerClient(address(broker)) as applet_client:
        applet = await PeerSession.enqueue(
            applet_client, group="Support", customer={"name": "Dana"}
        )
        with pytest.raises(ConnectionFailed):
            await lobby.expect("queue")  # closed instead of told about Dana
        await applet.close()
