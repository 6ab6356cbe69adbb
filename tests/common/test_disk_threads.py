"""A transfer's disk work runs in threads the OS schedules after the event loop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from common.transport.disk_threads import NICE, ReadAhead, in_disk_thread


def where_and_how_nice() -> tuple[int, int]:
    thread = threading.get_native_id()
    return thread, os.getpriority(os.PRIO_PROCESS, thread)


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_disk_work_runs_in_lower_priority_threads_and_the_loop_keeps_its_own() -> None:
    loop_thread, loop_nice = where_and_how_nice()
    thread, nice = await in_disk_thread(where_and_how_nice)
    assert thread != loop_thread
    assert nice == min(loop_nice + NICE, 19)
    assert where_and_how_nice() == (loop_thread, loop_nice)


async def test_results_and_errors_come_back() -> None:
    assert await in_disk_thread(pow, 2, 10) == 1024
    with pytest.raises(ZeroDivisionError):
        await in_disk_thread(divmod, 1, 0)


async def test_read_ahead_reads_the_next_chunk_while_the_last_is_sent() -> None:
    chunks = [b"a" * 10, b"b" * 10, b"c" * 3]
    calls: list[int] = []
    lock = threading.Lock()

    def read() -> bytes:
        with lock:
            calls.append(len(calls))
            return chunks[len(calls) - 1] if len(calls) <= len(chunks) else b""

    reader = ReadAhead(read)
    assert await reader.next() == b"a" * 10
    for _ in range(1000):  # the second read starts without being asked
        if len(calls) == 2:
            break
        await asyncio.sleep(0.001)
    assert len(calls) == 2
    await asyncio.sleep(0.05)
    assert len(calls) == 2  # one chunk ahead at most
    assert [await reader.next() for _ in range(3)] == [b"b" * 10, b"c" * 3, b""]
    assert len(calls) == 4  # nothing is read after the end


async def test_read_ahead_closed_early_drops_the_chunk_read_ahead() -> None:
    started, release = threading.Event(), threading.Event()

    def read() -> bytes:
        started.set()
        release.wait(5.0)
        raise OSError("the disk went away")  # a failure nobody waits for any more

    reader = ReadAhead(lambda: b"x")
    assert await reader.next() == b"x"
    reader.close()
    reader = ReadAhead(read)
    pending = asyncio.ensure_future(reader.next())
    await asyncio.to_thread(started.wait, 5.0)
    pending.cancel()
    reader.close()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await pending
