"""The console's one asyncio event loop, on its own thread: the broker client, every
session and every decoder live there, and the window thread only submits work to it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from common.transport.event_loop import new_event_loop

T = TypeVar("T")


class LoopThread:
    def __init__(self) -> None:
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self._run, name="lifeline-console-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Runs ``coro`` on the loop; the future completes on the loop's thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, function: Callable[..., object], *args: object) -> None:
        """Calls ``function(*args)`` on the loop's thread, soon."""
        self.loop.call_soon_threadsafe(function, *args)

    def stop(self, timeout: float = 10) -> None:
        """Cancels what still runs, then stops the loop and its thread."""

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self.loop.is_running():
            self.submit(cancel_all()).result(timeout)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        self.loop.close()
