"""files: file transfers through the broker with end-to-end encryption (issue 6).

Real processes on 127.0.0.1 and one Xvfb (1920×1080): the broker
(:func:`~benchmarks.processes.broker_process`, TLS), the applet
(:mod:`benchmarks.files_applet`: the real AppletController and its FileService, every
question answered "allow") and the console (:mod:`benchmarks.files_console`: a
TechnicianSession and its RemoteFiles, driven over a control port). Each end is its own
process, so CPU and memory are per end. The session has ``file_manager`` and
``remote_control`` granted, so the applet streams its (still) screen to the console, which
decodes it, as in a real session.

Measured, in the same run:

* **throughput** of a download (customer → technician) and an upload (technician →
  customer) of one file (2 GiB; 256 MiB with ``--quick``), from the console's call to
  the transfer's ``done``: both ends hashed it (SHA-256 at both, MD5 at the console
  for its log), the receiver ``fsync``'d it and renamed it into place. The file read is
  sparse; the file written is a real one. The reference is ``cat FILE | nc`` →
  ``nc -l > OUT`` over a plain loopback TCP pair, written in Python
  (:mod:`benchmarks.files_plain`: read + sendall, recv_into + write + fsync; socat and
  nc are not assumed installed). Cases are interleaved (reference, download, upload,
  repeated), each after a ``sync`` and `SETTLE` seconds of quiet, and the table shows
  medians;
* **memory**: each end's peak RSS above its idle RSS during each transfer: the kernel's
  high-water mark (``VmHWM``, reset through ``/proc/PID/clear_refs`` before each
  transfer), and samples every 50 ms to see whether it grows with the file;
* **input round trip** (the method of :mod:`benchmarks.input_round_trip`: console
  ``send_input`` → pointer seen moved on the X server, watched from the console process)
  with the link idle, and while the file goes back and forth without a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import links
from benchmarks.input_round_trip import TRIAL_TIMEOUT
from benchmarks.processes import (
    BenchmarkError,
    Child,
    broker_process,
    child,
    describe_errors,
    temp_dir,
)
from benchmarks.report import GB, MB, MIB, Goal, Result
from benchmarks.x_display import xvfb

TITLE = "File transfers through the broker (TLS, E2E): MB/s, RSS of each end, input meanwhile"

WIDTH, HEIGHT = 1920, 1080
GOAL_MBPS = 150.0
GOAL_RSS = 64 * MB  # above idle, for a 2 GiB file
GOAL_LATENCY_RATIO = 2.0  # p95 during a transfer over p95 idle
SAMPLE_EVERY = 0.05
#: Seconds of idle session before any transfer: idle RSS and CPU.
IDLE_WINDOW = 3.0
#: Seconds each timed transfer waits, after a sync, for the disk to go quiet.
SETTLE = 1.0
GIB = 1024 * MIB

PLAIN = "plain TCP: cat | nc (reference)"
DOWNLOAD = "download: applet → console"
UPLOAD = "upload: console → applet"
IDLE = "input, link idle"
DURING = {"download": "input during a download", "upload": "input during an upload"}


@dataclass
class Settings:
    size: int
    repetitions: int
    trials: int
    pause: tuple[float, float]
    timeout: float


FULL = Settings(size=2 * GIB, repetitions=3, trials=200, pause=(0.02, 0.06), timeout=300.0)
QUICK = Settings(size=256 * MIB, repetitions=1, trials=60, pause=(0.02, 0.05), timeout=60.0)


@dataclass
class Transfer:
    case: str
    repetition: int
    nbytes: int
    seconds: float
    #: To the last byte written (reference, download) or handed to the session
    #: (upload): before the final checks and fsync.
    last_byte_seconds: float
    cpu: dict[str, float] = field(default_factory=dict)
    #: Peak RSS during the transfer (the kernel's high-water mark), by end.
    peak: dict[str, int] = field(default_factory=dict)
    #: Sampled RSS: the last quarter's peak minus the first quarter's, by end.
    growth: dict[str, int] = field(default_factory=dict)
    #: RSS when the transfer started (what earlier transfers left), by end.
    start: dict[str, int] = field(default_factory=dict)

    @property
    def mbps(self) -> float:
        return self.nbytes / MB / self.seconds

    @property
    def last_byte_mbps(self) -> float:
        return self.nbytes / MB / self.last_byte_seconds


@dataclass
class Latency:
    case: str
    latencies_ms: list[float]
    misses: int
    moved: int
    seconds: float
    transfers: int = 0


@dataclass
class Measured:
    transfers: list[Transfer] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    idle_rss: dict[str, int] = field(default_factory=dict)
    #: CPU of each process while the session is idle (a still screen in view), in cores.
    idle_cpu: dict[str, float] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)


# ---- memory --------------------------------------------------------------------------


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise BenchmarkError(f"/proc/{pid}/status has no {key}")


def rss(proc: Child) -> int:
    """Resident memory now, in bytes (``VmRSS``)."""
    return 1024 * _status_kib(proc.popen.pid, "VmRSS")


def high_water(proc: Child) -> int:
    """The peak resident memory since the last :func:`reset_high_water`, in bytes."""
    return 1024 * _status_kib(proc.popen.pid, "VmHWM")


def reset_high_water(proc: Child) -> None:
    # "5" resets the peak RSS to the current RSS (Linux 4.0+, proc(5)).
    Path(f"/proc/{proc.popen.pid}/clear_refs").write_text("5")


@contextlib.asynccontextmanager
async def sampling(procs: dict[str, Child]) -> AsyncIterator[dict[str, list[int]]]:
    """RSS of each process every :data:`SAMPLE_EVERY` seconds while the block runs."""
    samples: dict[str, list[int]] = {name: [] for name in procs}

    async def sample() -> None:
        while True:
            for name, proc in procs.items():
                samples[name].append(rss(proc))
            await asyncio.sleep(SAMPLE_EVERY)

    task = asyncio.ensure_future(sample())
    try:
        yield samples
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _growth(values: list[int]) -> int:
    """How much higher the last quarter's peak is than the first quarter's."""
    if len(values) < 8:
        return 0
    quarter = len(values) // 4
    return max(values[-quarter:]) - max(values[:quarter])


# ---- the cases -----------------------------------------------------------------------


class Ends:
    """The processes of a run and the console's control port."""

    def __init__(
        self,
        broker: Child,
        console: Child,
        applet: Child,
        control: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.broker = broker
        self.console = console
        self.applet = applet
        self.ends = {"applet": applet, "console": console}
        self.reader, self.writer = control

    async def ask(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.writer.write(json.dumps(command).encode() + b"\n")
        await self.writer.drain()
        try:
            line = await asyncio.wait_for(self.reader.readline(), timeout)
        except TimeoutError:
            raise BenchmarkError(f"the console did not finish {command['cmd']} in time") from None
        if not line:
            raise BenchmarkError(f"the console stopped: {self.console.log_tail()}")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("error") and "state" not in answer:
            raise BenchmarkError(f"{command['cmd']}: {answer['error']}")
        return answer


@dataclass
class Files:
    """Where each case reads and writes, all under the run's folder."""

    work: Path
    size: int

    def __post_init__(self) -> None:
        self.customer = self.work / "customer"
        self.technician = self.work / "technician"
        self.uploads = self.customer / "uploads"
        self.downloads = self.technician / "downloads"
        for d in (self.uploads, self.downloads):
            d.mkdir(parents=True)
        # Sparse: reading costs no disk, writing the copy does.
        self.remote = self.customer / "download.bin"
        self.local = self.technician / "upload.bin"
        for path in (self.remote, self.local):
            with path.open("wb") as f:
                f.truncate(self.size)
        self.plain_out = self.work / "plain.out"


async def _quiet_disk() -> None:
    """Writes back what the case before left dirty and waits `SETTLE` seconds, so that
    a case does not pay for the last one's writeback and freed blocks (this disk is
    mounted with online discard)."""
    await asyncio.to_thread(os.sync)
    await asyncio.sleep(SETTLE)


async def _plain(files: Files, work: Path, repetition: int, timeout: float) -> Transfer:
    await _quiet_disk()
    argv = ["-m", "benchmarks.files_plain"]
    with child("plain-receiver", [*argv, "receive", "--out", str(files.plain_out)], work) as rx:
        port = (await rx.ready(r"listening on (\d+)")).group(1)
        sender = [*argv, "send", "--port", port, "--file", str(files.remote)]
        with child("plain-sender", sender, work):
            match = await rx.ready(
                r"received (\d+) bytes in ([\d.]+) s, the last after ([\d.]+) s", timeout
            )
    files.plain_out.unlink()
    nbytes, seconds, last_byte = int(match.group(1)), float(match.group(2)), float(match.group(3))
    if nbytes != files.size:
        raise BenchmarkError(f"the plain reference moved {nbytes} of {files.size} bytes")
    return Transfer(PLAIN, repetition, nbytes, seconds, last_byte)


async def _lifeline(
    ends: Ends, kind: str, files: Files, repetition: int, timeout: float
) -> Transfer:
    command: dict[str, Any] = {"cmd": kind, "size": files.size}
    if kind == "download":
        command.update(remote=str(files.remote), folder=str(files.downloads))
    else:
        command.update(local=str(files.local), folder=str(files.uploads))
    await _quiet_disk()
    procs = {**ends.ends, "broker": ends.broker}
    for proc in ends.ends.values():
        reset_high_water(proc)
    start = {name: rss(proc) for name, proc in ends.ends.items()}
    cpu0 = {name: proc.cpu_seconds() for name, proc in procs.items()}
    async with sampling(ends.ends) as samples:
        answer = await ends.ask(command, timeout)
    cpu = {name: proc.cpu_seconds() - cpu0[name] for name, proc in procs.items()}
    if answer["state"] != "done":
        raise BenchmarkError(f"the {kind} ended {answer['state']}: {answer['error']}")
    written = Path(answer["local"]) if kind == "download" else files.uploads / files.local.name
    size = written.stat().st_size
    written.unlink()
    if size != files.size:
        raise BenchmarkError(f"the {kind} wrote {size} of {files.size} bytes")
    return Transfer(
        DOWNLOAD if kind == "download" else UPLOAD,
        repetition,
        files.size,
        answer["seconds"],
        answer["last_byte_seconds"],
        cpu=cpu,
        peak={name: high_water(proc) for name, proc in ends.ends.items()},
        growth={name: _growth(values) for name, values in samples.items()},
        start=start,
    )


async def _latency(
    ends: Ends, files: Files, load: str | None, case: str, settings: Settings
) -> Latency:
    command: dict[str, Any] = {
        "cmd": "latency",
        "trials": settings.trials,
        "pause": list(settings.pause),
        "load": load,
        "size": files.size,
        "remote": str(files.remote),
        "local": str(files.local),
        "folder": str(files.downloads if load == "download" else files.uploads),
    }
    answer = await ends.ask(command, 120.0 + settings.trials * 2.0)
    for folder in (files.downloads, files.uploads):  # nothing may be left behind
        for leftover in folder.iterdir():
            leftover.unlink()
    return Latency(
        case,
        answer["latencies_ms"],
        answer["misses"],
        answer["moved"],
        answer["seconds"],
        answer["transfers"],
    )


async def _measure(
    ends: Ends, files: Files, work: Path, settings: Settings, measured: Measured
) -> None:
    await asyncio.sleep(1.5)  # the first picture, decoded; the session settles
    procs = {**ends.ends, "broker": ends.broker}
    cpu0, t0 = {name: proc.cpu_seconds() for name, proc in procs.items()}, time.perf_counter()
    async with sampling(ends.ends) as idle:
        await asyncio.sleep(IDLE_WINDOW)
    wall = time.perf_counter() - t0
    measured.idle_rss = {name: int(statistics.median(v)) for name, v in idle.items()}
    measured.idle_cpu = {name: (p.cpu_seconds() - cpu0[name]) / wall for name, p in procs.items()}
    measured.latencies.append(await _latency(ends, files, None, IDLE, settings))
    # Interleaved: a slow moment of this shared machine hits every case, not one.
    for repetition in range(settings.repetitions):
        measured.transfers.append(await _plain(files, work, repetition, settings.timeout))
        for kind in ("download", "upload"):
            measured.transfers.append(
                await _lifeline(ends, kind, files, repetition, settings.timeout)
            )
    for kind in ("download", "upload"):
        measured.latencies.append(await _latency(ends, files, kind, DURING[kind], settings))
    measured.latencies.append(await _latency(ends, files, None, IDLE, settings))


async def _main(settings: Settings, work: Path, display: str) -> Measured:
    measured = Measured()
    files = Files(work, settings.size)
    env = {"DISPLAY": display}
    with broker_process(work) as broker:
        console_argv = ["-m", "benchmarks.files_console", "--url", broker.url]
        console_argv += ["--ca", str(broker.ca_file)]
        with child("console", console_argv, work, env=env) as console:
            code = (await console.ready(r"code (\S+)")).group(1)
            applet_argv = ["-m", "benchmarks.files_applet", "--url", broker.url]
            applet_argv += ["--ca", str(broker.ca_file), "--code", code]
            with child("applet", applet_argv, work, env=env) as applet:
                port = int((await console.ready(r"ready on (\d+)", 60.0)).group(1))
                control = await asyncio.open_connection("127.0.0.1", port)
                ends = Ends(broker.proc, console, applet, control)
                try:
                    await _measure(ends, files, work, settings, measured)
                    ends.writer.write(b'{"cmd": "quit"}\n')
                    await ends.writer.drain()
                    await _exited(console, 15.0)
                finally:
                    ends.writer.close()
        for name, proc in (("console", console), ("applet", applet)):
            measured.logs.append(describe_errors(name, proc.errors))
    measured.logs.insert(0, describe_errors("broker", broker.proc.errors))
    return measured


async def _exited(proc: Child, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while proc.popen.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


# ---- reporting -----------------------------------------------------------------------


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _with_misses(latency: Latency) -> list[float]:
    """The round trips, a missed move counted as the trial's time limit: a lower bound,
    so that moves lost in a backlog raise the percentiles instead of vanishing."""
    return latency.latencies_ms + [1000 * TRIAL_TIMEOUT] * latency.misses


def _summarise(measured: Measured, settings: Settings) -> Result:
    def of(case: str) -> list[Transfer]:
        return [t for t in measured.transfers if t.case == case]

    plain_by_rep = {t.repetition: t.mbps for t in of(PLAIN)}
    rows: list[dict[str, Any]] = []
    median_mbps: dict[str, float] = {}
    worst_peak: dict[str, int] = {}
    for case in (PLAIN, DOWNLOAD, UPLOAD):
        runs = of(case)
        median_mbps[case] = statistics.median(t.mbps for t in runs)
        row: dict[str, Any] = {
            "case": case,
            "MB/s": median_mbps[case],
            "MB/s range": f"{min(t.mbps for t in runs):.0f}-{max(t.mbps for t in runs):.0f}",
            "MB/s to last byte": statistics.median(t.last_byte_mbps for t in runs),
            "x plain": statistics.median(t.mbps / plain_by_rep[t.repetition] for t in runs),
        }
        for end in ("applet", "console", "broker"):
            row[f"{end} CPU %"] = (
                None
                if case == PLAIN
                else 100 * statistics.median(t.cpu[end] / t.seconds for t in runs)
            )
        for end in ("applet", "console"):
            if case == PLAIN:
                row[f"{end} peak RSS +MiB"] = None
                continue
            peak = max(t.peak[end] - measured.idle_rss[end] for t in runs)
            worst_peak[end] = max(worst_peak.get(end, 0), peak)
            row[f"{end} peak RSS +MiB"] = peak / MIB
        row["input p50 ms"] = row["input p95 ms"] = None
        rows.append(row)

    idle = [x for lat in measured.latencies if lat.case == IDLE for x in _with_misses(lat)]
    idle_p95 = _percentile(idle, 95)
    p95: dict[str, float] = {}
    for case in (IDLE, *DURING.values()):
        runs_l = [lat for lat in measured.latencies if lat.case == case]
        values = [x for lat in runs_l for x in _with_misses(lat)]
        p95[case] = _percentile(values, 95)
        moved, seconds = sum(r.moved for r in runs_l), sum(r.seconds for r in runs_l)
        row = dict.fromkeys(rows[0])
        row.update(
            {
                "case": case,
                "MB/s": moved / MB / seconds if case != IDLE else None,
                "input p50 ms": statistics.median(values),
                "input p95 ms": p95[case],
            }
        )
        rows.append(row)

    cpu_per_gb = {
        case: {
            end: statistics.median(t.cpu[end] / (t.nbytes / GB) for t in of(case))
            for end in ("applet", "console", "broker")
        }
        for case in (DOWNLOAD, UPLOAD)
    }
    goals = [
        Goal(
            f"{case}: MB/s (median)",
            f">= {GOAL_MBPS:.0f}",
            f"{median_mbps[case]:.0f} ({median_mbps[case] / median_mbps[PLAIN]:.2f}x plain "
            f"{median_mbps[PLAIN]:.0f})",
            median_mbps[case] >= GOAL_MBPS,
        )
        for case in (DOWNLOAD, UPLOAD)
    ]
    for end in ("applet", "console"):
        growth = max(t.growth[end] for t in measured.transfers if t.case != PLAIN)
        goals.append(
            Goal(
                f"{end}: peak RSS above idle while moving {settings.size / GIB:g} GiB",
                f"flat, <= {GOAL_RSS / MIB:.0f} MiB (64 MB)",
                f"{worst_peak[end] / MIB:.1f} MiB, last quarter vs first {growth / MIB:+.1f} MiB",
                worst_peak[end] <= GOAL_RSS and growth <= 8 * MIB,
            )
        )
    for case in DURING.values():
        missed = sum(lat.misses for lat in measured.latencies if lat.case == case)
        goals.append(
            Goal(
                f"{case}: p95",
                f"<= {GOAL_LATENCY_RATIO:.0f}x idle p95 ({idle_p95:.1f} ms)",
                f"{p95[case]:.1f} ms ({p95[case] / idle_p95:.1f}x), "
                f"{missed} of {settings.trials} moves missed",
                p95[case] <= GOAL_LATENCY_RATIO * idle_p95,
            )
        )

    idle_rss = ", ".join(f"{k} {v / MIB:.0f} MiB" for k, v in measured.idle_rss.items())
    notes = [
        f"One {settings.size / GIB:g} GiB file per transfer, {settings.repetitions} interleaved "
        "repetitions (reference, download, upload), medians shown; MB = 10^6 bytes. Each "
        f"timed transfer starts after a sync and {SETTLE:g} s of quiet, so it does not pay "
        "for the writeback of the one before.",
        "MB/s: from the console's call to the transfer's done (both ends hashed SHA-256 "
        "and the console MD5, the receiver fsync'd the file and renamed it into place); "
        "'to last byte' stops before the checks and fsync (last byte written for the reference and "
        "downloads, handed to the session for uploads; looked at every 20 ms). The file "
        "read is sparse, the copy written is real.",
        "Reference: benchmarks/files_plain.py, two processes: read + sendall into a "
        "loopback TCP socket, recv_into + write + fsync into a file, 256 KiB buffers (no "
        "TLS, no hashing); 'x plain' is each transfer over the reference of its repetition.",
        "CPU %: user+system of each process over the transfer's wall time (psutil); 100 = "
        "one core, and this machine has "
        f"{_cpus()}. CPU s/GB (download, upload): "
        + "; ".join(
            f"{case.split(':')[0]}: "
            + ", ".join(f"{end} {v:.2f}" for end, v in cpu_per_gb[case].items())
            for case in (DOWNLOAD, UPLOAD)
        )
        + ". Idle session (a still screen in view, before any transfer): "
        + ", ".join(f"{k} {100 * v:.0f} %" for k, v in measured.idle_cpu.items())
        + ".",
        f"Peak RSS: VmHWM of each end (reset before each transfer) minus its idle VmRSS "
        f"(median of {IDLE_WINDOW:.0f} s of 50 ms samples before any transfer: {idle_rss}); "
        "the worst of the repetitions. 'Last quarter vs first': the sampled peak of the "
        "transfer's last quarter minus its first quarter's, the worst of the transfers "
        "(flat: <= 8 MiB). Within each transfer (peak minus the RSS it started with, which "
        "holds what earlier transfers left behind), the worst: "
        + "; ".join(
            f"{case.split(':')[0]}: "
            + ", ".join(
                f"{end} +{max(t.peak[end] - t.start[end] for t in of(case)) / MIB:.0f} MiB "
                f"(from +{max(t.start[end] - measured.idle_rss[end] for t in of(case)) / MIB:.0f})"
                for end in ("applet", "console")
            )
            for case in (DOWNLOAD, UPLOAD)
        )
        + ".",
        f"Input: {settings.trials} moves per run, {settings.pause[0] * 1000:.0f}-"
        f"{settings.pause[1] * 1000:.0f} ms apart, as in input_round_trip (console "
        "send_input → pointer seen moved, watched from the console process); idle is run "
        "before and after the transfers and pooled. During a transfer the same file goes "
        "back to back; MB/s on those rows is what arrived meanwhile. A move not seen within "
        f"{TRIAL_TIMEOUT:.0f} s is missed and counts as {TRIAL_TIMEOUT:.0f} s in p50/p95 (a lower "
        "bound). Missed: "
        + ", ".join(f"{lat.case} {lat.misses}" for lat in measured.latencies if lat.case != IDLE)
        + f", idle {sum(lat.misses for lat in measured.latencies if lat.case == IDLE)}.",
        "Both ends run uvloop, as the real applet and console do; the broker runs as "
        "lifeline-broker serve does.",
        *measured.logs,
    ]
    if settings is QUICK:
        notes.insert(
            0,
            f"--quick: {settings.size // MIB} MiB files and one repetition: a smoke test; the "
            "RSS goal is set for 2 GiB.",
        )
    return Result(TITLE, rows, goals, notes)


def _cpus() -> str:
    n = os.cpu_count() or 0
    return f"{n} core{'s' if n != 1 else ''}"


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    with temp_dir("files") as work, xvfb(WIDTH, HEIGHT, work) as display:
        measured = links.run(_main(settings, work, display))
    return _summarise(measured, settings)
