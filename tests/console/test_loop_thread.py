"""The console's event loop thread: uvloop when installed, work submitted from outside."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from console.loop_thread import LoopThread


def test_the_loop_runs_submitted_work_on_uvloop_when_installed() -> None:
    thread = LoopThread()
    try:

        async def where() -> str:
            await asyncio.sleep(0)
            return type(asyncio.get_running_loop()).__module__

        module = thread.submit(where()).result(5)
    finally:
        thread.stop()
    if importlib.util.find_spec("uvloop") is None:
        pytest.skip("uvloop is not installed here (Windows): the standard loop is used")
    assert module.startswith("uvloop")
