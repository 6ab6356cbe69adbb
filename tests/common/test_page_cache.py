"""Drop-behind: a transfer gives back the page cache of a large file it streams past."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import mmap
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from common.errors import TransferError
from common.files.page_cache import DROP_FROM, WINDOW, DropBehind
from common.files.transfer import FileSource, PartialFile

MIB = 1024 * 1024


class Advice:
    """Records the ranges a DropBehind gives back, as (start, end)."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []

    def __call__(self, fd: int, offset: int, length: int) -> None:
        assert fd == 7 and length > 0  # a length of 0 would mean the whole file
        self.ranges.append((offset, offset + length))


def test_a_read_gives_back_each_window_once_the_file_is_large() -> None:
    advice = Advice()
    drop = DropBehind(written=False, drop_from=40, window=10, advise=advice)
    for offset in range(4, 81, 4):
        drop.passed(7, offset)
    drop.done(7, 83)
    # Nothing below 40 bytes in; then everything read, a window or more at a time.
    assert advice.ranges == [(0, 40), (40, 52), (52, 64), (64, 76), (0, 83)]


def test_a_write_hands_each_window_to_writeback_and_drops_the_one_before() -> None:
    advice = Advice()
    drop = DropBehind(written=True, drop_from=40, window=10, advise=advice)
    for offset in range(4, 81, 4):
        drop.passed(7, offset)
    assert advice.ranges == [
        (0, 40),  # handed to writeback; nothing was handed before it
        (40, 52),
        (0, 40),  # dropped a window later
        (52, 64),
        (40, 52),
        (64, 76),
        (52, 64),
    ]
    advice.ranges.clear()
    drop.done(7, 80)  # after the fsync
    assert advice.ranges == [(0, 80)]


def test_a_small_file_stays_cached() -> None:
    advice = Advice()
    drop = DropBehind(written=True, drop_from=40, window=10, advise=advice)
    for offset in range(4, 40, 4):
        drop.passed(7, offset)
    drop.done(7, 39)
    assert advice.ranges == []


def test_a_file_truncated_midway_is_followed_again_from_0() -> None:
    advice = Advice()
    drop = DropBehind(written=False, drop_from=20, window=10, advise=advice)
    drop.passed(7, 30)
    drop.restart()
    drop.passed(7, 10)
    drop.passed(7, 25)
    assert advice.ranges == [(0, 30), (0, 25)]


def resident_fraction(path: Path) -> float:
    """The share of ``path``'s pages in the page cache (Linux ``mincore``)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int]
    libc.mmap.argtypes += [ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        assert address not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        try:
            vector = ctypes.create_string_buffer(pages)
            assert libc.mincore(address, size, vector) == 0, os.strerror(ctypes.get_errno())
            return sum(byte & 1 for byte in vector.raw) / pages
        finally:
            libc.munmap(address, size)
    finally:
        os.close(fd)


linux_only = pytest.mark.skipif(sys.platform != "linux", reason="mincore and fadvise: Linux")


@linux_only
def test_a_large_transfer_leaves_neither_file_in_the_page_cache(tmp_path: Path) -> None:
    size = DROP_FROM + 2 * WINDOW + 12345
    src = tmp_path / "big.bin"
    block = os.urandom(MIB)
    with src.open("wb") as f:
        for _ in range(size // MIB):
            f.write(block)
        f.write(block[: size % MIB])
        f.flush()
        os.fsync(f.fileno())  # a file at rest: its pages clean, as a reader drops only those
    assert resident_fraction(src) > 0.9  # cached, so the check can tell
    dest = tmp_path / "dest"
    dest.mkdir()
    source = FileSource(src)
    part = PartialFile(dest, "big.bin")
    assert part.open() == 0
    source.start(0)
    while data := source.read_chunk():
        part.write(part.offset, data)
    part.finish(size, source.md5, source.sha256)
    source.close()
    assert resident_fraction(src) < 0.05
    assert resident_fraction(dest / "big.bin") < 0.05
    expected = hashlib.sha256(src.read_bytes()).hexdigest()
    assert hashlib.sha256((dest / "big.bin").read_bytes()).hexdigest() == expected


@linux_only
def test_a_small_transfer_stays_in_the_page_cache(tmp_path: Path) -> None:
    src = tmp_path / "small.bin"
    src.write_bytes(os.urandom(4 * MIB))
    dest = tmp_path / "dest"
    dest.mkdir()
    source = FileSource(src)
    part = PartialFile(dest, "small.bin")
    part.open()
    source.start(0)
    while data := source.read_chunk():
        part.write(part.offset, data)
    part.finish(4 * MIB, source.md5, source.sha256)
    source.close()
    assert resident_fraction(src) > 0.9
    assert resident_fraction(dest / "small.bin") > 0.9


class ClosedDuringRead:
    """A source's file whose next read is followed by a close from another thread,
    which finds the read's step holding the lock (as a cancel on the event loop may)."""

    def __init__(self, file: BinaryIO, close: Callable[[], None]) -> None:
        self._file, self._close = file, close

    def read(self, size: int) -> bytes:
        data = self._file.read(size)
        closer = threading.Thread(target=self._close)
        closer.start()
        closer.join()
        return data

    def seek(self, offset: int) -> int:
        return self._file.seek(offset)

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()


@linux_only
def test_a_close_during_a_read_gives_nothing_back_through_the_closed_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "big.bin"
    with src.open("wb") as f:
        f.truncate(DROP_FROM + WINDOW)
    inode = src.stat().st_ino
    ours: list[bool] = []  # for each advice: was the descriptor still the source's?
    advise = os.posix_fadvise

    def checked(fd: int, offset: int, length: int, advice: int) -> None:
        try:
            ours.append(os.fstat(fd).st_ino == inode)
        except OSError:
            ours.append(False)
        advise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", checked)
    source = FileSource(src, chunk_size=DROP_FROM)  # one read passes DROP_FROM
    source.start(0)
    source._file = ClosedDuringRead(source._file, source.close)  # type: ignore[assignment]
    assert len(source.read_chunk()) == DROP_FROM
    assert ours == [True]
    with pytest.raises(TransferError):
        source.read_chunk()
