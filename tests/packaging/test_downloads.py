"""The per-session applet download (broker/downloads.py) from the real broker over TLS:
the signed build as it is, under a name the applet reads its session from."""

from __future__ import annotations

import json
import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from applet import launch
from broker.app import Broker, start_broker
from broker.cli import main as broker_main
from broker.downloads import BUILDS, DOWNLOADS_PER_MINUTE, download_name
from common.crypto import SessionCode
from common.transport import BrokerClient, Login, PeerSession
from installers.project import Project
from signing import windows
from tests.conftest import address, make_config, seed
from tests.packaging.keys import (
    PASSWORD,
    compile_test_pe,
    make_code_signing,
    needs_osslsigncode,
)


@pytest.fixture
def builds(tmp_path: Path) -> Path:
    """A folder of "signed builds": stand-ins (their bytes are what matters here; the
    Authenticode test below signs a real one)."""
    folder = tmp_path / "signed"
    folder.mkdir()
    (folder / BUILDS["windows"].file).write_bytes(b"MZ windows build " * 1000)
    (folder / BUILDS["linux"].file).write_bytes(b"\x7fELF linux build " * 1000)
    return folder


@pytest.fixture
async def download_broker(tmp_path: Path, builds: Path) -> AsyncIterator[Broker]:
    running = await start_broker(make_config(tmp_path / "broker"), applet_downloads=builds)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def console(download_broker: Broker) -> AsyncIterator[PeerSession]:
    tech = seed(download_broker)
    async with BrokerClient(address(download_broker)) as client:
        login: Login = await client.login(tech.email, tech.password)
        session = await PeerSession.create(client, login.token)
        yield session
        await session.close()


@pytest.fixture
async def http(download_broker: Broker) -> AsyncIterator[aiohttp.ClientSession]:
    context = ssl.create_default_context(cafile=str(download_broker.certs.ca_file))
    async with aiohttp.ClientSession(
        base_url=download_broker.url, connector=aiohttp.TCPConnector(ssl=context)
    ) as session:
        yield session


def _file_name(response: aiohttp.ClientResponse) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    return disposition.split('filename="', 1)[1].rstrip('"')


async def test_the_build_comes_as_it_is_under_the_sessions_nameplate(
    http: aiohttp.ClientSession, console: PeerSession, builds: Path, tmp_path: Path
) -> None:
    code = console.code
    assert code is not None
    async with http.get(f"/download/applet/windows?nameplate={code.nameplate}") as response:
        assert response.status == 200
        body = await response.read()
        name = _file_name(response)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Type"] == BUILDS["windows"].content_type
    assert name == f"Lifeline-{code.nameplate}.exe"
    assert body == (builds / BUILDS["windows"].file).read_bytes()  # not rebuilt, not re-signed
    # What the person's applet makes of it: the nameplate typed in already, no secret.
    saved = tmp_path / "Downloads" / name
    saved.parent.mkdir()
    saved.write_bytes(body)
    (saved.parent / launch.BROKER_FILE).write_text(json.dumps({"url": "https://example.test"}))
    started = launch.settings([], program=saved)
    assert (started.code, started.prefill) == (None, code.nameplate)


async def test_no_code_to_type_puts_the_whole_code_in_the_name(
    http: aiohttp.ClientSession, console: PeerSession
) -> None:
    code = console.code
    assert code is not None
    query = f"nameplate={code.nameplate}&secret={code.secret}"
    async with http.get(f"/download/applet/linux?{query}") as response:
        assert response.status == 200
        name = _file_name(response)
    assert name == f"Lifeline-{code.nameplate}{code.secret}"
    assert launch.code_from_file_name(name) == code


