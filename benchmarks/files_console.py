"""The console end of the file-transfer benchmark, in its own process, on ``$DISPLAY``.

``python -m benchmarks.files_console --url U --ca CA``: signs in as the benchmark's
technician, makes a session and prints ``code CODE`` (the benchmark then starts
:mod:`benchmarks.files_applet` with it). Once the applet has granted ``file_manager``
and ``remote_control`` it prints ``ready on PORT``: a control port on 127.0.0.1 where the
benchmark sends one JSON object per line and reads one JSON answer per line:

``{"cmd": "download", "remote": PATH, "folder": DIR, "size": N}``
    :meth:`~console.remote_files.RemoteFiles.download` of the customer's file ``PATH``
    (``N`` bytes) into ``DIR``; answers ``seconds`` (from the call to the transfer's
    ``done``: hashes checked, file ``fsync``'d and renamed into place),
    ``last_byte_seconds`` (to the moment the last byte was written, before the checks
    and the ``fsync``), ``size``, ``state``, ``error``, ``local``;
``{"cmd": "upload", "local": PATH, "folder": DIR, "size": N}``
    :meth:`~console.remote_files.RemoteFiles.upload` into the customer's folder ``DIR``;
    ``last_byte_seconds`` is when the last chunk was handed to the session;
``{"cmd": "latency", "trials": N, "pause": [A, B], "load": null | "download" | "upload", …}``
    the input round trip of :mod:`benchmarks.input_round_trip` (its
    :class:`~benchmarks.input_round_trip.PointerWatch` and trials), while nothing else
    happens or while the same file goes back and forth without a pause (``remote`` and
    ``folder`` for downloads, ``local`` and ``folder`` for uploads); answers
    ``latencies_ms``, ``misses``, ``moved`` (file bytes that arrived meanwhile) and
    ``seconds``;
``{"cmd": "quit"}``
    ends the session.

It is a :class:`~console.technician_session.TechnicianSession` without Qt, as in the
other benchmarks, on uvloop like the real console (``console/loop_thread.py``);
``--loop asyncio`` is there to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.input_round_trip import PointerWatch, Settings, _trials
from benchmarks.processes import TECH_EMAIL, TECH_PASSWORD
from common.errors import LifelineError
from common.transport import BrokerAddress, BrokerClient, PeerSession
from console.file_reports import TransferState, TransferStatus
from console.rights import RightChanged, RightState
from console.technician_session import ConsoleEvent, TechnicianSession

T = TypeVar("T")

TRANSFER_TIMEOUT = 600.0
#: How often the console looks whether the last byte of a transfer is through.
LAST_BYTE_POLL = 0.02
#: The rights the benchmark needs: files, and control (which includes the view).
RIGHTS = ("file_manager", "remote_control")


def run_on(loop: str, coro: Coroutine[Any, Any, T]) -> T:
    """Runs ``coro`` on the standard event loop (``asyncio``) or on ``uvloop``; SIGTERM
    cancels it, so every ``finally`` on the way out runs. Logs at INFO to stderr (the
    child's log file), as the real console and applet do."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await coro

    if loop == "uvloop":
        import uvloop

        result: T = uvloop.run(main())
        return result
    return asyncio.run(main())


def remote_parts(path: str) -> tuple[str, list[str]]:
    """An absolute path on the customer's computer as the file manager names it."""
    return "/", list(Path(path).parts[1:])


class Console:
    """The technician's session and what the control port asks of it."""

    def __init__(self, session: PeerSession, display: str | None) -> None:
        self.tech = TechnicianSession(session, self._report)
        self.display = display
        self._granted: dict[str, asyncio.Event] = {a: asyncio.Event() for a in RIGHTS}
        self._changed = asyncio.Event()
        #: The number of the latency load's latest transfer (0: none yet).
        self._loading = 0

    def _report(self, event: ConsoleEvent) -> None:
        if isinstance(event, RightChanged) and event.state == RightState.GRANTED:
            if event.action in self._granted:
                self._granted[event.action].set()
        elif isinstance(event, TransferStatus):
            self._changed.set()

    async def grant(self) -> None:
        self.tech.start()
        for action in RIGHTS:
            self.tech.request(action)
        for event in self._granted.values():
            await asyncio.wait_for(event.wait(), 30.0)

    async def finished(self, number: int, stop: asyncio.Event | None = None) -> TransferStatus:
        """Waits for transfer ``number`` to end (or for ``stop``, then cancels it)."""
        while True:
            status = self._status(number)
            if status.finished:
                return status
            if stop is not None and stop.is_set():
                self.tech.files.cancel(number)
                continue
            self._changed.clear()
            waits = [asyncio.ensure_future(self._changed.wait())]
            if stop is not None:
                waits.append(asyncio.ensure_future(stop.wait()))
            try:
                await asyncio.wait(waits, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()

    async def _last_byte(self, number: int, size: int) -> float:
        """When the last byte was written (download) or handed to the session (upload):
        the transfer's own count, looked at every :data:`LAST_BYTE_POLL` seconds."""
        # RemoteFiles reports progress at most every 0.1 s; its own count is exact.
        while self._status(number).done < size:  # noqa: ASYNC110
            await asyncio.sleep(LAST_BYTE_POLL)
        return time.perf_counter()

    def _status(self, number: int) -> TransferStatus:
        return next(s for s in self.tech.files.transfers() if s.number == number)

    def moved(self) -> int:
        """File bytes that arrived so far, over every transfer of the session."""
        return sum(s.done for s in self.tech.files.transfers())

    def start(self, kind: str, command: dict[str, Any]) -> TransferStatus:
        files = self.tech.files
        if kind == "download":
            remote, folder = remote_parts(command["remote"]), Path(command["folder"])
            return files.download(*remote, folder, size=command["size"])
        return files.upload(Path(command["local"]), *remote_parts(command["folder"]))

    async def transfer(self, kind: str, command: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        status = self.start(kind, command)
        last_byte = asyncio.ensure_future(self._last_byte(status.number, command["size"]))
        try:
            done = await asyncio.wait_for(self.finished(status.number), TRANSFER_TIMEOUT)
        finally:
            last_byte.cancel()
        end = time.perf_counter()
        # Not seen yet when the transfer was done (within a poll of it): its end, then.
        last = last_byte.result() if last_byte.done() and not last_byte.cancelled() else end
        return {
            "seconds": end - t0,
            "last_byte_seconds": last - t0,
            "size": done.size,
            "state": str(done.state),
            "error": done.error,
            "local": str(done.local),
            "sha256": done.sha256,
        }

    async def latency(self, command: dict[str, Any]) -> dict[str, Any]:
        if self.display is None:
            raise RuntimeError("no DISPLAY: the pointer cannot be watched")
        watch = PointerWatch(self.display)
        watch.start()
        stop = asyncio.Event()
        load: asyncio.Task[int] | None = None
        flowing = asyncio.Event()
        try:
            if command.get("load"):
                load = asyncio.ensure_future(self._load(command, stop, flowing))
                started = asyncio.ensure_future(flowing.wait())
                await asyncio.wait([load, started], timeout=30.0, return_when="FIRST_COMPLETED")
                started.cancel()
                if load.done():
                    load.result()  # its error
                if not flowing.is_set():
                    where = self._status(self._loading) if self._loading else None
                    raise RuntimeError(f"the {command['load']} did not start in 30 s: {where}")
            moved0, t0 = self.moved(), time.perf_counter()
            pause = command["pause"]
            settings = Settings(command["trials"], (float(pause[0]), float(pause[1])), 0.0)

            def move(x: int, y: int) -> None:
                if not self.tech.send_input({"kind": "move", "x": x, "y": y}):
                    raise RuntimeError("remote control was taken back")

            trials = await _trials(watch, move, settings)
            seconds, moved = time.perf_counter() - t0, self.moved() - moved0
        finally:
            stop.set()
            transfers = await load if load is not None else 0
            watch.close()
        return {
            "latencies_ms": trials.latencies_ms,
            "misses": trials.misses,
            "moved": moved,
            "seconds": seconds,
            "transfers": transfers,
        }

    async def _load(
        self,
        command: dict[str, Any],
        stop: asyncio.Event,
        flowing: asyncio.Event,
    ) -> int:
        """The same file back to back until ``stop``; the last one is cancelled."""
        kind, count = command["load"], 0
        while not stop.is_set():
            status = self.start(kind, command)
            self._loading = status.number
            if status.finished:
                raise RuntimeError(f"the {kind} was refused: {status.error}")
            watcher = asyncio.ensure_future(self.finished(status.number, stop))
            while not watcher.done() and not flowing.is_set():
                if self._status(status.number).done > 0:
                    flowing.set()
                await asyncio.sleep(0.01)
            done = await watcher
            count += 1
            if done.state == TransferState.DONE:
                gone = done.local if kind == "download" else Path(command["folder"]) / done.name
                await asyncio.to_thread(gone.unlink, missing_ok=True)
            elif done.state != TransferState.CANCELLED:
                raise RuntimeError(f"the {kind} failed: {done.error}")
        # The applet drops its partial file on file_cancel; give it the moment.
        await asyncio.sleep(0.3)
        return count

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answers commands until ``quit`` (True) or the benchmark hangs up (False)."""
        while line := await reader.readline():
            command = json.loads(line)
            cmd = command["cmd"]
            if cmd == "quit":
                return True
            try:
                if cmd in ("download", "upload"):
                    answer = await self.transfer(cmd, command)
                elif cmd == "latency":
                    answer = await self.latency(command)
                else:
                    answer = {"error": f"unknown command {cmd!r}"}
            except Exception as exc:  # told to the benchmark, which stops
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()
        return False


async def _console(url: str, ca: Path, display: str | None) -> None:
    async with BrokerClient(BrokerAddress(url, ca_file=ca)) as client:
        login = await client.login(TECH_EMAIL, TECH_PASSWORD)
        session = await PeerSession.create(client, login.token)
        print(f"code {session.code}", flush=True)
        console = Console(session, display)
        try:
            await session.wait_open(60.0)
            await console.grant()
            commands: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
            commands = asyncio.Queue()

            async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                commands.put_nowait((reader, writer))

            server = await asyncio.start_server(accept, "127.0.0.1", 0)
            print(f"ready on {server.sockets[0].getsockname()[1]}", flush=True)
            reader, writer = await commands.get()
            try:
                await console.serve(reader, writer)
            finally:
                writer.close()
                server.close()
            await console.tech.end()
        finally:
            await console.tech.close()
            with contextlib.suppress(LifelineError):
                await session.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.files_console")
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        run_on(args.loop, _console(args.url, args.ca, os.environ.get("DISPLAY")))


if __name__ == "__main__":
    main()
