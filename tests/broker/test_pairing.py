"""Pairing and end-to-end messages through the real broker over TLS on loopback."""

from __future__ import annotations

import asyncio

import pytest

from broker.app import Broker
from common.errors import CodeNotFound, SessionEnded, WrongCode
from common.protocol import Channel
from common.transport import BrokerClient, Login, PeerSession
from tests.conftest import address, paired_sessions, wrong_code


async def test_code_pairs_and_messages_flow_both_ways(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
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


async def test_a_wrong_secret_fails_clearly_for_both_people_and_burns_the_code(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    console = await PeerSession.create(client, login.token)
    assert console.code is not None
    wrong = wrong_code(console.code)
    async with BrokerClient(address(broker)) as applet_client:
        applet = await PeerSession.claim(applet_client, wrong)
        with pytest.raises(WrongCode) as applet_error:
            await applet.wait_open(10)
        with pytest.raises(WrongCode) as console_error:
            await console.wait_open(10)
        assert str(applet_error.value).startswith("That code is wrong or has expired.")
        assert "Ask your technician for a new one" in str(applet_error.value)
        assert str(console_error.value).startswith("That code is wrong or has expired")
        assert "Create a new session" in str(console_error.value)
        # Burnt: the right code no longer works either.
        with pytest.raises(CodeNotFound):
            await PeerSession.claim(applet_client, str(console.code))
        await applet.close()
    await console.close()
    assert broker.hub.sessions == {}


async def test_an_unknown_code_is_refused_with_a_clear_message(
    client: BrokerClient, tech: object
) -> None:
    with pytest.raises(CodeNotFound) as err:
        await PeerSession.claim(client, "999-123-456")
    assert str(err.value) == "That code is wrong or has expired. Ask your technician for a new one."


async def test_an_unused_code_expires(broker: Broker, client: BrokerClient, login: Login) -> None:
    broker.config.nameplate_ttl = 0.3
    console = await PeerSession.create(client, login.token)
    with pytest.raises(SessionEnded) as ended:
        await console.wait_paired(5)
    assert ended.value.reason == "expired"
    assert str(ended.value) == "The code expired before anyone used it."
    async with BrokerClient(address(broker)) as applet_client:
        with pytest.raises(CodeNotFound):
            await PeerSession.claim(applet_client, str(console.code))
    await console.close()


async def test_nameplates_are_unique_and_freed(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    sessions = [await PeerSession.create(client, login.token) for _ in range(5)]
    plates = {s.code.nameplate for s in sessions if s.code}
    assert len(plates) == 5 and all(len(p) == 3 for p in plates)
    for s in sessions:
        await s.close()
    for _ in range(50):
        if not broker.hub.sessions:
            break
        await asyncio.sleep(0.02)
    assert broker.storage.nameplates_in_use() == set()


async def test_queue_flow_pairs_without_a_typed_code(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    async with BrokerClient(address(broker)) as applet_client:
        applet = await PeerSession.enqueue(
            applet_client, group="Support", customer={"name": "Carol"}
        )
        lobby = await client.connect("console", login.token)
        await lobby.send({"t": "queue_list"})
        queue = await lobby.expect("queue")
        (entry,) = queue["entries"]
        assert entry["customer"] == {"name": "Carol"} and entry["queue"] == "group"
        console = await PeerSession.pickup(client, login.token, entry["session_id"])
        assert await console.wait_open(10) == await applet.wait_open(10)
        assert (await lobby.expect("queue"))["entries"] == []  # picked up: gone from the list
        applet.send(Channel.CHAT, {"t": "chat", "text": "hi from the queue"})
        assert (await console.next_message(5)).message["text"] == "hi from the queue"
        await applet.end()
        await console.close()
        await lobby.close()


async def test_private_queue_is_visible_only_to_its_technician(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    from tests.conftest import seed

    other = seed(broker, "bob@example.test", "Bob")
    other_login = await client.login(other.email, other.password)
    async with BrokerClient(address(broker)) as applet_client:
        applet = await PeerSession.enqueue(applet_client, technician="alice@example.test")
        for token, expected in ((login.token, 1), (other_login.token, 0)):
            lobby = await client.connect("console", token)
            await lobby.send({"t": "queue_list"})
            assert len((await lobby.expect("queue"))["entries"]) == expected
            await lobby.close()
        bob = await PeerSession.pickup(client, other_login.token, applet.session_id or "")
        with pytest.raises(SessionEnded):
            await bob.wait_paired(5)
        await bob.close()
        await applet.close()


async def test_policy_is_signed_and_checked(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    from common.errors import BadSignature

    broker.accounts.add_group("Support", ["desktop_view", "system_info"])
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        assert applet.policy is not None
        assert applet.policy["permissions"] == ["desktop_view", "system_info"]
        assert applet.policy["technician"]["email"] == "alice@example.test"
        assert "inactivity_timeout" not in applet.policy  # the applet's own applies
        await console.end()
        await applet.close()
        # The group's inactivity timeout goes into the policies of its new sessions.
        group = broker.storage.get_group("Support")
        assert group is not None
        group.settings["inactivity_timeout"] = 1800
        broker.storage.put_group(group)
        console, applet = await paired_sessions(client, applet_client, login.token)
        assert applet.policy is not None and applet.policy["inactivity_timeout"] == 1800
        await console.end()
        await applet.close()
        # An applet that pins another broker key refuses the session.
        console = await PeerSession.create(client, login.token)
        pinned = await PeerSession.claim(
            applet_client, str(console.code), pinned_policy_key=b"\x01" * 32
        )
        with pytest.raises(BadSignature):
            await pinned.wait_open(5)
        with pytest.raises(SessionEnded):
            await console.wait_open(5)
        await pinned.close()
        await console.close()


async def test_queueing_for_nobody_is_refused_clearly(
    broker: Broker, client: BrokerClient, tech: object
) -> None:
    from common.errors import BrokerError

    with pytest.raises(BrokerError) as err:
        await PeerSession.enqueue(client, technician="ghost@example.test")
    assert str(err.value) == "That technician is not available."
    with pytest.raises(BrokerError) as err:
        await PeerSession.enqueue(client, group="Nonexistent")
    assert str(err.value) == "That support queue does not exist."
    for _ in range(50):
        if not broker.hub.links:
            break
        await asyncio.sleep(0.02)
    assert not broker.hub.links  # the refused links were closed, not leaked


async def test_a_control_message_overtakes_a_large_message_already_going_out(
    broker: Broker, client: BrokerClient, login: Login
) -> None:
    """The writer gives the event loop back after each record, so input queued while a
    large message goes out is sent before that message's remaining fragments."""
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        console.send(Channel.FILE, {"t": "bulk", "data": bytes(3 * 1024 * 1024)})
        loop = asyncio.get_running_loop()
        loop.call_soon(console.send, Channel.CONTROL, {"t": "pointer", "x": 1, "y": 2})
        first, second = await applet.next_message(10), await applet.next_message(10)
        assert (first.channel, first.message["t"]) == (Channel.CONTROL, "pointer")
        assert (second.channel, len(second.message["data"])) == (Channel.FILE, 3 * 1024 * 1024)
        await console.end()
        await applet.close()


def test_only_a_sane_inactivity_setting_reaches_the_policy() -> None:
    from broker.permissions import MAX_INACTIVITY_TIMEOUT, inactivity_timeout

    assert inactivity_timeout({"inactivity_timeout": 1800}) == 1800
    assert inactivity_timeout({"inactivity_timeout": MAX_INACTIVITY_TIMEOUT}) is not None
    for bad in (0, -5, MAX_INACTIVITY_TIMEOUT + 1, True, "900", 90.5, None):
        assert inactivity_timeout({"inactivity_timeout": bad}) is None, bad
    assert inactivity_timeout({}) is None
