"""What any Lifeline broker must do, checked from the outside."""

from __future__ import annotations

import pytest

from common.errors import AuthenticationError, CertificateMismatch, CodeNotFound, WrongCode
from common.protocol import Channel
from common.protocol.broker_messages import control_frame
from common.transport import BrokerAddress, BrokerClient, PeerSession
from tests.broker.hostile import closed_within, masked_frame_header, raw_websocket
from tests.conformance.conftest import Target
from tests.conftest import paired_sessions


async def test_health_and_gateways(target: Target) -> None:
    async with BrokerClient(target.address) as client:
        health = await client.get_json("/healthz")
        gateways = await client.get_json("/v1/gateways")
    assert health["status"] == "ok"
    assert gateways["gateways"] and all(
        g["url"].startswith("https://") for g in gateways["gateways"]
    )


async def test_a_wrong_fingerprint_is_refused(target: Target) -> None:
    wrong = BrokerAddress(target.address.url, ca_fingerprint="sha256:" + ":".join(["00"] * 32))
    async with BrokerClient(wrong) as client:
        with pytest.raises(CertificateMismatch):
            await client.get_json("/healthz")


async def test_untrusted_certificate_is_refused(target: Target) -> None:
    if not target.private_ca:
        pytest.skip("the broker has a publicly trusted certificate")
    async with BrokerClient(BrokerAddress(target.address.url)) as client:  # system trust only
        with pytest.raises(CertificateMismatch):
            await client.get_json("/healthz")


async def test_login_refuses_a_wrong_password(target: Target) -> None:
    async with BrokerClient(target.address) as client:
        with pytest.raises(AuthenticationError):
            await client.login(target.email, target.password + "-wrong")
        assert (await client.login(target.email, target.password)).token


async def test_pairing_and_end_to_end_messages(target: Target) -> None:
    async with BrokerClient(target.address) as c1, BrokerClient(target.address) as c2:
        token = (await c1.login(target.email, target.password)).token
        console, applet = await paired_sessions(c1, c2, token)
        console.send(Channel.CONTROL, {"t": "ping", "n": 1})
        applet.send(Channel.FILE, {"t": "blob", "data": bytes(300_000)})
        assert (await applet.next_message(5)).message["n"] == 1
        assert len((await console.next_message(5)).message["data"]) == 300_000
        await console.end()
        await applet.close()


async def test_wrong_and_unknown_codes(target: Target) -> None:
    async with BrokerClient(target.address) as c1, BrokerClient(target.address) as c2:
        token = (await c1.login(target.email, target.password)).token
        console = await PeerSession.create(c1, token)
        assert console.code is not None
        wrong = console.code.nameplate + ("000000" if console.code.secret != "000000" else "111111")
        applet = await PeerSession.claim(c2, wrong)
        with pytest.raises(WrongCode):
            await applet.wait_open(10)
        with pytest.raises(CodeNotFound):
            await PeerSession.claim(c2, str(console.code))
        await applet.close()
        await console.close()


@pytest.mark.parametrize(
    "payload", [b"\x07junk", b"\x01relay-first", control_frame({"t": "pickup", "session_id": "x"})]
)
async def test_bad_frames_close_the_connection(target: Target, payload: bytes) -> None:
    reader, writer = await raw_websocket(target.endpoint)
    writer.write(masked_frame_header(len(payload)) + payload)
    await writer.drain()
    assert await closed_within(reader, 5)
    writer.close()


async def test_an_oversized_frame_header_closes_the_connection(target: Target) -> None:
    reader, writer = await raw_websocket(target.endpoint)
    writer.write(masked_frame_header(100 * 1024 * 1024) + bytes(1024))
    await writer.drain()
    assert await closed_within(reader, 5)
    writer.close()
