"""Signing in against the real broker: every failure a technician can meet gets its own
problem and words they can act on."""

from __future__ import annotations

import socket
from pathlib import Path

import pyotp
import pytest

from broker.app import Broker
from console.settings import MAX_SETTINGS_FILE, ConsoleSettings
from console.sign_in import Problem, SignInFailed, SignInForm, broker_address, sign_in
from tests.conftest import PASSWORD, Tech

OTHER_CA = "AA:" * 31 + "AA"


def form(broker: Broker, tech: Tech, **changes: str) -> SignInForm:
    fields = {
        "broker_url": broker.url,
        "email": tech.email,
        "password": tech.password,
        "ca_fingerprint": str(broker.certs.ca_fingerprint),
        **changes,
    }
    return SignInForm(**fields)


async def failure(sign_in_form: SignInForm) -> SignInFailed:
    with pytest.raises(SignInFailed) as failed:
        await sign_in(sign_in_form)
    return failed.value


async def test_a_right_password_signs_in(broker: Broker, tech: Tech) -> None:
    client, login = await sign_in(form(broker, tech, email=tech.email.upper() + " "))
    await client.close()
    assert (login.email, login.name) == (tech.email, tech.name)


async def test_wrong_password_then_locked_with_time_left(broker: Broker, tech: Tech) -> None:
    wrong = await failure(form(broker, tech, password="not-it-123"))
    assert wrong.problem == Problem.WRONG_PASSWORD
    assert wrong.message == "The e-mail address or the password is wrong."
    for _ in range(5):
        last = await failure(form(broker, tech, password="not-it-123"))
    locked = await failure(form(broker, tech))
    assert (last.problem, locked.problem) == (Problem.LOCKED, Problem.LOCKED)
    assert "Try again in 5 minutes." in locked.message


async def test_the_authenticator_code_is_asked_for(broker: Broker, tech: Tech) -> None:
    totp = pyotp.parse_uri(broker.accounts.enroll_totp(tech.email))
    assert (await failure(form(broker, tech))).problem == Problem.TOTP_REQUIRED
    assert (await failure(form(broker, tech, totp="000000"))).problem == Problem.TOTP_WRONG
    client, login = await sign_in(form(broker, tech, totp=totp.now()))
    await client.close()
    assert login.token


async def test_a_forced_password_change(broker: Broker, tech: Tech) -> None:
    broker.accounts.set_password(tech.email, PASSWORD, must_change=True)
    forced = await failure(form(broker, tech))
    assert forced.problem == Problem.PASSWORD_CHANGE
    weak = await failure(form(broker, tech, new_password="short"))
    assert weak.problem == Problem.WEAK_PASSWORD and "at least 8" in weak.message
    client, login = await sign_in(form(broker, tech, new_password="brand-new-pass-7"))
    await client.close()
    assert login.name == tech.name
    client, _ = await sign_in(form(broker, tech, password="brand-new-pass-7"))
    await client.close()


async def test_an_unreachable_broker_and_a_wrong_certificate(broker: Broker, tech: Tech) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    gone = await failure(form(broker, tech, broker_url=f"https://127.0.0.1:{free}"))
    assert gone.problem == Problem.UNREACHABLE
    assert f"127.0.0.1:{free}" in gone.message
    spoofed = await failure(form(broker, tech, ca_fingerprint=OTHER_CA))
    assert spoofed.problem == Problem.CERTIFICATE
    assert "do not continue" in spoofed.message


def test_addresses_are_made_whole_or_refused() -> None:
    assert broker_address("support.example.com:8443").url == "https://support.example.com:8443"
    for bad in ("", "http://support.example.com", "https://"):
        with pytest.raises(SignInFailed) as failed:
            broker_address(bad)
        assert failed.value.problem == Problem.BAD_ADDRESS
    with pytest.raises(SignInFailed):
        broker_address("support.example.com", ca_fingerprint="12:34")


def test_settings_remember_no_password(tmp_path: Path) -> None:
    path = tmp_path / "console.json"
    ConsoleSettings("https://b.example:8443", "alice@example.test", OTHER_CA).save(path)
    assert ConsoleSettings.load(path) == ConsoleSettings(
        "https://b.example:8443", "alice@example.test", OTHER_CA
    )
    assert "password" not in path.read_text()
    path.write_text('{"broker_url": 7, "email": "x@y.z"}')
    assert ConsoleSettings.load(path) == ConsoleSettings(email="x@y.z")
    path.write_text("[" * (MAX_SETTINGS_FILE + 10))
    assert ConsoleSettings.load(path) == ConsoleSettings()
    assert ConsoleSettings.load(tmp_path / "missing.json") == ConsoleSettings()


def test_recording_settings_are_remembered_and_the_key_checked(tmp_path: Path) -> None:
    path = tmp_path / "console.json"
    key = tmp_path / "recording.key"
    key.write_bytes(bytes(32))
    ConsoleSettings(
        recording_folder="/srv/recordings", recording_format="avi", recording_key_file=str(key)
    ).save(path)
    loaded = ConsoleSettings.load(path)
    assert (loaded.recording_folder, loaded.recording_format) == ("/srv/recordings", "avi")
    assert loaded.read_recording_key() == bytes(32)
    path.write_text('{"recording_format": "exe"}')
    assert ConsoleSettings.load(path).recording_format == "rcrec"
    key.write_bytes(b"short")
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        loaded.read_recording_key()
    loaded.recording_key_file = str(tmp_path / "missing.key")
    with pytest.raises(ValueError, match="cannot be read"):
        loaded.read_recording_key()
