"""The password policy and where technicians may sign in from, through the real broker
over TLS on loopback (127.0.0.1 inside an allow-list, 127.0.0.2 outside it), and the
admin commands that set them."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import aiohttp
import pyotp
import pytest

from broker.app import Broker, start_broker
from broker.cli import main as broker_main
from broker.networks import allowed, parse_networks
from broker.password_policy import DAY, PasswordPolicy
from common.errors import AuthenticationError, BrokerError
from common.transport import BrokerClient, PeerSession
from common.transport.tls import context_from_ca
from tests.conftest import PASSWORD, Tech, address, make_config, seed

OUTSIDE = "127.0.0.2"
NEW_PASSWORD = "quiet-lantern-orbit-57"


def outside_client(broker: Broker) -> BrokerClient:
    """A client whose connections come from 127.0.0.2 (loopback is all of 127/8)."""
    return BrokerClient(address(broker), local_address=OUTSIDE)


# ---- password policy --------------------------------------------------------------


async def test_a_weak_new_password_is_refused_with_the_reason(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    with pytest.raises(BrokerError) as common:
        await client.change_password(tech.email, PASSWORD, "password1")
    assert common.value.code == "weak_password"
    assert str(common.value) == (
        "That password is too easy to guess. This is a very common password. "
        "Add another word or two. Uncommon words are better."
    )
    broker.accounts.set_password_policy(min_score=2)
    with pytest.raises(BrokerError) as personal:
        await client.change_password(tech.email, PASSWORD, "Alice1990")
    assert "It contains your name or e-mail address." in str(personal.value)
    with pytest.raises(BrokerError) as floor:
        await client.change_password(tech.email, PASSWORD, "kq7")
    assert str(floor.value) == "A password needs at least 8 characters."
    # Nothing changed: the old password still signs in.
    assert (await client.login(tech.email, PASSWORD)).token


async def test_the_minimum_strength_is_the_organisations(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    fair = "blue7house"
    assert PasswordPolicy(min_score=0).strength(fair).score == 2
    broker.accounts.set_password_policy(min_score=3)
    with pytest.raises(ValueError, match="too easy to guess"):
        broker.accounts.set_password(tech.email, fair)
    with pytest.raises(ValueError, match="too easy to guess"):
        broker.accounts.add_technician("bob@example.test", "Bob", fair, "Support")
    with pytest.raises(BrokerError) as weak:
        await client.change_password(tech.email, PASSWORD, fair)
    assert weak.value.code == "weak_password"
    # The floor stays under the lowest setting.
    broker.accounts.set_password_policy(min_score=0)
    with pytest.raises(ValueError, match="letters and digits"):
        broker.accounts.set_password(tech.email, "onlyletterslong")
    broker.accounts.set_password(tech.email, fair)
    assert (await client.login(tech.email, fair)).token


async def test_a_refused_password_costs_no_authenticator_code(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    totp = pyotp.parse_uri(broker.accounts.enroll_totp(tech.email))
    code = totp.now()
    with pytest.raises(BrokerError) as weak:
        await client.change_password(tech.email, PASSWORD, "password1", code)
    assert weak.value.code == "weak_password"
    changed = await client.change_password(tech.email, PASSWORD, NEW_PASSWORD, code)
    assert changed.token


async def test_setting_a_password_records_when(broker: Broker, tech: Tech) -> None:
    row = broker.storage.get_technician(tech.email)
    assert row is not None and time.time() - row.password_changed_at < 60
    broker.storage.update_technician(tech.email, password_changed_at=1.0)
    broker.accounts.set_password(tech.email, NEW_PASSWORD)
    row = broker.storage.get_technician(tech.email)
    assert row is not None and time.time() - row.password_changed_at < 60


async def test_an_expired_password_must_be_changed_to_sign_in(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    broker.accounts.set_password_policy(max_age_days=30)
    assert (await client.login(tech.email, PASSWORD)).token  # a fresh password
    broker.storage.update_technician(tech.email, password_changed_at=time.time() - 31 * DAY)
    with pytest.raises(AuthenticationError) as expired:
        await client.login(tech.email, PASSWORD)
    assert expired.value.code == "password_change_required"
    assert str(expired.value) == (
        "Your password is more than 30 days old. Choose a new one to sign in."
    )
    with pytest.raises(BrokerError, match="must differ"):
        await client.change_password(tech.email, PASSWORD, PASSWORD)
    changed = await client.change_password(tech.email, PASSWORD, NEW_PASSWORD)
    assert changed.token
    assert (await client.login(tech.email, NEW_PASSWORD)).token
    # No maximum age: the same old date no longer matters.
    broker.storage.update_technician(tech.email, password_changed_at=time.time() - 400 * DAY)
    broker.accounts.set_password_policy(max_age_days=0)
    assert (await client.login(tech.email, NEW_PASSWORD)).token


async def test_an_expired_password_and_its_change_take_one_authenticator_code(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    totp = pyotp.parse_uri(broker.accounts.enroll_totp(tech.email))
    broker.accounts.set_password_policy(max_age_days=30)
    broker.storage.update_technician(tech.email, password_changed_at=time.time() - 31 * DAY)
    with pytest.raises(AuthenticationError) as wrong:
        await client.login(tech.email, "wrong-password-1")
    assert wrong.value.code == "auth_failed"  # only the right password hears of the age
    code = totp.now()
    with pytest.raises(AuthenticationError) as expired:
        await client.login(tech.email, PASSWORD, code)
    assert expired.value.code == "password_change_required"
    # As the console does: the same form again, with the new password.
    assert (await client.change_password(tech.email, PASSWORD, NEW_PASSWORD, code)).token
    with pytest.raises(AuthenticationError) as replay:
        await client.login(tech.email, NEW_PASSWORD, code)
    assert replay.value.code == "totp_wrong"  # the code still works only once


async def test_a_password_of_unknown_age_counts_from_the_account(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    broker.accounts.set_password_policy(max_age_days=30)
    broker.storage.update_technician(tech.email, password_changed_at=0.0)
    assert (await client.login(tech.email, PASSWORD)).token  # created just now
    broker.storage.update_technician(tech.email, created_at=time.time() - 60 * DAY)
    with pytest.raises(AuthenticationError) as expired:
        await client.login(tech.email, PASSWORD)
    assert expired.value.code == "password_change_required"


# ---- allow-lists ------------------------------------------------------------------


async def test_a_technician_outside_their_networks_is_refused_and_logged(
    broker: Broker, client: BrokerClient, tech: Tech, caplog: pytest.LogCaptureFixture
) -> None:
    broker.accounts.set_allowed_networks(tech.email, ["127.0.0.1/32", "2001:db8::/32"])
    assert (await client.login(tech.email, PASSWORD)).token
    caplog.set_level(logging.INFO, logger="lifeline.broker.access")
    async with outside_client(broker) as outside:
        with pytest.raises(BrokerError) as refused:
            await outside.login(tech.email, PASSWORD)
        assert refused.value.code == "network_not_allowed"
        assert str(refused.value) == (
            "Your account may not sign in from this network (127.0.0.2). Ask your administrator."
        )
        # Changing the password from there is refused the same way.
        with pytest.raises(BrokerError) as change:
            await outside.change_password(tech.email, PASSWORD, NEW_PASSWORD)
        assert change.value.code == "network_not_allowed"
    records = [r for r in caplog.records if r.name == "lifeline.broker.access"]
    assert len(records) == 2
    assert records[0].getMessage() == (
        "sign-in refused: alice@example.test from 127.0.0.2 is outside the technician's "
        "allowed networks (127.0.0.1/32, 2001:db8::/32)"
    )
    assert records[0].__dict__["event"] == "network_not_allowed"
    assert records[0].__dict__["ip"] == OUTSIDE
    # And in the audit log, with the address it came from.
    [failed] = broker.audit.query(kinds=["login_failed"])
    assert (failed["ip"], failed["detail"]) == (OUTSIDE, {"reason": "network_not_allowed"})


async def test_the_refusal_is_a_403_on_both_sign_in_routes(broker: Broker, tech: Tech) -> None:
    broker.accounts.set_allowed_networks(tech.email, ["127.0.0.1"])
    context = context_from_ca(ca_file=broker.certs.ca_file)
    connector = aiohttp.TCPConnector(ssl=context, local_addr=(OUTSIDE, 0))
    body = {"email": tech.email, "password": PASSWORD, "new_password": NEW_PASSWORD}
    async with aiohttp.ClientSession(connector=connector) as http:
        for path in ("/v1/login", "/v1/password"):
            async with http.post(broker.url + path, json=body) as resp:
                assert resp.status == 403
                assert (await resp.json())["code"] == "network_not_allowed"


async def test_from_outside_no_password_can_be_tried_and_nothing_locks(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    broker.accounts.set_allowed_networks(tech.email, ["127.0.0.1"])
    async with outside_client(broker) as outside:
        for _ in range(6):
            with pytest.raises(BrokerError) as refused:
                await outside.login(tech.email, "wrong-password-1")
            assert refused.value.code == "network_not_allowed"  # not auth_failed
        # An unknown address still looks like any wrong e-mail address.
        with pytest.raises(AuthenticationError) as unknown:
            await outside.login("nobody@example.test", "wrong-password-1")
        assert unknown.value.code == "auth_failed"
    row = broker.storage.get_technician(tech.email)
    assert row is not None and row.failed_logins == 0 and row.locked_until == 0.0
    assert (await client.login(tech.email, PASSWORD)).token


async def test_a_groups_list_applies_to_its_technicians(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    broker.accounts.set_group_networks("Support", [OUTSIDE])
    with pytest.raises(BrokerError) as refused:
        await client.login(tech.email, PASSWORD)
    assert refused.value.code == "network_not_allowed"
    assert "(127.0.0.1)" in str(refused.value)
    async with outside_client(broker) as outside:
        assert (await outside.login(tech.email, PASSWORD)).token
        # With a list of their own too, the address must be in both.
        broker.accounts.set_allowed_networks(tech.email, ["127.0.0.1"])
        with pytest.raises(BrokerError):
            await outside.login(tech.email, PASSWORD)
        broker.accounts.set_allowed_networks(tech.email, ["127.0.0.0/8"])
        assert (await outside.login(tech.email, PASSWORD)).token
        # Clearing the group's list leaves the technician's.
        broker.accounts.set_group_networks("Support", [])
        assert (await client.login(tech.email, PASSWORD)).token
    group = broker.storage.get_group("Support")
    assert group is not None and "allowed_networks" not in group.settings


def test_addresses_and_networks() -> None:
    assert parse_networks(["10.1.2.3/8", "203.0.113.7", "2001:DB8::1/32", "10.0.0.0/8"]) == [
        "10.0.0.0/8",
        "203.0.113.7/32",
        "2001:db8::/32",
    ]
    with pytest.raises(ValueError, match=r"not a network: write it like 203\.0\.113\.0/24"):
        parse_networks(["203.0.113.0/33"])
    nets = ["203.0.113.0/24", "2001:db8::/32"]
    assert allowed("203.0.113.9", nets) and allowed("2001:db8:5::1", nets)
    assert allowed("::ffff:203.0.113.9", nets)  # IPv4 through a dual-stack socket
    assert not allowed("198.51.100.1", nets) and not allowed("2001:db9::1", nets)
    assert not allowed(None, nets) and not allowed("unknown", nets)
    assert allowed(None, []) and allowed("198.51.100.1", [])
    assert not allowed("203.0.113.9", ["not a network"])  # a broken list fails closed
    assert allowed("fe80::1%eth0", ["fe80::/10"])


async def test_group_settings_survive_a_permissions_change(broker: Broker, tech: Tech) -> None:
    broker.accounts.set_group_networks("Support", ["192.0.2.0/24"])
    broker.accounts.add_group("Support", ["desktop_view"])
    group = broker.storage.get_group("Support")
    assert group is not None and group.settings["allowed_networks"] == ["192.0.2.0/24"]


# ---- admin commands ---------------------------------------------------------------


def admin(data: Path, *args: str) -> int:
    return broker_main(["--data", str(data), "admin", *args])


def test_admin_password_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "b"
    assert admin(data, "password-policy") == 0
    assert capsys.readouterr().out.splitlines() == [
        "minimum strength: 1 of 4 (weak or better)",
        "maximum age: none (0)",
        "floor: at least 8 characters, with letters and digits",
    ]
    assert admin(data, "password-policy", "--min-score", "3", "--max-age-days", "90") == 0
    assert admin(data, "password-policy", "--max-age-days", "60") == 0
    out = capsys.readouterr().out
    assert "minimum strength: 3 of 4 (strong or better)" in out
    assert "maximum age: 60 days" in out
    with pytest.raises(SystemExit):
        admin(data, "password-policy", "--min-score", "5")
    assert "a whole number from 0 to 4, not '5'" in capsys.readouterr().err
    assert admin(data, "add-group", "Support") == 0
    args = ("add-technician", "ann@example.test", "--name", "Ann", "--group", "Support")
    assert admin(data, *args, "--password", "blue7house") == 2
    assert "too easy to guess" in capsys.readouterr().err
    assert admin(data, *args, "--password", PASSWORD) == 0


def test_admin_help_reads_well(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    for command in ("password-policy", "allow-networks", "force-password-change"):
        with pytest.raises(SystemExit) as done:
            broker_main(["admin", command, "--help"])
        assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: lifeline-broker admin allow-networks (EMAIL | --group GROUP)" in out
    assert "  lifeline-broker admin allow-networks --group Support 198.51.100.0/24\n" in out
    assert "0 very weak, 1" in out and "EMAIL       the technician's e-mail address" in out


async def test_admin_allow_networks_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "b"
    assert admin(data, "add-group", "Support") == 0
    args = ("add-technician", "ann@example.test", "--name", "Ann", "--group", "Support")
    assert admin(data, *args, "--password", PASSWORD) == 0
    capsys.readouterr()
    assert admin(data, "allow-networks", "ann@example.test") == 0
    assert capsys.readouterr().out == "ann@example.test may sign in from: anywhere\n"
    assert admin(data, "allow-networks", "ann@example.test", "127.0.0.1", "2001:db8::/32") == 0
    assert admin(data, "allow-networks", "--group", "Support", "127.0.0.0/8") == 0
    assert admin(data, "allow-networks", "ann@example.test") == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "ann@example.test may sign in from: 127.0.0.1/32, 2001:db8::/32",
        "and only from group Support's: 127.0.0.0/8",
    ]
    assert admin(data, "allow-networks", "ann@example.test", "10.0.0.300/8") == 2
    assert "'10.0.0.300/8' is not a network" in capsys.readouterr().err
    assert admin(data, "allow-networks", "--group", "Nobody", "10.0.0.0/8") == 2
    assert admin(data, "allow-networks") == 2
    assert admin(data, "allow-networks", "--group", "Support", "10.0.0.0/8", "--clear") == 2
    capsys.readouterr()

    broker = await start_broker(make_config(data))
    try:
        async with BrokerClient(address(broker)) as inside, outside_client(broker) as outside:
            assert (await inside.login("ann@example.test", PASSWORD)).token
            with pytest.raises(BrokerError) as refused:
                await outside.login("ann@example.test", PASSWORD)
            assert refused.value.code == "network_not_allowed"
            # The administrator clears the technician's list while the broker runs.
            assert admin(data, "allow-networks", "ann@example.test", "--clear") == 0
            assert (await outside.login("ann@example.test", PASSWORD)).token
            assert admin(data, "allow-networks", "--group", "Support", "--clear") == 0
            assert capsys.readouterr().out.splitlines() == [
                "ann@example.test may sign in from: anywhere",
                "and only from group Support's: 127.0.0.0/8",
                "group Support may sign in from: anywhere",
            ]
    finally:
        await broker.stop()


async def test_admin_force_password_change(
    broker: Broker, client: BrokerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    tech = seed(broker)
    data = broker.config.data_dir
    assert admin(data, "force-password-change", tech.email) == 0
    assert capsys.readouterr().out == (
        "alice@example.test must choose a new password at the next sign-in\n"
    )
    with pytest.raises(AuthenticationError) as forced:
        await client.login(tech.email, PASSWORD)
    assert forced.value.code == "password_change_required"
    assert (await client.change_password(tech.email, PASSWORD, NEW_PASSWORD)).token
    assert (await client.login(tech.email, NEW_PASSWORD)).token
    assert admin(data, "force-password-change", "nobody@example.test") == 2


async def test_a_token_does_not_open_a_console_link_from_outside(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    login = await client.login(tech.email, PASSWORD)
    broker.accounts.set_allowed_networks(tech.email, ["127.0.0.1/32"])
    async with outside_client(broker) as outside:
        with pytest.raises(AuthenticationError) as refused:
            await PeerSession.create(outside, login.token)
        assert refused.value.code == "network_not_allowed"
    console = await PeerSession.create(client, login.token)  # from inside it still works
    assert console.code is not None
    await console.close()
    [failed] = broker.audit.query(kinds=["login_failed"])
    assert (failed["ip"], failed["detail"]["reason"]) == (OUTSIDE, "network_not_allowed")
