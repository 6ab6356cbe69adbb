"""Technician sign-in through the real broker over HTTPS."""

from __future__ import annotations

import time

import pyotp
import pytest

from broker.app import Broker
from common.errors import AuthenticationError
from common.transport import BrokerClient
from tests.conftest import PASSWORD, Tech


async def test_login_gives_a_token_that_opens_a_console_link(
    client: BrokerClient, tech: Tech
) -> None:
    login = await client.login(tech.email, tech.password)
    assert login.name == "Alice" and login.group == "Support"
    link = await client.connect("console", login.token)
    await link.close()


async def test_wrong_password_and_unknown_email_look_the_same(
    client: BrokerClient, tech: Tech
) -> None:
    with pytest.raises(AuthenticationError) as wrong:
        await client.login(tech.email, "wrong-password-1")
    with pytest.raises(AuthenticationError) as unknown:
        await client.login("nobody@example.test", "wrong-password-1")
    assert wrong.value.code == unknown.value.code == "auth_failed"
    assert str(wrong.value) == str(unknown.value) == "The email or password is wrong."


async def test_five_failures_lock_the_account_for_five_minutes(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            await client.login(tech.email, "wrong-password-1")
    with pytest.raises(AuthenticationError) as locked:
        await client.login(tech.email, tech.password)  # even the right password
    assert locked.value.code == "locked"
    assert "5 minutes" in str(locked.value)
    row = broker.storage.get_technician(tech.email)
    assert row is not None and 295 < row.locked_until - time.time() <= 300
    # When the five minutes are over, the right password works again.
    broker.storage.update_technician(tech.email, locked_until=time.time() - 1)
    assert (await client.login(tech.email, tech.password)).token


async def test_a_success_resets_the_failure_count(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            await client.login(tech.email, "wrong-password-1")
    await client.login(tech.email, tech.password)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            await client.login(tech.email, "wrong-password-1")
    assert (await client.login(tech.email, tech.password)).token


async def test_totp_is_required_once_enrolled(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    uri = broker.accounts.enroll_totp(tech.email)
    totp = pyotp.parse_uri(uri)
    with pytest.raises(AuthenticationError) as missing:
        await client.login(tech.email, tech.password)
    assert missing.value.code == "totp_required"
    with pytest.raises(AuthenticationError) as wrong:
        await client.login(
            tech.email, tech.password, "000000" if totp.now() != "000000" else "111111"
        )
    assert wrong.value.code == "totp_wrong"
    code = totp.now()
    assert (await client.login(tech.email, tech.password, code)).token
    with pytest.raises(AuthenticationError) as replay:
        await client.login(tech.email, tech.password, code)
    assert replay.value.code == "totp_wrong"


async def test_forced_password_change(broker: Broker, client: BrokerClient, tech: Tech) -> None:
    broker.accounts.set_password(tech.email, PASSWORD, must_change=True)
    with pytest.raises(AuthenticationError) as forced:
        await client.login(tech.email, PASSWORD)
    assert forced.value.code == "password_change_required"
    with pytest.raises(Exception) as weak:
        await client.change_password(tech.email, PASSWORD, "short")
    assert "at least 8 characters" in str(weak.value)
    changed = await client.change_password(tech.email, PASSWORD, "a-new-secret-99")
    assert changed.token and changed.email == tech.email and changed.name == tech.name
    assert (await client.login(tech.email, "a-new-secret-99")).token


async def test_tokens_expire_after_inactivity_and_when_disabled(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    login = await client.login(tech.email, tech.password)
    from broker.accounts import _token_hash

    broker.storage.touch_token(_token_hash(login.token), time.time() - 31 * 60)
    with pytest.raises(AuthenticationError) as idle:
        await client.connect("console", login.token)
    assert "without activity" in str(idle.value)
    login = await client.login(tech.email, tech.password)
    broker.accounts.set_disabled(tech.email, True)
    with pytest.raises(AuthenticationError):
        await client.connect("console", login.token)
    with pytest.raises(AuthenticationError):
        await client.login(tech.email, tech.password)


async def test_consoles_need_a_token(client: BrokerClient, tech: Tech) -> None:
    with pytest.raises(AuthenticationError):
        await client.connect("console")
    with pytest.raises(AuthenticationError):
        await client.connect("console", "not-a-token")


async def test_login_rate_limit_per_address(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    from common.errors import RateLimited

    broker.config.logins_per_minute = 3
    from broker.app import LOGIN_LIMITER
    from broker.ratelimit import RateLimiter

    broker.runner.app[LOGIN_LIMITER].__init__(3)  # type: ignore[misc]
    assert isinstance(broker.runner.app[LOGIN_LIMITER], RateLimiter)
    for _ in range(3):
        await client.login(tech.email, tech.password)
    with pytest.raises(RateLimited):
        await client.login(tech.email, tech.password)


async def test_parallel_guesses_cannot_outrun_the_lockout(
    broker: Broker, client: BrokerClient, tech: Tech
) -> None:
    import asyncio

    async def guess(i: int) -> str:
        try:
            await client.login(tech.email, f"wrong-password-{i}")
        except AuthenticationError as exc:
            return exc.code
        return "ok"

    codes = await asyncio.gather(*(guess(i) for i in range(15)))
    assert codes.count("auth_failed") == 5
    assert codes.count("locked") == 10
    with pytest.raises(AuthenticationError) as locked:
        await client.login(tech.email, tech.password)
    assert locked.value.code == "locked"
