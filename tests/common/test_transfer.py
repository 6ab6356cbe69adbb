"""Chunked, hashed, resumable transfers between a FileSource and a PartialFile."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from common.errors import TransferError
from common.files.transfer import (
    FileSource,
    PartialFile,
    _locked,
    part_name,
    transfer_error,
)

CHUNK = 1024


def digests(data: bytes) -> tuple[str, str]:
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def copy(source: FileSource, part: PartialFile, *, limit: int | None = None) -> int:
    """Moves chunks from ``source`` to ``part``; stops after ``limit`` chunks."""
    sent = 0
    while limit is None or sent < limit:
        offset = source.offset
        data = source.read_chunk()
        if not data:
            break
        part.write(offset, data)
        sent += 1
    return sent


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, 5 * CHUNK + 7])
def test_a_file_arrives_whole_with_both_hashes(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    dest = tmp_path / "dest"
    dest.mkdir()
    source = FileSource(src, chunk_size=CHUNK)
    part = PartialFile(dest, "out.bin", chunk_size=CHUNK)
    assert part.open() == 0
    assert source.start(0) == 0
    copy(source, part)
    assert source.size == size
    assert (source.md5, source.sha256) == digests(data)
    assert part.finish(size, source.md5, source.sha256) == digests(data)
    source.close()
    assert (dest / "out.bin").read_bytes() == data
    assert os.listdir(dest) == ["out.bin"]  # no partial file left


def test_chunks_are_never_bigger_than_the_chunk_size(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * (3 * CHUNK + 1))
    source = FileSource(tmp_path / "f", chunk_size=CHUNK)
    source.start()
    sizes = []
    while chunk := source.read_chunk():
        sizes.append(len(chunk))
    assert sizes == [CHUNK, CHUNK, CHUNK, 1]


def test_a_hash_mismatch_fails_loudly_and_removes_the_partial_file(tmp_path: Path) -> None:
    part = PartialFile(tmp_path, "f.txt")
    part.open()
    part.write(0, b"hello")
    md5, sha = digests(b"hellp")
    with pytest.raises(TransferError, match="damaged") as info:
        part.finish(5, md5, sha)
    assert info.value.reason == "hash_mismatch"
    assert os.listdir(tmp_path) == []


def test_an_end_without_md5_checks_sha256_and_md5_only_where_both_have_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "f").write_bytes(b"hello")
    source = FileSource(tmp_path / "f", md5=False)
    source.start()
    assert source.read_chunk() == b"hello"
    assert (source.md5, source.sha256) == ("", digests(b"hello")[1])
    md5, sha = digests(b"hello")
    # A receiver without MD5 takes the sender's MD5 as none to check, and returns none.
    part = PartialFile(tmp_path, "a", md5=False)
    part.open()
    part.write(0, b"hello")
    assert part.finish(5, md5, sha) == ("", sha)
    # A receiver with MD5 checks it only when the sender sent one, and returns its own.
    part = PartialFile(tmp_path, "b")
    part.open()
    part.write(0, b"hello")
    assert part.finish(5, "", sha) == (md5, sha)
    part = PartialFile(tmp_path, "c")
    part.open()
    part.write(0, b"hello")
    with pytest.raises(TransferError, match="damaged"):
        part.finish(5, digests(b"hellp")[0], sha)
    # SHA-256 is always checked.
    part = PartialFile(tmp_path, "d", md5=False)
    part.open()
    part.write(0, b"hello")
    with pytest.raises(TransferError, match="damaged"):
        part.finish(5, "", digests(b"hellp")[1])
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "f"]


def test_a_wrong_size_is_a_mismatch_too(tmp_path: Path) -> None:
    part = PartialFile(tmp_path, "f.txt")
    part.open()
    part.write(0, b"hello")
    with pytest.raises(TransferError):
        part.finish(6, *digests(b"hello"))
    assert os.listdir(tmp_path) == []


def test_a_chunk_out_of_order_aborts(tmp_path: Path) -> None:
    part = PartialFile(tmp_path, "f.txt")
    part.open()
    part.write(0, b"ab")
    with pytest.raises(TransferError) as info:
        part.write(5, b"cd")
    assert info.value.reason == "out_of_order"
    assert os.listdir(tmp_path) == []


def test_the_finished_file_replaces_an_older_one_atomically(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"old")
    part = PartialFile(tmp_path, "f.txt")
    part.open()
    part.write(0, b"new!")
    part.finish(4, *digests(b"new!"))
    assert (tmp_path / "f.txt").read_bytes() == b"new!"


def test_resume_continues_from_the_verified_offset(tmp_path: Path) -> None:
    data = os.urandom(7 * CHUNK + 3)
    (tmp_path / "src").write_bytes(data)
    dest = tmp_path / "dest"
    dest.mkdir()

    # First attempt: three chunks, then the link drops.
    source = FileSource(tmp_path / "src", chunk_size=CHUNK)
    part = PartialFile(dest, "big.bin", chunk_size=CHUNK)
    part.open()
    source.start()
    copy(source, part, limit=3)
    part.close()
    source.close()
    assert (dest / part_name("big.bin")).stat().st_size == 3 * CHUNK

    # A restarted receiver re-hashes its prefix; the sender checks it and continues.
    part = PartialFile(dest, "big.bin", chunk_size=CHUNK)
    offset = part.open(resume=True)
    assert offset == 3 * CHUNK
    assert part.prefix_sha256 == hashlib.sha256(data[:offset]).hexdigest()
    source = FileSource(tmp_path / "src", chunk_size=CHUNK)
    assert source.start(offset, part.prefix_sha256) == offset
    assert copy(source, part) == 5  # 4 whole chunks and 3 bytes, not 8
    assert part.finish(len(data), source.md5, source.sha256) == digests(data)
    assert (dest / "big.bin").read_bytes() == data


def test_a_prefix_that_differs_makes_the_sender_start_from_zero(tmp_path: Path) -> None:
    data = os.urandom(4 * CHUNK)
    (tmp_path / "src").write_bytes(data)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / part_name("f")).write_bytes(b"not the same bytes at all" * 50)
    part = PartialFile(dest, "f", chunk_size=CHUNK)
    offset = part.open()
    assert offset > 0
    source = FileSource(tmp_path / "src", chunk_size=CHUNK)
    assert source.start(offset, part.prefix_sha256) == 0
    part.restart()
    copy(source, part)
    part.finish(len(data), source.md5, source.sha256)
    assert (dest / "f").read_bytes() == data


def test_a_partial_file_longer_than_the_source_starts_again(tmp_path: Path) -> None:
    (tmp_path / "src").write_bytes(b"short")
    source = FileSource(tmp_path / "src")
    assert source.start(100, hashlib.sha256(b"x" * 100).hexdigest()) == 0


def test_resume_false_starts_from_zero(tmp_path: Path) -> None:
    (tmp_path / part_name("f")).write_bytes(b"left over")
    part = PartialFile(tmp_path, "f")
    assert part.open(resume=False) == 0
    assert part.prefix_sha256 is None


def test_abort_removes_and_close_keeps(tmp_path: Path) -> None:
    part = PartialFile(tmp_path, "f")
    part.open()
    part.write(0, b"abc")
    part.close()
    assert (tmp_path / part_name("f")).exists()
    part.open()
    part.abort()
    assert os.listdir(tmp_path) == []


def test_the_partial_file_is_never_a_link_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / part_name("f")).symlink_to(victim)
    part = PartialFile(dest, "f")
    with pytest.raises(TransferError):
        part.open()
    assert victim.read_bytes() == b"precious"


def test_part_names_are_short_and_fixed() -> None:
    long = "é" * 127
    assert part_name(long) == part_name(long)
    assert len(part_name(long)) < 40
    assert part_name("a") != part_name("b")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_permission_denied_is_clear_and_leaves_nothing(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(TransferError) as info:
            PartialFile(locked, "f").open()
        assert info.value.reason == "permission_denied"
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o700)


def test_a_missing_source_and_a_folder_are_clear(tmp_path: Path) -> None:
    with pytest.raises(TransferError) as info:
        FileSource(tmp_path / "nope")
    assert info.value.reason == "not_found"
    with pytest.raises(TransferError) as info:
        FileSource(tmp_path)
    assert info.value.reason in ("not_a_file", "not_found")


@pytest.mark.parametrize(
    ("code", "reason", "words"),
    [
        (errno.ENOSPC, "disk_full", "disk is full"),
        (errno.EDQUOT, "disk_full", "quota"),
        (errno.EACCES, "permission_denied", "Permission denied"),
        (errno.ENAMETOOLONG, "path_too_long", "too long"),
        (errno.ETXTBSY, "in_use", "in use"),
        (errno.EIO, "io_error", "f.txt"),
    ],
)
def test_os_errors_become_errors_for_people(code: int, reason: str, words: str) -> None:
    error = transfer_error(OSError(code, os.strerror(code)), "f.txt")
    assert error.reason == reason
    assert words in str(error)
    assert "f.txt" in str(error)


def test_disk_full_while_writing_removes_the_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = PartialFile(tmp_path, "f")
    part.open()
    part.write(0, b"first")

    class Full:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    real = part._file
    monkeypatch.setattr(part, "_file", Full())
    with pytest.raises(TransferError) as info:
        part.write(5, b"second")
    assert info.value.reason == "disk_full"
    assert real is not None
    real.close()
    assert os.listdir(tmp_path) == []


def test_a_path_too_long_is_clear(tmp_path: Path) -> None:
    with pytest.raises(TransferError) as info:
        FileSource(tmp_path / ("x" * 300))
    assert info.value.reason == "path_too_long"


def _stop_while_a_thread_streams(step: Callable[[], object], stop: Callable[[], object]) -> None:
    """``step`` in a loop on a worker thread (as a transfer's disk thread does) while this
    thread calls ``stop`` (a cancel); the worker may only ever see TransferError."""
    failures: list[BaseException] = []
    started = threading.Event()

    def stream() -> None:
        try:
            while True:
                step()
                started.set()
        except TransferError:
            pass
        except BaseException as exc:  # what the event loop would have choked on
            failures.append(exc)
        finally:
            started.set()

    worker = threading.Thread(target=stream)
    worker.start()
    started.wait(5.0)
    stop()
    worker.join(5.0)
    assert not worker.is_alive()
    assert failures == []


def test_a_partial_file_aborted_while_a_thread_writes_only_stops_it(tmp_path: Path) -> None:
    for attempt in range(40):
        part = PartialFile(tmp_path, f"f{attempt}")
        part.open()
        _stop_while_a_thread_streams(
            lambda part=part: part.write(part.offset, b"x" * 4096), part.abort
        )
        assert list(tmp_path.iterdir()) == []


def test_a_source_closed_while_a_thread_reads_only_stops_it(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"y" * (1 << 20))
    for _attempt in range(40):
        source = FileSource(path, chunk_size=4096)
        source.start(0)
        _stop_while_a_thread_streams(
            lambda source=source: source.read_chunk() or source.start(0), source.close
        )


@pytest.mark.parametrize("stop", ["abort", "close"])
def test_a_stop_never_waits_for_a_long_step(tmp_path: Path, stop: str) -> None:
    """Resuming hashes what an earlier attempt left, which can take seconds; after a
    cancel meanwhile the step gives up within a chunk (it would return an offset
    otherwise), and the partial file goes (abort) or stays for a later resume (close)."""
    part = PartialFile(tmp_path, "big")
    with open(tmp_path / part_name("big"), "wb") as f:
        f.truncate(512 * 1024 * 1024)  # sparse: hashing it takes about a second
    outcome: list[BaseException | int] = []
    worker = threading.Thread(target=lambda: outcome.append(_run(part.open)))
    worker.start()
    _wait_for(lambda: part._file is not None)  # opened: it is hashing, holding the lock
    getattr(part, stop)()
    worker.join(10.0)
    [result] = outcome
    assert isinstance(result, TransferError) and result.reason == "cancelled"
    assert (tmp_path / part_name("big")).exists() == (stop == "close")
    with pytest.raises(TransferError):
        part.write(0, b"x")


def test_a_source_closed_while_it_hashes_its_prefix_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "big"
    with open(path, "wb") as f:
        f.truncate(512 * 1024 * 1024)
    source = FileSource(path)
    outcome: list[BaseException | int] = []
    worker = threading.Thread(target=lambda: outcome.append(_run(source.start, source.size, "0")))
    worker.start()
    _wait_for(source._lock.locked)  # it is hashing
    source.close()
    worker.join(10.0)
    [result] = outcome
    assert isinstance(result, TransferError) and result.reason == "cancelled"
    with pytest.raises(TransferError):
        source.read_chunk()


def test_a_stop_is_carried_out_by_the_step_that_holds_the_lock(tmp_path: Path) -> None:
    """The event loop never waits long for a worker's step: abort() returns while a
    step holds the lock past STOP_WAIT, and that step removes the partial file on its
    way out."""

    class Stuck(PartialFile):
        @_locked
        def stuck(self, inside: threading.Event, gate: threading.Event) -> None:
            inside.set()
            gate.wait(10.0)

    part = Stuck(tmp_path, "f")
    part.open()
    part.write(0, b"abc")
    inside, gate = threading.Event(), threading.Event()
    worker = threading.Thread(target=part.stuck, args=(inside, gate))
    worker.start()
    assert inside.wait(10.0)
    stopper = threading.Thread(target=part.abort)
    stopper.start()
    stopper.join(5.0)
    assert not stopper.is_alive()  # it did not wait for the lock
    assert (tmp_path / part_name("f")).exists()  # not yet: the step holds the file
    gate.set()
    worker.join(10.0)
    assert os.listdir(tmp_path) == []


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10.0
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def _run(step: Callable[..., int], *args: object) -> BaseException | int:
    try:
        return step(*args)
    except BaseException as exc:
        return exc
