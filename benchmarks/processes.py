"""The processes a benchmark measures: the real broker, reference servers, clients.

Every child is started with its output in a log file (so it can never block on a full
pipe), announces itself with one line on stdout, and is asked to stop with SIGTERM and
killed if it does not. On Linux a child also gets SIGTERM when the benchmark process
dies, so an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # no stubs in the dev dependencies

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

TECH_EMAIL = "bench@example.test"
TECH_PASSWORD = "abc12345x"


class BenchmarkError(Exception):
    """A benchmark could not run (a process did not start, a transfer stalled, …)."""


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG = 1: the kernel sends SIGTERM when the parent goes away.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def raise_open_file_limit(wanted: int = 65_536) -> int:
    """Lifts the soft RLIMIT_NOFILE (children inherit it); returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


class Child:
    """A child process whose stdout and stderr go to files under ``workdir``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.log = workdir / f"{name}.log"
        self._out = workdir / f"{name}.out"
        with self._out.open("wb") as out, self.log.open("wb") as err:
            self.popen = subprocess.Popen(
                [sys.executable, *argv],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env={**os.environ, **(env or {})},
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self.process = psutil.Process(self.popen.pid)
        #: Filled in by :meth:`stop`, while the log still exists.
        self.errors: list[str] = []

    def wait_for_line(self, pattern: str, timeout: float = STARTUP_TIMEOUT) -> re.Match[str]:
        """Waits until a line of the child's stdout matches ``pattern`` (blocking)."""
        deadline = time.monotonic() + timeout
        while (match := self._line(pattern, deadline)) is None:
            time.sleep(0.05)
        return match

    async def ready(self, pattern: str, timeout: float = STARTUP_TIMEOUT) -> re.Match[str]:
        """:meth:`wait_for_line` for coroutines: the event loop (and its SIGTERM
        handler) keeps running meanwhile."""
        deadline = time.monotonic() + timeout
        # A file has nothing to wait on but time.
        while (match := self._line(pattern, deadline)) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return match

    def _line(self, pattern: str, deadline: float) -> re.Match[str] | None:
        for line in self._out.read_text(errors="replace").splitlines():
            match = re.search(pattern, line)
            if match:
                return match
        if self.popen.poll() is not None:
            raise BenchmarkError(
                f"{self.name} exited with {self.popen.returncode}: {self.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise BenchmarkError(f"{self.name} did not say {pattern!r} in time: {self.log_tail()}")
        return None

    def log_tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def log_errors(self) -> list[str]:
        """The exception line of each traceback in the child's log, in order."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        errors = []
        for i, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last):"):
                rest = (x for x in lines[i + 1 :] if x and not x.startswith(" "))
                errors.append(next(rest, "(traceback cut short)"))
        return errors

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
            self.errors = self.log_errors()
        return self.popen.returncode


@contextlib.contextmanager
def child(
    name: str,
    argv: Sequence[str],
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    stop_timeout: float = STOP_TIMEOUT,
) -> Iterator[Child]:
    proc = Child(name, argv, workdir, env=env)
    try:
        yield proc
    finally:
        proc.stop(stop_timeout)


@dataclass
class BrokerProcess:
    """``lifeline-broker serve`` in its own process, with one technician account."""

    url: str
    ca_file: Path
    cert_file: Path
    key_file: Path
    data_dir: Path
    proc: Child


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"lifeline-bench-{prefix}-") as path:
        yield Path(path)


def _admin(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "broker.cli", "--data", str(data_dir), "admin", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise BenchmarkError(f"lifeline-broker admin {args[0]} failed: {done.stderr.strip()}")


@contextlib.contextmanager
def broker_process(workdir: Path, *, env: dict[str, str] | None = None) -> Iterator[BrokerProcess]:
    """Seeds a technician, then runs the broker exactly as an operator would (``env``:
    added to its environment, and to the admin commands')."""
    data_dir = workdir / "broker"
    _admin(data_dir, "add-group", "Support", env=env)
    _admin(
        data_dir,
        "add-technician",
        TECH_EMAIL,
        "--name",
        "Bench",
        "--group",
        "Support",
        "--password",
        TECH_PASSWORD,
        env=env,
    )
    argv = ["-m", "broker.cli", "serve", "--data", str(data_dir), "--host", "127.0.0.1"]
    with child("broker", [*argv, "--port", "0"], workdir, env=env) as proc:
        match = proc.wait_for_line(r"listening on (https://\S+)")
        yield BrokerProcess(
            url=match.group(1),
            ca_file=data_dir / "ca.pem",
            cert_file=data_dir / "server.pem",
            key_file=data_dir / "server-key.pem",
            data_dir=data_dir,
            proc=proc,
        )


def describe_errors(name: str, errors: list[str]) -> str:
    """One note line on what a process logged: nothing, or its distinct exceptions."""
    if not errors:
        return f"{name} log: no tracebacks."
    counts: dict[str, int] = {}
    for e in errors:
        counts[e] = counts.get(e, 0) + 1
    listed = "; ".join(f"{n}x {e}" for e, n in counts.items())
    return f"{name} log: {len(errors)} tracebacks: {listed}"


def uses_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def machine() -> dict[str, Any]:
    """The facts a reader needs to compare figures between machines."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "event_loop": "uvloop" if uses_uvloop() else "asyncio",
    }
