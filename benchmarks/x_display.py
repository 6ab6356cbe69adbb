"""A real X display for the screen benchmarks, and the programs they run on it.

:func:`xvfb` starts Xvfb on a display number it picks itself (``-displayfd``), so a run
never collides with a display someone else uses. :func:`program` runs any executable
(xterm, ffplay, x11vnc, ffmpeg, xdotool) the way :mod:`benchmarks.processes` runs Python
children: output to a log file in the run's folder, SIGTERM when the benchmark process
dies, SIGTERM then SIGKILL on the way out.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import psutil  # no stubs in the dev dependencies

from benchmarks.processes import ROOT, STOP_TIMEOUT, BenchmarkError

#: Debian package of each program a screen benchmark may need.
PACKAGES = {
    "Xvfb": "xvfb",
    "xterm": "xterm",
    "xdotool": "xdotool",
    "ffplay": "ffmpeg",
    "ffmpeg": "ffmpeg",
    "x11vnc": "x11vnc",
}


def missing(*programs: str) -> str | None:
    """None when every program is installed; else what to type to install them."""
    absent = [p for p in programs if shutil.which(p) is None]
    if not absent:
        return None
    packages = sorted({PACKAGES.get(p, p) for p in absent})
    return f"{', '.join(absent)} not installed: apt-get install {' '.join(packages)}"


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG = 1: the kernel sends SIGTERM when the parent goes away.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class Program:
    """An external program whose stdout and stderr go to ``workdir/name.log``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        workdir: Path,
        *,
        display: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.log = workdir / f"{name}.log"
        extra = {"DISPLAY": display} if display else {}
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                list(argv),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **extra, **(env or {})},
                preexec_fn=_die_with_parent,
            )
        self.process = psutil.Process(self.popen.pid)

    def cpu_seconds(self) -> float:
        """User + system time of the program (all its threads) so far."""
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 10) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def wait_for_log(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            if not self.alive():
                raise BenchmarkError(f"{self.name} exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{self.name} did not say {text!r}: {self.log_tail()}")
            time.sleep(0.05)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)


@contextlib.contextmanager
def program(
    name: str,
    argv: Sequence[str],
    workdir: Path,
    *,
    display: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Program]:
    proc = Program(name, argv, workdir, display=display, env=env)
    try:
        yield proc
    finally:
        proc.stop()


@contextlib.contextmanager
def xvfb(width: int, height: int, workdir: Path) -> Iterator[str]:
    """Xvfb at ``width``×``height``×24 on a free display number; yields ``":N"``."""
    if (hint := missing("Xvfb")) is not None:
        raise BenchmarkError(hint)
    read_fd, write_fd = os.pipe()
    argv = ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24"]
    with (workdir / "xvfb.log").open("wb") as log:
        server = subprocess.Popen(
            # -noreset: the server keeps its state when its last client goes (between
            # workloads), as a desktop's X server does.
            [*argv, "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise BenchmarkError("Xvfb did not start: see its log")
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(STOP_TIMEOUT)


def xdotool(display: str, *args: str, timeout: float = 10.0) -> str:
    """Runs xdotool on ``display`` and returns its output."""
    done = subprocess.run(
        ["xdotool", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "DISPLAY": display},
    )
    if done.returncode != 0:
        raise BenchmarkError(f"xdotool {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout
