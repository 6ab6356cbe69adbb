"""A malicious applet serving files: whatever names and bytes it sends, the console
writes nothing outside the folder the technician picked, and says why."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from common.files.transfer import PartialFile
from console.file_reports import FileProblem, TransferState
from console.remote_folders import download_folder
from console.technician_session import TechnicianSession
from tests.common.test_file_names import HOSTILE
from tests.console.console_events import Events
from tests.console.scripted_applet import ScriptedApplet


@pytest.fixture
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The technician's disk takes 50 ms per chunk written: a network share, say."""
    write = PartialFile.write

    def slow(self: PartialFile, offset: int, data: bytes) -> None:
        time.sleep(0.05)
        write(self, offset, data)

    monkeypatch.setattr(PartialFile, "write", slow)


def everything_below(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def entry(name: str, kind: str = "file") -> dict[str, Any]:
    return {"name": name, "kind": kind, "size": 4, "mtime": 0.0}


async def test_hostile_names_write_nothing_outside_and_say_why(
    scripted: tuple[TechnicianSession, ScriptedApplet, Events], tmp_path: Path
) -> None:
    tech, server, events = scripted
    top = tmp_path / "technician"
    dest = top / "a" / "b" / "dest"
    dest.mkdir(parents=True)
    (dest / "outside-link").symlink_to(top / "a")
    before = everything_below(top)
    server.entries = [entry(n) for n in HOSTILE] + [entry(n, "folder") for n in HOSTILE]
    listing = await tech.files.list_folder("/", ["home"])
    # Names that could not even address a file are left out, and counted.
    assert listing.hidden > 0
    assert all(e.name != ".." and "/" not in e.name for e in listing.entries)
    data = b"evil"
    server.download = [
        {"t": "file_start", "size": 4, "offset": 0},
        {"t": "file_chunk", "offset": 0, "data": data},
        {"t": "file_end", "size": 4, "md5": hashlib.md5(data).hexdigest(),
         "sha256": hashlib.sha256(data).hexdigest()},
    ]  # fmt: skip
    # The technician tries each hostile name anyway (as a modified listing would offer).
    for name in HOSTILE:
        status = tech.files.download("/", ["home", name], dest)
        done = await events.finished(status.number)
        assert done.state == TransferState.FAILED, name
        assert done.error, name  # said why
    server.entries = [entry("..", "folder"), entry("outside-link", "folder")]
    for name in ("..", "outside-link", "CON", "a/b"):
        assert await download_folder(tech.files, "/", ["home", name], dest) == 0
        problem = await events.next(FileProblem, timeout=5)
        assert problem.text
    assert everything_below(top) == before


@pytest.mark.parametrize(
    "replies, why",
    [
        ([{"t": "file_start", "size": 4, "offset": 0},
          {"t": "file_chunk", "offset": 0, "data": b"12345678"}], "More data"),
        ([{"t": "file_start", "size": 4, "offset": 0},
          {"t": "file_chunk", "offset": 0, "data": b"1234"},
          {"t": "file_end", "size": 4, "md5": "0" * 32, "sha256": "0" * 64}], "damaged"),
        ([{"t": "file_start", "size": 4, "offset": 9}], "did not resume"),
        ([{"t": "file_chunk", "offset": 0, "data": b"1234"}], "More data"),
        ([{"t": "file_start", "size": 4, "offset": 0},
          {"t": "file_chunk", "offset": 2, "data": b"1234"}], "out of order"),
        ([{"t": "file_start", "size": 4, "offset": 0},
          {"t": "file_chunk", "offset": 0, "data": b"1234"},
          {"t": "file_end", "size": 5, "md5": "0" * 32, "sha256": "0" * 64}], "size changed"),
    ],
)  # fmt: skip
async def test_bad_bytes_fail_loudly_and_leave_nothing(
    scripted: tuple[TechnicianSession, ScriptedApplet, Events],
    tmp_path: Path,
    replies: list[dict[str, Any]],
    why: str,
) -> None:
    tech, server, events = scripted
    server.download = replies
    dest = tmp_path / "technician"
    dest.mkdir()
    status = tech.files.download("/", ["home", "report.txt"], dest)
    done = await events.finished(status.number)
    assert done.state == TransferState.FAILED
    assert why in done.error
    assert os.listdir(dest) == []


async def test_an_applet_that_ignores_acknowledgements_is_stopped_not_queued_for(
    scripted: tuple[TechnicianSession, ScriptedApplet, Events],
    tmp_path: Path,
    slow_disk: None,
) -> None:
    """The console writes a download behind the messages that bring it, so that the
    screen and chat never wait for its disk. An applet that sends on without waiting
    for file_ack could then fill the console's memory with chunks on a slow disk: past
    twice the flow window beyond what is written, the download stops and says why."""
    from common.files.flow import WINDOW

    tech, server, events = scripted
    chunk, count = 256 * 1024, 4 * WINDOW // (256 * 1024)
    server.download = [{"t": "file_start", "size": chunk * count, "offset": 0}] + [
        {"t": "file_chunk", "offset": i * chunk, "data": os.urandom(chunk)} for i in range(count)
    ]
    dest = tmp_path / "technician"
    dest.mkdir()
    status = tech.files.download("/", ["home", "flood.bin"], dest)
    done = await events.finished(status.number)
    assert done.state == TransferState.FAILED
    assert "sent more than it may" in done.error
    assert done.done < 2 * WINDOW  # it did not wait for the rest to be written
    async with asyncio.timeout(5):  # the partial file goes once its last chunk is written
        while os.listdir(dest):
            await asyncio.sleep(0.02)


async def test_an_unexpected_error_while_writing_fails_the_download(
    scripted: tuple[TechnicianSession, ScriptedApplet, Events],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever goes wrong in the writer, the download ends FAILED and says so: it
    never stays "running" with nobody writing it."""

    def broken(self: PartialFile, offset: int, data: bytes) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(PartialFile, "write", broken)
    tech, server, events = scripted
    server.download = [
        {"t": "file_start", "size": 4, "offset": 0},
        {"t": "file_chunk", "offset": 0, "data": b"1234"},
    ]
    dest = tmp_path / "technician"
    dest.mkdir()
    status = tech.files.download("/", ["home", "report.txt"], dest)
    done = await events.finished(status.number)
    assert done.state == TransferState.FAILED
    assert done.error == "report.txt could not be written."
    assert os.listdir(dest) == []


async def test_a_download_whose_end_arrived_is_finished_after_the_session_ends(
    scripted: tuple[TechnicianSession, ScriptedApplet, Events],
    tmp_path: Path,
    slow_disk: None,
) -> None:
    """The customer ends the session right after the last bytes went, while the
    technician's slow disk still writes them: the file is written and put in place."""
    tech, server, events = scripted
    data = os.urandom(8 * 256 * 1024)
    chunks = [data[i : i + 256 * 1024] for i in range(0, len(data), 256 * 1024)]
    server.download = [
        {"t": "file_start", "size": len(data), "offset": 0},
        *({"t": "file_chunk", "offset": i * 256 * 1024, "data": c} for i, c in enumerate(chunks)),
        {"t": "file_end", "size": len(data), "md5": hashlib.md5(data).hexdigest(),
         "sha256": hashlib.sha256(data).hexdigest()},
    ]  # fmt: skip
    server.end_after_download = True
    dest = tmp_path / "technician"
    dest.mkdir()
    status = tech.files.download("/", ["home", "log.bin"], dest)
    done = await events.finished(status.number)
    assert done.state == TransferState.DONE, done.error
    assert (dest / "log.bin").read_bytes() == data
