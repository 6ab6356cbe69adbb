"""The worker threads that read, write and hash the files of transfers, at a lower
scheduling priority than the rest of the program.

A transfer takes all the CPU it can get. Its disk work and hashing run in these
threads; the event loop, which carries input, chat and the screen, runs at normal
priority, so the OS gives it a core first whenever it has something to do, and the
transfer gets the rest (issue: "interleaved with input and video at lower priority").

* Linux: each thread's own nice value, ``NICE`` above the program's (``setpriority`` on
  a thread id is per thread).
* Windows: ``SetThreadPriority(THREAD_PRIORITY_BELOW_NORMAL)``.
* macOS: ``setpriority`` would lower the whole process; the threads stay as they are.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

#: How much higher the threads' nice value is on Linux (0 is normal, 19 the lowest).
NICE = 10
#: Windows' THREAD_PRIORITY_BELOW_NORMAL.
_BELOW_NORMAL = -1
#: Transfers at once that can each have a chunk in a thread.
WORKERS = 4

T = TypeVar("T")
_lock = threading.Lock()
_executor: concurrent.futures.ThreadPoolExecutor | None = None


def lower_this_thread() -> None:
    """Lowers the calling thread's scheduling priority, where the OS allows it per
    thread; never raises (a thread at normal priority still works)."""
    with contextlib.suppress(OSError, AttributeError):
        if sys.platform == "linux":
            thread = threading.get_native_id()
            nice = os.getpriority(os.PRIO_PROCESS, thread)
            os.setpriority(os.PRIO_PROCESS, thread, min(nice + NICE, 19))
        elif sys.platform == "win32":
            import ctypes

            kernel32: Any = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
            kernel32.SetThreadPriority(kernel32.GetCurrentThread(), _BELOW_NORMAL)


def _threads() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(
                WORKERS, thread_name_prefix="lifeline-files", initializer=lower_this_thread
            )
        return _executor


async def in_disk_thread(function: Callable[..., T], *args: Any) -> T:
    """``asyncio.to_thread`` for a transfer's disk work, in the low-priority threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_threads(), functools.partial(function, *args))


class ReadAhead:
    """The chunks `read` returns, in order, each read in the disk threads while the
    caller sends the one before: a sender's disk work (read and hash) and its event
    loop's work (encrypt and send) overlap instead of taking turns. One chunk at most
    is read ahead; `close` drops it (call it when stopping early)."""

    def __init__(self, read: Callable[[], bytes]) -> None:
        self._read = read
        self._next: asyncio.Future[bytes] | None = None

    async def next(self) -> bytes:
        """The next chunk, b"" at the end."""
        pending = self._next or asyncio.ensure_future(in_disk_thread(self._read))
        self._next = None
        data = await pending
        if data:
            self._next = asyncio.ensure_future(in_disk_thread(self._read))
        return data

    def close(self) -> None:
        pending, self._next = self._next, None
        if pending is not None:
            pending.cancel()  # the read may finish in its thread; its result is dropped
            pending.add_done_callback(_retrieved)


def _retrieved(future: asyncio.Future[bytes]) -> None:
    if not future.cancelled():
        future.exception()  # seen, so asyncio does not log it as never retrieved
