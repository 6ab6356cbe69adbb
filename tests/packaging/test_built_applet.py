"""The smoke test of a release: build the Linux applet with PyInstaller, sign it, verify
it, download it from the real broker under a per-session name, and run that file on a
real X display (Xvfb): it connects, a test console decodes a picture of the screen,
the session ends and the program exits 0, leaving nothing behind.

The build takes a minute or two, so it is made once per test session (``built_applet``)
and shared; ``LIFELINE_PACKAGING_BUILD=/path/to/lifeline-applet-linux`` tests an
existing build instead (a release pipeline tests what it ships).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import ssl
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from broker.app import Broker, start_broker
from broker.downloads import BUILDS
from common.codec import ScreenDecoder
from common.protocol import Channel
from common.transport import BrokerClient, PeerSession
from installers.build import build
from installers.project import Project
from signing import linux
from signing.tools import SigningError
from tests.applet.applet_process import leftovers
from tests.applet.sessions import control_reply
from tests.conftest import address, make_config, seed
from tests.packaging.keys import flip_byte
from tests.x11 import press_in_window, xvfb

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux build"),
    pytest.mark.skipif(
        importlib.util.find_spec("PyInstaller") is None
        or shutil.which("cc") is None
        or shutil.which("readelf") is None
        or shutil.which("minisign") is None,
        reason="PyInstaller (the dev extras), gcc, binutils and minisign are needed; "
        "scripts/bootstrap installs them",
    ),
    # The first test to ask for the build waits for it.
    pytest.mark.timeout(900),
]


@dataclass(frozen=True)
class SignedBuild:
    #: The folder of signed builds the broker serves.
    folder: Path
    binary: Path
    public_key: Path


@pytest.fixture(scope="session")
def built_applet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one-file Linux applet, built once per test session (its PyInstaller work
    folder is kept in build/, so a second run on the same machine is quicker)."""
    given = os.environ.get("LIFELINE_PACKAGING_BUILD")
    if given:
        return Path(given)
    base = Project.load()
    project = Project(
        base.version,
        base.metadata,
        base.root,
        dist_dir=tmp_path_factory.mktemp("dist"),
        work_dir=base.root / "build" / "pyinstaller-tests",
    )
    return build("applet", project=project).artifact


@pytest.fixture(scope="session")
def signed_build(built_applet: Path, tmp_path_factory: pytest.TempPathFactory) -> SignedBuild:
    """The build signed with a throwaway minisign key, in a folder for the broker."""
    keys = tmp_path_factory.mktemp("minisign")
    secret, public = keys / "release.key", keys / "release.pub"
    linux.generate_key(secret, public)
    folder = tmp_path_factory.mktemp("signed")
    binary = folder / BUILDS["linux"].file
    shutil.copyfile(built_applet, binary)
    binary.chmod(0o755)
    linux.sign(binary, secret, trusted_comment=f"{binary.name} test build")
    return SignedBuild(folder, binary, public)


def test_the_signed_build_verifies_and_a_changed_byte_does_not(
    signed_build: SignedBuild, tmp_path: Path
) -> None:
    found = linux.verify(signed_build.binary, public_key=signed_build.public_key)
    assert found.trusted_comment == f"{signed_build.binary.name} test build"
    tampered = tmp_path / signed_build.binary.name
    shutil.copyfile(signed_build.binary, tampered)
    flip_byte(tampered, tampered.stat().st_size // 2)
    with pytest.raises(SigningError, match="does not match"):
        linux.verify(
            tampered,
            public_key=signed_build.public_key,
            signature=linux.signature_path(signed_build.binary),
        )


@pytest.fixture
async def download_broker(signed_build: SignedBuild, tmp_path: Path) -> AsyncIterator[Broker]:
    running = await start_broker(
        make_config(tmp_path / "broker"), applet_downloads=signed_build.folder
    )
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def display() -> Iterator[str]:
    with xvfb(1280, 720) as name:
        yield name


async def _download(broker: Broker, query: str, into: Path) -> Path:
    """What the customer's browser does with the technician's link."""
    context = ssl.create_default_context(cafile=str(broker.certs.ca_file))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http,
        http.get(f"{broker.url}/download/applet/linux?{query}") as response,
    ):
        assert response.status == 200, await response.text()
        name = response.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
        into.mkdir(parents=True, exist_ok=True)
        saved = into / name
        saved.write_bytes(await response.read())
    saved.chmod(0o755)  # what the person does (or their file manager asks) on Linux
    return saved


@contextlib.asynccontextmanager
async def running(
    program: Path, display: str, home: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Runs the downloaded program as a person would: no arguments at all."""
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DISPLAY": display,
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "QT_QPA_PLATFORM": "xcb",
        "LANG": "C.UTF-8",
    }
    for name in ("XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    proc = await asyncio.create_subprocess_exec(str(program), env=env, cwd=home)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_the_downloaded_build_runs_a_whole_session(
    signed_build: SignedBuild, download_broker: Broker, display: str, tmp_path: Path
) -> None:
    tech = seed(download_broker)
    async with BrokerClient(address(download_broker)) as client:
        login = await client.login(tech.email, tech.password)
        console = await PeerSession.create(client, login.token)
        code = console.code
        assert code is not None
        # "No code to type": the link, and so the file's name, carries the whole code.
        downloads = tmp_path / "home" / "Downloads"
        program = await _download(
            download_broker, f"nameplate={code.nameplate}&secret={code.secret}", downloads
        )
        assert program.name == f"Lifeline-{code.nameplate}{code.secret}"
        # The per-session name does not touch the signature.
        linux.verify(
            program,
            public_key=signed_build.public_key,
            signature=linux.signature_path(signed_build.binary),
        )
        # Whoever deploys the applet puts the server beside it (or bakes it in).
        (downloads / "lifeline-broker.json").write_text(
            json.dumps(
                {
                    "url": download_broker.url,
                    "ca_fingerprint": download_broker.certs.ca_fingerprint,
                }
            )
        )
        async with running(program, display, tmp_path / "home") as proc:
            await console.wait_open(60)
            console.send(Channel.CONTROL, {"t": "request", "action": "view_screen"})
            await asyncio.to_thread(press_in_window, display, "permission request", "alt+a")
            reply = await control_reply(console)
            assert (reply["action"], reply["state"]) == ("view_screen", "granted")
            decoder = ScreenDecoder()
            async with asyncio.timeout(20):
                while decoder.needs_keyframe:
                    event = await console.next_message()
                    if event.message["t"] == "screen_update":
                        decoder.decode(event.message["data"])
            await console.end()
            async with asyncio.timeout(20):
                assert await proc.wait() == 0
    # The one-file bundle unpacked itself under TMPDIR and removed itself on exit; the
    # applet's own scratch folder is gone too.
    assert [p for p in leftovers(tmp_path / "home") if "Downloads" not in p.parts] == []
