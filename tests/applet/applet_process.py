"""The real applet program (``python -m applet.main``) run as a person would run it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from broker.app import Broker


@contextlib.asynccontextmanager
async def applet_process(
    broker: Broker, display: str, home: Path, *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Starts the applet against ``broker`` with ``home`` as its HOME and TMPDIR (so a
    test can check it leaves nothing behind); kills it if the test did not end it."""
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DISPLAY": display,
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "QT_QPA_PLATFORM": "xcb",
        "LANG": "C.UTF-8",
        "PYTHONFAULTHANDLER": "1",
    }
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("XDG_CACHE_HOME", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "applet.main",
        "--broker",
        broker.url,
        "--ca-file",
        str(broker.certs.ca_file),
        *args,
        env=env,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            # Still running: SIGABRT makes faulthandler print every thread's stack,
            # which says where it hung.
            proc.send_signal(signal.SIGABRT)
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def leftovers(home: Path) -> list[Path]:
    """Files the applet left in its HOME or TMPDIR."""
    return [p for p in home.rglob("*") if p != home / "tmp"]
