"""``lifeline-broker admin …`` and ``lifeline-demo`` as a person runs them."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from broker.app import Broker
from broker.cli import main as broker_main
from common.transport import BrokerClient, Login
from console.demo import DEMO_EMAIL, DEMO_PASSWORD
from tests.conftest import PASSWORD, address, paired_sessions


def admin(data: Path, *args: str) -> int:
    return broker_main(["--data", str(data), "admin", *args])


def test_admin_manages_groups_and_technicians(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "b"
    assert admin(data, "add-group", "Level1", "--permissions", "desktop_view,system_info") == 0
    assert (
        admin(
            data,
            "add-technician",
            "Ann@Example.test",
            "--name",
            "Ann",
            "--group",
            "Level1",
            "--password",
            PASSWORD,
        )
        == 0
    )
    assert admin(data, "enroll-totp", "ann@example.test") == 0
    assert "otpauth://totp/" in capsys.readouterr().out
    assert admin(data, "disable", "ann@example.test") == 0
    assert admin(data, "list") == 0
    out = capsys.readouterr().out
    assert "group Level1: desktop_view, system_info" in out
    assert "ann@example.test" in out and "disabled" in out and "2fa" in out
    assert admin(data, "set-permissions", "Level1", "remote_control") == 0
    assert "remote_control" in capsys.readouterr().out


def add_tech(data: Path, group: str, password: str) -> int:
    return admin(
        data,
        "add-technician",
        "x@example.test",
        "--name",
        "X",
        "--group",
        group,
        "--password",
        password,
    )


def test_admin_explains_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "b"
    assert add_tech(data, "Nope", PASSWORD) == 2
    assert "there is no group named 'Nope'" in capsys.readouterr().err
    admin(data, "add-group", "G")
    assert add_tech(data, "G", "short") == 2
    assert "at least 8 characters" in capsys.readouterr().err
    assert add_tech(data, "G", "lettersonly") == 2
    assert "letters and digits" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        admin(data, "add-group", "H", "--permissions", "launch_missiles")
    assert "unknown permission(s): launch_missiles" in capsys.readouterr().err
    assert admin(data, "reset-password", "ghost@example.test", "--password", PASSWORD) == 2


def test_demo_starts_a_broker_with_a_demo_technician(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "console.demo",
            "--data",
            str(tmp_path / "d"),
            "--port",
            "0",
            "--once",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "Lifeline broker listening on https://127.0.0.1:" in out
    assert "CA fingerprint:  sha256:" in out
    assert DEMO_EMAIL in out and DEMO_PASSWORD in out


async def test_tls_is_1_2_or_later_and_prefers_1_3(broker, client: BrokerClient) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from broker.tls import server_context

    assert server_context(broker.certs).minimum_version == ssl.TLSVersion.TLSv1_2
    for maximum, expected in (
        (ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
        (ssl.TLSVersion.MAXIMUM_SUPPORTED, "TLSv1.3"),
    ):
        ctx = ssl.create_default_context(cafile=str(broker.certs.ca_file))
        ctx.maximum_version = maximum
        _, writer = await asyncio.open_connection("127.0.0.1", broker.port, ssl=ctx)
        assert writer.get_extra_info("ssl_object").version() == expected
        writer.close()


def test_a_busy_port_is_explained_not_a_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "broker.cli",
                "serve",
                "--data",
                str(tmp_path / "b"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr


async def test_permission_changes_reach_new_sessions_signed_policies(
    broker: Broker, client: BrokerClient, login: Login, capsys: pytest.CaptureFixture[str]
) -> None:
    """An administrator edits a group while the broker runs: the next session's signed
    policy carries the change (the session already paired keeps its own)."""
    async with BrokerClient(address(broker)) as applet_client:
        before, applet = await paired_sessions(client, applet_client, login.token)
        assert "receive_files" in (before.policy or {})["permissions"]
        data = broker.config.data_dir
        assert broker_main(["--data", str(data), "admin", "set-permissions", "Support",
                            "desktop_view,system_info"]) == 0  # fmt: skip
        assert "applies to new sessions" in capsys.readouterr().out
        assert "receive_files" in (before.policy or {})["permissions"]
        await before.close()
        await applet.close()
    async with BrokerClient(address(broker)) as applet_client:
        after, applet = await paired_sessions(client, applet_client, login.token)
        assert (after.policy or {})["permissions"] == ["desktop_view", "system_info"]
        assert applet.policy == after.policy  # both ends verified the same signed policy
        await after.close()
        await applet.close()