async def test_only_a_waiting_sessions_link_works(
    http: aiohttp.ClientSession, console: PeerSession, download_broker: Broker
) -> None:
    code = console.code
    assert code is not None
    unknown = "999" if code.nameplate != "999" else "998"
    bad = [
        f"/download/applet/windows?nameplate={unknown}",
        f"/download/applet/windows?nameplate={code.nameplate}&secret=12345",
        f"/download/applet/windows?nameplate={code.nameplate}&secret=12345x",
        "/download/applet/windows?nameplate=../../etc",
        "/download/applet/windows",
        f"/download/applet/beos?nameplate={code.nameplate}",
    ]
    for url in bad:
        async with http.get(url) as response:
            assert response.status == 404, url
            assert "Content-Disposition" not in response.headers
    # No macOS build in the folder: the person is told, nothing is served.
    async with http.get(f"/download/applet/macos?nameplate={code.nameplate}") as response:
        assert response.status == 404
        assert "no Lifeline applet for that system" in await response.text()
    # Once the customer has claimed the code, its link is spent like the code.
    async with BrokerClient(address(download_broker)) as applet_client:
        applet = await PeerSession.claim(applet_client, str(code), {"name": "Bob"})
        await console.wait_open(10)
        async with http.get(f"/download/applet/windows?nameplate={code.nameplate}") as response:
            assert response.status == 404
        await applet.close()


async def test_downloads_are_rate_limited_per_address(
    http: aiohttp.ClientSession, console: PeerSession
) -> None:
    assert console.code is not None
    url = f"/download/applet/linux?nameplate={console.code.nameplate}"
    statuses = []
    for _ in range(DOWNLOADS_PER_MINUTE + 1):
        async with http.get(url) as response:
            await response.read()
            statuses.append(response.status)
    assert statuses == [200] * DOWNLOADS_PER_MINUTE + [429]


async def test_the_audit_log_has_the_download_but_not_the_secret(
    http: aiohttp.ClientSession, console: PeerSession, download_broker: Broker
) -> None:
    code = console.code
    assert code is not None
    url = f"/download/applet/windows?nameplate={code.nameplate}&secret={code.secret}"
    async with http.get(url) as response:
        assert response.status == 200
    [event] = download_broker.hub.audit.query(kinds=["applet_download"])
    assert event["session"] == console.session_id and event["ip"] == "127.0.0.1"
    assert event["detail"] == {"platform": "windows", "code_in_name": "whole"}
    assert code.secret not in json.dumps(event)


async def test_a_broker_without_a_downloads_folder_serves_none(tmp_path: Path) -> None:
    running = await start_broker(make_config(tmp_path / "b"))
    try:
        context = ssl.create_default_context(cafile=str(running.certs.ca_file))
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http,
            http.get(f"{running.url}/download/applet/windows?nameplate=123") as response,
        ):
            assert response.status == 404
    finally:
        await running.stop()
    assert broker_main(["--data", str(tmp_path / "b"), "serve", "--applet-downloads",
                        str(tmp_path / "missing")]) == 2  # fmt: skip


@needs_osslsigncode
async def test_an_authenticode_signed_build_still_verifies_under_its_session_name(
    http: aiohttp.ClientSession, console: PeerSession, builds: Path, tmp_path: Path
) -> None:
    signing = make_code_signing(tmp_path)
    build = builds / BUILDS["windows"].file
    shutil.copyfile(compile_test_pe(tmp_path), build)
    windows.sign(
        build, windows.WindowsKey(pkcs12=signing.p12, password=PASSWORD), no_timestamp=True
    )
    assert console.code is not None
    async with http.get(f"/download/applet/windows?nameplate={console.code.nameplate}") as response:
        saved = tmp_path / _file_name(response)
        saved.write_bytes(await response.read())
    assert saved.name.startswith("Lifeline-") and saved.read_bytes() == build.read_bytes()
    assert "Lifeline Test Publisher" in windows.verify(saved, ca_file=signing.ca).signer


def test_the_broker_and_the_build_agree_on_file_names() -> None:
    project = Project.load()
    for platform, build in BUILDS.items():
        assert build.file == project.applet_file(platform)
        assert build.suffix == (".exe" if platform == "windows" else "")


@pytest.mark.parametrize("digits", range(3, 10))
def test_every_name_reads_back_as_what_it_carries(digits: int) -> None:
    nameplate = "4" * digits
    for platform in BUILDS:
        name = download_name(platform, nameplate)
        if digits <= 8:
            assert launch.nameplate_from_file_name(name) == nameplate
        assert launch.code_from_file_name(name) is None  # never mistaken for a code
        whole = download_name(platform, nameplate, "193076")
        assert launch.code_from_file_name(whole) == SessionCode(nameplate, "193076")
