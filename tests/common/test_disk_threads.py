"""A transfer's disk work runs in threads the OS schedules after the event loop."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from common.transport.disk_threads import NICE, in_disk_thread


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
