"""The applet's file manager with real files: browsing, downloads, uploads, refusals."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from applet.consent import Action, Consent, Question
from applet.file_service import FileService, TransferRecord, list_roots
from common.errors import ProtocolError
from common.files.transfer import FileSource, PartialFile, part_name
from common.protocol import Channel
from tests.common.test_file_names import HOSTILE
from tests.conftest import stops_at

CHUNK = 1024
ALL = {"file_manager", "send_files", "receive_files"}


class FakeLink:
    """The session as the service sees it; ``block`` holds the FILE channel shut."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.block = asyncio.Event()
        self.block.set()

    def send(self, channel: Channel, message: dict[str, Any]) -> None:
        assert channel == Channel.FILE
        self.sent.append(message)

    async def wait_writable(self, channel: Channel) -> None:
        await self.block.wait()
        await asyncio.sleep(0)

    def of(self, t: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["t"] == t]

    async def wait_for(self, *types: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.sent:
                if m["t"] in types:
                    return m
            await asyncio.sleep(0.005)
        raise AssertionError(f"no {types} in {[m['t'] for m in self.sent]}")


def granted_consent(permissions: set[str]) -> Consent:
    consent = Consent("Ann", permissions)
    question = consent.request(Action.FILE_MANAGER, 0.0)
    assert isinstance(question, Question)
    consent.answer(question.id, True, 1.0)
    return consent


def make(
    tmp_path: Path, permissions: set[str] = ALL, *, granted: bool = True
) -> tuple[FileService, FakeLink, list[TransferRecord]]:
    link = FakeLink()
    consent = granted_consent(permissions) if granted else Consent("Ann", permissions)
    records: list[TransferRecord] = []
    service = FileService(
        link, consent, permissions, home=tmp_path, chunk_size=CHUNK, on_transfer=records.append
    )
    return service, link, records


def where(path: Path) -> dict[str, Any]:
    return {"root": "/", "path": list(path.parts[1:])}


async def download(
    service: FileService, link: FakeLink, path: Path, dest: Path, tid: int = 1
) -> dict[str, Any]:
    """The console's side of a download, into ``dest`` (a folder), resuming if it can."""
    part = PartialFile(dest, path.name, chunk_size=CHUNK)
    offset = part.open()
    get = {"t": "file_get", "id": tid, **where(path), "offset": offset}
    if part.prefix_sha256:
        get["prefix_sha256"] = part.prefix_sha256
    link.sent.clear()
    await service.handle(get)
    start = link.of("file_start")[0]
    if start["offset"] == 0:
        part.restart()
    end = await link.wait_for("file_end", "file_error")
    if end["t"] == "file_error":
        part.abort()
        return end
    for chunk in link.of("file_chunk"):
        part.write(chunk["offset"], chunk["data"])
    part.finish(end["size"], end["md5"], end["sha256"])
    await service.handle({"t": "file_done", "id": tid, "md5": end["md5"], "sha256": end["sha256"]})
    return end


async def upload(
    service: FileService,
    link: FakeLink,
    src: Path,
    folder: Path,
    *,
    name: str | None = None,
    dirs: list[str] | None = None,
    tid: int = 1,
    stop_after: int | None = None,
) -> dict[str, Any]:
    """The console's side of an upload of ``src`` into ``folder``."""
    link.sent.clear()
    put = {"t": "file_put", "id": tid, **where(folder), "name": name or src.name,
           "size": src.stat().st_size}  # fmt: skip
    if dirs:
        put["dirs"] = dirs
    try:
        await service.handle(put)
    except ProtocolError as exc:  # the controller would answer `refused`
        return {"t": "refused", "reason": str(exc)}
    reply = link.sent[-1]
    if reply["t"] != "file_accept":
        return reply
    source = FileSource(src, chunk_size=CHUNK)
    offset = source.start(reply["offset"], reply.get("prefix_sha256"))
    await service.handle({"t": "file_start", "id": tid, "size": source.size, "offset": offset})
    sent = 0
    while chunk := source.read_chunk():
        at = source.offset - len(chunk)
        await service.handle({"t": "file_chunk", "id": tid, "offset": at, "data": chunk})
        sent += 1
        if stop_after is not None and sent >= stop_after:
            source.close()
            return {"t": "stopped", "chunks": sent}
    await service.handle(
        {"t": "file_end", "id": tid, "size": source.offset, "md5": source.md5,
         "sha256": source.sha256}
    )  # fmt: skip
    source.close()
    result = await link.wait_for("file_done", "file_error")  # from the writer task
    result["chunks"] = sent
    return result


SIZES = [0, 1, 3 * CHUNK + 17]


@pytest.mark.parametrize("size", SIZES)
async def test_downloads_arrive_with_matching_hashes(tmp_path: Path, size: int) -> None:
    service, link, records = make(tmp_path)
    data = os.urandom(size)
    (tmp_path / "remote").mkdir()
    (tmp_path / "local").mkdir()
    src = tmp_path / "remote" / "f.bin"
    src.write_bytes(data)
    end = await download(service, link, src, tmp_path / "local")
    assert end["sha256"] == hashlib.sha256(data).hexdigest()
    assert end["md5"] == ""  # the console computes MD5 for its log; the applet does not
    assert (tmp_path / "local" / "f.bin").read_bytes() == data
    assert all(len(c["data"]) <= CHUNK for c in link.of("file_chunk"))
    assert records == [TransferRecord("download", src, size, end["sha256"])]


@pytest.mark.parametrize("size", SIZES)
async def test_uploads_arrive_with_matching_hashes(tmp_path: Path, size: int) -> None:
    service, link, records = make(tmp_path)
    data = os.urandom(size)
    src = tmp_path / "f.bin"
    src.write_bytes(data)
    dest = tmp_path / "dest"
    dest.mkdir()
    done = await upload(service, link, src, dest)
    assert done["t"] == "file_done"
    assert done["sha256"] == hashlib.sha256(data).hexdigest()
    assert done["md5"] == ""
    assert (dest / "f.bin").read_bytes() == data
    assert os.listdir(dest) == ["f.bin"]
    assert [r.direction for r in records] == ["upload"]


async def test_non_ascii_names_and_nested_folders(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    src = tmp_path / "Résumé 日本.txt"
    src.write_bytes("contenu é".encode())
    dest = tmp_path / "dest"
    dest.mkdir()
    done = await upload(service, link, src, dest, dirs=["Dossier ü", "sous-dossier"])
    assert done["t"] == "file_done"
    assert (dest / "Dossier ü" / "sous-dossier" / src.name).read_bytes() == src.read_bytes()

    link.sent.clear()
    await service.handle({"t": "file_list", "id": 9, **where(dest / "Dossier ü")})
    listing = link.of("file_listing")[0]
    assert listing["entries"][0]["name"] == "sous-dossier"
    assert listing["entries"][0]["kind"] == "folder"

    (tmp_path / "back").mkdir()
    nested = dest / "Dossier ü" / "sous-dossier" / src.name
    await download(service, link, nested, tmp_path / "back")
    assert (tmp_path / "back" / src.name).read_bytes() == src.read_bytes()


async def test_listing_shows_name_size_time_and_kind(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "b.txt").write_bytes(b"12345")
    (tmp_path / "A folder").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "b.txt")
    await service.handle({"t": "file_list", "id": 1, **where(tmp_path)})
    listing = link.of("file_listing")[0]
    assert listing["truncated"] is False
    by_name = {e["name"]: e for e in listing["entries"]}
    assert listing["entries"][0]["name"] == "A folder"
    assert by_name["b.txt"]["kind"] == "file"
    assert by_name["b.txt"]["size"] == 5
    assert abs(by_name["b.txt"]["mtime"] - (tmp_path / "b.txt").stat().st_mtime) < 1
    assert by_name["link"]["kind"] == "link"


async def test_a_huge_folder_is_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("applet.file_service.MAX_ENTRIES", 3)
    service, link, _ = make(tmp_path)
    for i in range(5):
        (tmp_path / f"f{i}").touch()
    await service.handle({"t": "file_list", "id": 1, **where(tmp_path)})
    listing = link.of("file_listing")[0]
    assert len(listing["entries"]) == 3
    assert listing["truncated"] is True


async def test_roots_are_slash_and_home(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    await service.handle({"t": "file_roots"})
    roots = link.of("file_roots")[0]["roots"]
    assert roots[0] == {"root": "/", "path": [], "label": "/"}
    assert roots[1] == {"root": "/", "path": list(tmp_path.parts[1:]), "label": "Home"}
    assert list_roots(Path("/"))[-1].label == "/"  # a home at / is not listed twice


@pytest.mark.parametrize("name", [n for n in HOSTILE if n])
async def test_a_malicious_console_cannot_write_outside(tmp_path: Path, name: str) -> None:
    service, link, _ = make(tmp_path)
    dest, src = tmp_path / "dest", tmp_path / "payload"
    dest.mkdir()
    src.write_bytes(b"evil")
    before = sorted(p for p in tmp_path.rglob("*"))
    reply = await upload(service, link, src, dest, name=name)
    if reply["t"] != "refused":  # a name over 255 characters fails the schema already
        assert reply["t"] == "file_error"
        assert reply["reason"] == "file_name"
        assert reply["message"]
    reply = await upload(service, link, src, dest, name="ok.txt", dirs=[name])
    assert reply["t"] == "file_error"
    assert reply["reason"] == "file_name"
    assert sorted(p for p in tmp_path.rglob("*")) == before


async def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "escape").symlink_to(outside)
    (dest / "victim").symlink_to(outside / "victim.txt")
    src = tmp_path / "payload"
    src.write_bytes(b"evil")
    for kwargs in ({"dirs": ["escape"]}, {"name": "victim"}):
        reply = await upload(service, link, src, dest, **kwargs)  # type: ignore[arg-type]
        assert reply["t"] == "file_error"
    assert os.listdir(outside) == []


async def test_existing_files_are_kept_unless_overwrite(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "f").write_bytes(b"keep")
    (tmp_path / "f").write_bytes(b"new")
    reply = await upload(service, link, tmp_path / "f", tmp_path / "dest")
    assert reply["reason"] == "exists"
    assert (tmp_path / "dest" / "f").read_bytes() == b"keep"


async def test_hostile_locations_are_refused(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    with pytest.raises(ProtocolError, match="roots"):
        await service.handle({"t": "file_list", "id": 1, "root": "\\\\server\\share", "path": []})
    await service.handle({"t": "file_list", "id": 2, "root": "/", "path": ["..", "etc"]})
    assert link.sent[-1]["t"] == "file_error"
    await service.handle({"t": "file_list", "id": 3, "root": "/", "path": ["a/../../etc"]})
    assert link.sent[-1]["t"] == "file_error"
    with pytest.raises(ProtocolError):
        await service.handle({"t": "file_list", "id": 0, "root": "/", "path": []})
    with pytest.raises(ProtocolError):
        await service.handle({"t": "file_list", "id": 1, "root": "/", "path": ["x"] * 65})


async def test_policy_without_send_files_refuses_uploads(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path, {"file_manager", "receive_files"})
    (tmp_path / "f").write_bytes(b"x")
    (tmp_path / "dest").mkdir()
    reply = await upload(service, link, tmp_path / "f", tmp_path / "dest")
    assert reply == {**reply, "t": "file_error", "reason": "policy"}
    assert os.listdir(tmp_path / "dest") == []


async def test_policy_without_receive_files_refuses_downloads(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path, {"file_manager", "send_files"})
    (tmp_path / "f").write_bytes(b"secret")
    await service.handle({"t": "file_get", "id": 1, **where(tmp_path / "f")})
    assert [m["t"] for m in link.sent] == ["file_error"]
    assert link.sent[0]["reason"] == "policy"


async def test_nothing_without_the_persons_yes(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path, granted=False)
    for message in (
        {"t": "file_roots"},
        {"t": "file_list", "id": 1, **where(tmp_path)},
        {"t": "file_get", "id": 1, **where(tmp_path)},
    ):
        with pytest.raises(ProtocolError, match="not been allowed"):
            await service.handle(message)
    assert link.sent == []


async def test_revoke_stops_a_download_in_flight(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "big").write_bytes(os.urandom(50 * CHUNK))
    link.block.clear()  # the link is full: the download waits
    await service.handle({"t": "file_get", "id": 1, **where(tmp_path / "big")})
    await asyncio.sleep(0.01)
    service.consent.revoke(Action.FILE_MANAGER)
    started = time.monotonic()
    await service.stop()
    assert time.monotonic() - started < 0.2
    link.block.set()
    await asyncio.sleep(0.02)
    assert link.of("file_end") == []
    assert link.of("file_error")[-1]["reason"] == "cancelled"


async def test_a_revoke_alone_stops_the_next_chunk(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "big").write_bytes(os.urandom(50 * CHUNK))
    link.block.clear()
    await service.handle({"t": "file_get", "id": 1, **where(tmp_path / "big")})
    service.consent.revoke(Action.FILE_MANAGER)
    link.block.set()
    error = await link.wait_for("file_error", "file_end")
    assert error["t"] == "file_error"
    assert error["reason"] == "cancelled"


async def test_stop_removes_a_partial_upload(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "src").write_bytes(os.urandom(5 * CHUNK))
    (tmp_path / "dest").mkdir()
    await upload(service, link, tmp_path / "src", tmp_path / "dest", stop_after=2)
    assert os.listdir(tmp_path / "dest") == [part_name("src")]
    await service.stop()
    assert os.listdir(tmp_path / "dest") == []
    assert link.of("file_error")[-1]["reason"] == "cancelled"


async def test_an_upload_resumes_from_a_partial_file(tmp_path: Path) -> None:
    data = os.urandom(6 * CHUNK + 5)
    (tmp_path / "src").write_bytes(data)
    (tmp_path / "dest").mkdir()
    service, link, _ = make(tmp_path)
    await upload(service, link, tmp_path / "src", tmp_path / "dest", stop_after=3)
    async with asyncio.timeout(5):  # the three chunks are written (and acknowledged)
        while len(link.of("file_ack")) < 3:
            await asyncio.sleep(0.01)
    # The applet restarts (a new service): the partial file is still there.
    service, link, _ = make(tmp_path)
    done = await upload(service, link, tmp_path / "src", tmp_path / "dest", tid=2)
    assert done["t"] == "file_done"
    assert done["chunks"] == 4  # 3 more whole chunks and 5 bytes, not 7
    assert (tmp_path / "dest" / "src").read_bytes() == data


async def test_a_download_resumes_from_a_partial_file(tmp_path: Path) -> None:
    data = os.urandom(6 * CHUNK + 5)
    (tmp_path / "remote").mkdir()
    (tmp_path / "local").mkdir()
    (tmp_path / "remote" / "f").write_bytes(data)
    (tmp_path / "local" / part_name("f")).write_bytes(data[: 2 * CHUNK])
    service, link, _ = make(tmp_path)
    end = await download(service, link, tmp_path / "remote" / "f", tmp_path / "local")
    assert link.of("file_start")[0]["offset"] == 2 * CHUNK
    assert len(link.of("file_chunk")) == 5
    assert end["sha256"] == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "local" / "f").read_bytes() == data


async def test_a_damaged_upload_is_removed(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "dest").mkdir()
    await service.handle(
        {"t": "file_put", "id": 1, **where(tmp_path / "dest"), "name": "f", "size": 3}
    )
    await service.handle({"t": "file_start", "id": 1, "size": 3, "offset": 0})
    await service.handle({"t": "file_chunk", "id": 1, "offset": 0, "data": b"abc"})
    md5, sha = hashlib.md5(b"abd").hexdigest(), hashlib.sha256(b"abd").hexdigest()
    await service.handle({"t": "file_end", "id": 1, "size": 3, "md5": md5, "sha256": sha})
    assert (await link.wait_for("file_error"))["reason"] == "hash_mismatch"
    assert os.listdir(tmp_path / "dest") == []


async def test_more_data_than_announced_is_refused(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "dest").mkdir()
    await service.handle(
        {"t": "file_put", "id": 1, **where(tmp_path / "dest"), "name": "f", "size": 2}
    )
    await service.handle({"t": "file_start", "id": 1, "size": 2, "offset": 0})
    await service.handle({"t": "file_chunk", "id": 1, "offset": 0, "data": b"abc"})
    assert link.sent[-1]["t"] == "file_error"
    assert os.listdir(tmp_path / "dest") == []
    with pytest.raises(ProtocolError, match="no such upload"):
        await service.handle({"t": "file_chunk", "id": 1, "offset": 3, "data": b"d"})


async def test_a_console_cancel_removes_the_partial_upload(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "src").write_bytes(os.urandom(5 * CHUNK))
    (tmp_path / "dest").mkdir()
    await upload(service, link, tmp_path / "src", tmp_path / "dest", stop_after=1)
    await service.handle({"t": "file_cancel", "id": 1})
    assert os.listdir(tmp_path / "dest") == []


async def test_malformed_messages_are_refused(tmp_path: Path) -> None:
    service, _, _ = make(tmp_path)
    for message in (
        {"t": "file_get", "id": "1", "root": "/", "path": []},
        {"t": "file_chunk", "id": 1, "offset": 0, "data": b"x" * (256 * 1024 + 1)},
        {"t": "file_list", "id": 1, "root": "/" * 300, "path": []},
        {"t": "file_nonsense", "id": 1},
    ):
        with pytest.raises(ProtocolError):
            await service.handle(message)


async def change(service: FileService, link: FakeLink, t: str, folder: Path, **fields: Any) -> str:
    link.sent.clear()
    await service.handle({"t": t, "id": 9, **where(folder), **fields})
    reply = link.sent[-1]
    return "ok" if reply["t"] == "file_ok" else str(reply["reason"])


async def test_new_folder_rename_and_delete(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    assert await change(service, link, "file_mkdir", tmp_path, name="logs é") == "ok"
    assert (tmp_path / "logs é").is_dir()
    assert await change(service, link, "file_mkdir", tmp_path, name="logs é") == "exists"
    (tmp_path / "logs é" / "a.txt").write_text("a")
    assert (
        await change(service, link, "file_rename", tmp_path, name="logs é", new_name="old") == "ok"
    )
    assert (tmp_path / "old" / "a.txt").read_text() == "a"
    (tmp_path / "b").write_text("b")
    assert (
        await change(service, link, "file_rename", tmp_path, name="b", new_name="old") == "exists"
    )
    assert await change(service, link, "file_delete", tmp_path, name="old") == "ok"
    assert await change(service, link, "file_delete", tmp_path, name="b") == "ok"
    assert await change(service, link, "file_delete", tmp_path, name="b") == "not_found"
    assert os.listdir(tmp_path) == []


async def test_deleting_a_link_keeps_what_it_points_to(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "precious").write_text("x")
    (tmp_path / "box").mkdir()
    (tmp_path / "box" / "link").symlink_to(tmp_path / "outside")
    assert await change(service, link, "file_delete", tmp_path / "box", name="link") == "ok"
    assert (tmp_path / "outside" / "precious").read_text() == "x"


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_new_names_change_nothing(tmp_path: Path, name: str) -> None:
    service, link, _ = make(tmp_path)
    (tmp_path / "box").mkdir()
    (tmp_path / "box" / "f").write_text("f")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for t, fields in (
        ("file_mkdir", {"name": name}),
        ("file_rename", {"name": "f", "new_name": name}),
    ):
        try:
            reason = await change(service, link, t, tmp_path / "box", **fields)
        except ProtocolError:  # refused as a whole: over-long or not text
            continue
        assert reason == "file_name"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


async def test_changes_need_send_files(tmp_path: Path) -> None:
    service, link, _ = make(tmp_path, {"file_manager", "receive_files"})
    (tmp_path / "f").write_text("f")
    assert await change(service, link, "file_delete", tmp_path, name="f") == "policy"
    assert await change(service, link, "file_mkdir", tmp_path, name="d") == "policy"
    assert sorted(os.listdir(tmp_path)) == ["f"]


async def test_a_download_waits_for_the_consoles_acknowledgements(tmp_path: Path) -> None:
    """The console's disk sets the pace: no more than WINDOW bytes beyond its last
    file_ack are ever sent, so chunks never pile up in its memory."""
    from common.files.flow import WINDOW

    link = FakeLink()
    consent = granted_consent(ALL)
    service = FileService(link, consent, ALL, home=tmp_path, chunk_size=64 * 1024)
    (tmp_path / "big").write_bytes(os.urandom(3 * WINDOW))
    await service.handle({"t": "file_get", "id": 1, **where(tmp_path / "big")})

    def sent() -> int:
        return sum(len(m["data"]) for m in link.of("file_chunk"))

    await stops_at(sent, WINDOW)  # and it waits there
    await service.handle({"t": "file_ack", "id": 1, "offset": WINDOW // 2})
    await stops_at(sent, WINDOW + WINDOW // 2)
    with pytest.raises(ProtocolError):  # beyond what was sent
        await service.handle({"t": "file_ack", "id": 1, "offset": 3 * WINDOW})
    while not link.of("file_end"):
        await service.handle({"t": "file_ack", "id": 1, "offset": sent()})
        await asyncio.sleep(0.05)
    assert link.of("file_end")[0]["size"] == 3 * WINDOW
    await service.stop()


async def test_a_download_gives_way_while_the_technician_uses_input(tmp_path: Path) -> None:
    """Input narrows the window to INTERACTIVE_WINDOW for INTERACTIVE_FOR seconds, then
    the download runs a whole WINDOW ahead again."""
    from common.files.flow import INTERACTIVE_FOR, INTERACTIVE_WINDOW, WINDOW, Pace

    now = [0.0]
    link = FakeLink()
    service = FileService(link, granted_consent(ALL), ALL, home=tmp_path, chunk_size=64 * 1024)
    service.pace = Pace(lambda: now[0])
    service.pace.input()
    (tmp_path / "big").write_bytes(os.urandom(2 * WINDOW))
    await service.handle({"t": "file_get", "id": 1, **where(tmp_path / "big")})

    def sent() -> int:
        return sum(len(m["data"]) for m in link.of("file_chunk"))

    await stops_at(sent, INTERACTIVE_WINDOW)
    now[0] += INTERACTIVE_FOR
    await service.handle({"t": "file_ack", "id": 1, "offset": 64 * 1024})
    await stops_at(sent, 64 * 1024 + WINDOW)
    await service.stop()
