"""The file manager end to end: the console's RemoteFiles and the applet's FileService,
through the real broker over TLS on 127.0.0.1, on real files.

The applet's connection goes through a TCP proxy the tests can cut, like a network blip.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from applet.capture import MssCapturer
from applet.consent import Action
from applet.controller import AppletController, FileTransferred, QuestionAsked
from broker.app import Broker
from common.transport import BrokerAddress, BrokerClient, Login, PeerState
from console.file_reports import (
    FileProblem,
    RemoteFolder,
    TransferState,
    TransferStatus,
)
from console.remote_folders import download_folder, upload_folder
from console.rights import RightChanged
from console.technician_session import TechnicianSession
from tests.applet.sessions import ui_event
from tests.broker.cut_proxy import CutProxy
from tests.conftest import paired_sessions
from tests.console.console_events import Events


@dataclass
class Pair:
    tech: TechnicianSession
    controller: AppletController
    events: Events
    proxy: CutProxy
    #: The technician's folder and the customer's, both under the test's tmp_path.
    mine: Path
    theirs: Path

    @property
    def files(self) -> Any:
        return self.tech.files


def remote(path: Path) -> tuple[str, list[str]]:
    return "/", list(path.parts[1:])


def digest(path: Path, name: str = "sha256") -> str:
    h = hashlib.new(name)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@contextlib.asynccontextmanager
async def session(
    broker: Broker, client: BrokerClient, login: Login, proxy: CutProxy, tmp_path: Path
) -> AsyncIterator[Pair]:
    address = BrokerAddress(proxy.url, ca_file=broker.certs.ca_file)
    async with BrokerClient(address) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        controller = AppletController(applet, MssCapturer())
        controller.start()
        events = Events()
        tech = TechnicianSession(console, events.put)
        tech.start()
        mine, theirs = tmp_path / "technician", tmp_path / "customer"
        mine.mkdir(exist_ok=True)
        theirs.mkdir(exist_ok=True)
        try:
            yield Pair(tech, controller, events, proxy, mine, theirs)
        finally:
            await tech.close()
            await controller.stop()
            await console.close()
            await applet.close()


async def grant_files(pair: Pair) -> None:
    pair.tech.request("file_manager")
    asked = await ui_event(pair.controller, QuestionAsked)
    await pair.controller.answer(asked.question.id, True)
    await pair.events.next(
        RightChanged, lambda e: e.action == "file_manager" and e.state == "granted"
    )


@pytest.fixture
async def proxy(broker: Broker) -> AsyncIterator[CutProxy]:
    p = await CutProxy(broker.port).start()
    yield p
    await p.stop()


@pytest.fixture
async def pair(
    display: str, broker: Broker, client: BrokerClient, login: Login, proxy: CutProxy,
    tmp_path: Path,
) -> AsyncIterator[Pair]:  # fmt: skip
    async with session(broker, client, login, proxy, tmp_path) as p:
        await grant_files(p)
        yield p


NAMES = {
    "empty.txt": b"",
    "one byte": b"x",
    "rapport d’activité é€.log": os.urandom(3 * 256 * 1024 + 5),
    "日本語のファイル.bin": os.urandom(70_000),
}


async def test_browse_upload_and_download_with_matching_hashes(pair: Pair, broker: Broker) -> None:
    for name, data in NAMES.items():
        (pair.mine / name).write_bytes(data)
    roots = await pair.files.list_roots()
    assert roots[0].root == "/" and any(r.label == "Home" for r in roots)

    uploads = [pair.files.upload(pair.mine / name, *remote(pair.theirs)) for name in NAMES]
    for status in uploads:
        done = await pair.events.finished(status.number)
        assert done.state == TransferState.DONE, done.error
    listing = await pair.files.list_folder(*remote(pair.theirs))
    assert {e.name: e.size for e in listing.entries} == {n: len(d) for n, d in NAMES.items()}

    back = pair.mine / "back"
    back.mkdir()
    downloads = [
        pair.files.download(*remote(pair.theirs / name), back, size=len(NAMES[name]))
        for name in NAMES
    ]
    for status in downloads:
        done = await pair.events.finished(status.number)
        assert done.state == TransferState.DONE, done.error
        assert done.sha256 == hashlib.sha256(NAMES[done.name]).hexdigest()
        assert done.md5 == hashlib.md5(NAMES[done.name]).hexdigest()
    for name, data in NAMES.items():
        assert (back / name).read_bytes() == data
    assert sorted(os.listdir(back)) == sorted(NAMES)  # no partial file left

    # The person was told of each file, and the broker logged each transfer's hashes.
    told = []
    while not pair.controller.events.empty():
        event = pair.controller.events.get_nowait()
        if isinstance(event, FileTransferred):
            told.append(event.record.direction)
    assert sorted(told) == ["download"] * len(NAMES) + ["upload"] * len(NAMES)
    session_id = pair.tech.session.session_id
    assert session_id is not None
    async with asyncio.timeout(5):
        while True:
            logged = [
                broker.audit.open(e) for e in broker.storage.list_session_events(session_id)
                if e.kind == "file_transfer"
            ]  # fmt: skip
            if len(logged) == 2 * len(NAMES):
                break
            await asyncio.sleep(0.05)
    data = NAMES["one byte"]
    assert {
        "direction": "upload", "name": str(pair.theirs / "one byte"), "size": "1",
        "md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest(),
    } in logged  # fmt: skip


async def test_folders_both_ways_with_many_small_files(pair: Pair) -> None:
    tree = pair.mine / "projet été"
    for i in range(60):
        sub = tree / f"dossier {i % 4}" / ("deep" if i % 3 else "")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_bytes(os.urandom(i * 37))
    (tree / "empty folder").mkdir()
    count = await upload_folder(pair.files, tree, *remote(pair.theirs))
    assert count == 60
    async with asyncio.timeout(60):
        while any(not s.finished for s in pair.files.transfers()):
            await pair.events.next(TransferStatus)
    assert all(s.state == TransferState.DONE for s in pair.files.transfers())

    def files_below(top: Path) -> dict[str, str]:
        return {
            str(p.relative_to(top)): digest(p) if p.is_file() else "folder"
            for p in sorted(top.rglob("*"))
        }

    assert files_below(pair.theirs / tree.name) == files_below(tree)

    dest = pair.mine / "downloaded"
    dest.mkdir()
    assert await download_folder(pair.files, *remote(pair.theirs / tree.name), dest) == 60
    async with asyncio.timeout(60):
        while any(not s.finished for s in pair.files.transfers()):
            await pair.events.next(TransferStatus)
    assert all(s.state == TransferState.DONE for s in pair.files.transfers())
    assert files_below(dest / tree.name) == files_below(tree)


async def test_a_sparse_gigabyte_downloads_with_its_hashes(pair: Pair) -> None:
    big = pair.theirs / "disk.img"
    with big.open("wb") as f:
        f.seek((1 << 30) - 1)
        f.write(b"\x01")
    expected = digest(big)
    status = pair.files.download(*remote(big), pair.mine, size=1 << 30)
    done = await pair.events.finished(status.number, timeout=240)
    assert done.state == TransferState.DONE, done.error
    assert done.sha256 == expected == digest(pair.mine / "disk.img")
    assert (pair.mine / "disk.img").stat().st_size == 1 << 30


async def test_a_cut_link_mid_transfer_goes_on_where_it_was(pair: Pair) -> None:
    data = os.urandom(48 << 20)
    (pair.mine / "update.bin").write_bytes(data)
    status = pair.files.upload(pair.mine / "update.bin", *remote(pair.theirs))
    await pair.events.next(TransferStatus, lambda s: s.number == status.number and s.done > 4 << 20)
    pair.proxy.cut()
    await pair.events.next(PeerState, lambda e: e.state == "peer_reconnecting")
    assert not pair.events.transfers[status.number].finished
    done = await pair.events.finished(status.number, timeout=120)
    assert done.state == TransferState.DONE, done.error
    assert done.resumed_from == 0  # one transfer, carried on by the session's resume
    assert digest(pair.theirs / "update.bin") == hashlib.sha256(data).hexdigest()


async def test_a_download_started_again_resumes_from_the_verified_offset(
    display: str, broker: Broker, client: BrokerClient, login: Login, proxy: CutProxy,
    tmp_path: Path,
) -> None:  # fmt: skip
    data = os.urandom(64 << 20)
    async with session(broker, client, login, proxy, tmp_path) as first:
        await grant_files(first)
        (first.theirs / "logs.tar").write_bytes(data)
        status = first.files.download(*remote(first.theirs / "logs.tar"), first.mine)
        await first.events.next(
            TransferStatus, lambda s: s.number == status.number and s.done > 8 << 20
        )
        # The technician's console stops in the middle (closed, or it crashed).
        await first.tech.close()
        stopped = await first.events.finished(status.number)
        assert stopped.state == TransferState.FAILED
    partial = [p for p in os.listdir(tmp_path / "technician") if p.endswith(".part")]
    assert len(partial) == 1 and not (tmp_path / "technician" / "logs.tar").exists()
    kept = (tmp_path / "technician" / partial[0]).stat().st_size
    assert kept >= 8 << 20

    async with session(broker, client, login, proxy, tmp_path) as second:
        await grant_files(second)
        status = second.files.download(*remote(second.theirs / "logs.tar"), second.mine)
        done = await second.events.finished(status.number, timeout=120)
        assert done.state == TransferState.DONE, done.error
        assert done.resumed_from == kept
        assert (second.mine / "logs.tar").read_bytes() == data
        assert os.listdir(second.mine) == ["logs.tar"]


async def test_revoking_stops_transfers_within_200_ms_on_both_sides(pair: Pair) -> None:
    (pair.theirs / "big").write_bytes(os.urandom(96 << 20))
    (pair.mine / "big up").write_bytes(os.urandom(96 << 20))
    down = pair.files.download(*remote(pair.theirs / "big"), pair.mine)
    up = pair.files.upload(pair.mine / "big up", *remote(pair.theirs))
    for status in (down, up):
        await pair.events.next(
            TransferStatus, lambda s, n=status.number: s.number == n and s.done > 2 << 20
        )
    revoked_at = time.monotonic()
    await pair.controller.revoke(Action.FILE_MANAGER)
    # The applet side stopped before revoke() returned: no partial upload is left.
    assert sorted(os.listdir(pair.theirs)) == ["big"]
    for status in (down, up):
        stopped = await pair.events.finished(status.number, timeout=5)
        assert stopped.state == TransferState.FAILED
        assert "stopped file transfers" in stopped.error
    assert time.monotonic() - revoked_at < 0.2
    assert sorted(os.listdir(pair.mine)) == ["big up"]  # the partial download is gone


async def test_cancel_and_retry(pair: Pair) -> None:
    data = os.urandom(64 << 20)
    (pair.theirs / "big").write_bytes(data)
    status = pair.files.download(*remote(pair.theirs / "big"), pair.mine)
    await pair.events.next(TransferStatus, lambda s: s.number == status.number and s.done > 0)
    pair.files.cancel(status.number)
    cancelled = await pair.events.finished(status.number)
    assert cancelled.state == TransferState.CANCELLED
    assert os.listdir(pair.mine) == []
    again = pair.files.retry(status.number)
    assert again is not None
    done = await pair.events.finished(again.number, timeout=120)
    assert done.state == TransferState.DONE and (pair.mine / "big").read_bytes() == data


async def test_new_folder_rename_delete_are_logged(pair: Pair, broker: Broker) -> None:
    where = remote(pair.theirs)
    assert await pair.files.make_folder(*where, "Nouveau dossier")
    folder = await pair.events.next(RemoteFolder)  # the folder is shown again
    assert [e.name for e in folder.entries] == ["Nouveau dossier"]
    assert await pair.files.rename(*where, "Nouveau dossier", "Logs")
    assert not await pair.files.rename(*where, "Logs", "CON")
    problem = await pair.events.next(FileProblem)
    assert "reserved" in problem.text
    assert await pair.files.delete(*where, "Logs")
    assert os.listdir(pair.theirs) == []
    session_id = pair.tech.session.session_id
    assert session_id is not None
    async with asyncio.timeout(5):
        while len(changes := [
            broker.audit.open(e)["change"] for e in broker.storage.list_session_events(session_id)
            if e.kind == "file_change"
        ]) < 3:  # fmt: skip
            await asyncio.sleep(0.05)
    assert changes == ["created folder Nouveau dossier", "renamed Nouveau dossier to Logs",
                       "deleted Logs"]  # fmt: skip


async def test_a_group_without_receive_files_gets_nothing_from_the_customer(
    display: str, broker: Broker, client: BrokerClient, login: Login, proxy: CutProxy,
    tmp_path: Path,
) -> None:  # fmt: skip
    group = broker.storage.get_group("Support")
    assert group is not None
    allowed = [p for p in group.permissions if p != "receive_files"]
    broker.storage.put_group(replace(group, permissions=allowed))
    async with session(broker, client, login, proxy, tmp_path) as pair:
        await grant_files(pair)
        (pair.theirs / "secret.txt").write_text("s3cret")
        # The console asks anyway (a modified console would too): the applet refuses.
        status = pair.files.download(*remote(pair.theirs / "secret.txt"), pair.mine)
        done = await pair.events.finished(status.number)
        assert done.state == TransferState.FAILED
        assert "may not receive files" in done.error
        assert os.listdir(pair.mine) == []
        # Sending still works.
        (pair.mine / "fix.reg").write_text("fix")
        up = pair.files.upload(pair.mine / "fix.reg", *remote(pair.theirs))
        assert (await pair.events.finished(up.number)).state == TransferState.DONE
