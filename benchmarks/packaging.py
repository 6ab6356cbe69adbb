"""packaging: what people download and how soon it shows something.

Builds the one-file Linux applet from scratch with ``installers`` (a fresh PyInstaller
work folder, so the build time is a cold build's), then starts it again and again on a
fresh Xvfb against ``lifeline-broker serve``, each time with a new code, as a person
would double-click it. Each start is timed from ``exec`` to:

* the **first window** on the display (the splash, shown while the bundle unpacks),
  seen by polling the X server's window tree every 5 ms;
* the applet's own **Lifeline window** (Qt);
* **joined**: the console sees the applet claim its code and agree on keys, which
  happens just after the applet says "waiting for your technician".

The full run also builds the console (its folder, and the ``.tar.gz`` people download)
and, as the reference measured in the same run, a bare one-file PySide6 + PyAV + NumPy
program built with PyInstaller's defaults, timed to its first window the same way.
``--quick``: the applet only, three starts.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # no stubs in the dev dependencies

from benchmarks.processes import (
    ROOT,
    TECH_EMAIL,
    TECH_PASSWORD,
    BenchmarkError,
    broker_process,
    temp_dir,
)
from benchmarks.report import MB, Goal, Result
from benchmarks.x_display import missing, xvfb
from common.transport import BrokerAddress, BrokerClient, PeerSession

TITLE = "Packaging: applet size and start, console bundle, build time"

GOAL_APPLET_MB = 60.0
GOAL_FIRST_WINDOW_S = 1.0
GOAL_JOINED_S = 2.0
#: The issue's measurements before this work, for the notes.
BASELINE_APPLET_MB = 95.0
BASELINE_START_S = 2.4
START_TIMEOUT = 60.0

_BARE = """\
import sys
import av, numpy
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv)
label = QLabel("Lifeline bare " + av.__version__ + " " + numpy.__version__)
label.setWindowTitle("Lifeline bare")
label.show()
if "--quit" in sys.argv:
    from PySide6.QtCore import QTimer
    QTimer.singleShot(1500, app.quit)
sys.exit(app.exec())
"""


@dataclass
class Start:
    first_window: float
    #: When the one-file bundle had unpacked itself (its Python process started).
    unpacked: float
    lifeline_window: float
    joined: float
    #: CPU seconds the program had used by then (both of its processes).
    cpu: float


class WindowWatch:
    """Polls an X display's top-level windows from a thread: when the first one became
    viewable, and when the first one whose name holds ``name`` did."""

    def __init__(self, display: str, name: str) -> None:
        from Xlib import display as xdisplay

        self._x = xdisplay.Display(display)
        self._name = name
        self.started = time.monotonic()
        self.first: float | None = None
        self.named: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self, at: float) -> None:
        self.started = at
        self._thread.start()

    def _poll(self) -> None:
        from Xlib import X, error

        root = self._x.screen().root
        while not self._stop.is_set() and self.named is None:
            now = time.monotonic()
            try:
                for window in root.query_tree().children:
                    try:
                        if window.get_attributes().map_state != X.IsViewable:
                            continue
                        if self.first is None:
                            self.first = now
                        name = window.get_wm_name() or ""
                        if isinstance(name, bytes):
                            name = name.decode(errors="replace")
                        if self._name in name:
                            self.named = now
                    except error.XError:
                        continue  # the window went away while we looked
            except error.XError:
                pass
            time.sleep(0.005)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        self._x.close()

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.named is None and time.monotonic() < deadline:
            time.sleep(0.01)


class ChildWatch:
    """When a one-file program's bootloader, done unpacking, starts its Python process
    (its child), and the CPU time the two have used."""

    def __init__(self) -> None:
        self.at: float | None = None
        self._process: psutil.Process | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._thread.start()

    def _poll(self) -> None:
        assert self._process is not None
        while not self._stop.is_set() and self.at is None:
            try:
                if self._process.children():
                    self.at = time.monotonic()
            except psutil.Error:
                return
            time.sleep(0.005)

    def cpu_seconds(self) -> float:
        assert self._process is not None
        total = 0.0
        try:
            for proc in [self._process, *self._process.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
        return total

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)


def _env(display: str, home: Path) -> dict[str, str]:
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DISPLAY": display, "HOME": str(home), "TMPDIR": str(home / "tmp")}
    env.update({"QT_QPA_PLATFORM": "xcb", "LANG": "C.UTF-8"})
    for name in ("PYTHONPATH", "PYTHONHOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME"):
        env.pop(name, None)
    return env


async def _start_applet(
    program: Path, broker: Any, display: str, home: Path, token: str, client: BrokerClient
) -> Start:
    console = await PeerSession.create(client, token)
    watch = WindowWatch(display, "Lifeline")
    unpack = ChildWatch()
    args = [str(program), "--broker", broker.url, "--ca-file", str(broker.ca_file)]
    begun = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *args,
        "--code",
        str(console.code),
        env=_env(display, home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watch.start(begun)
    unpack.start(proc.pid)
    try:
        await console.wait_open(START_TIMEOUT)
        joined = time.monotonic() - begun
        cpu = unpack.cpu_seconds()
        await asyncio.to_thread(watch.wait, START_TIMEOUT)
        if watch.first is None or watch.named is None or unpack.at is None:
            raise BenchmarkError("the applet showed no window")
        return Start(watch.first - begun, unpack.at - begun, watch.named - begun, joined, cpu)
    finally:
        watch.stop()
        unpack.stop()
        await console.end()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _applet_starts(program: Path, runs: int, workdir: Path) -> list[Start]:
    starts = []
    with broker_process(workdir) as broker, xvfb(1280, 720, workdir) as display:
        address = BrokerAddress(broker.url, ca_file=broker.ca_file)
        async with BrokerClient(address) as client:
            login = await client.login(TECH_EMAIL, TECH_PASSWORD)
            for i in range(runs):
                start = await _start_applet(
                    program, broker, display, workdir / f"home{i}", login.token, client
                )
                starts.append(start)
    return starts


def _bare_start(program: Path, runs: int, workdir: Path) -> list[float]:
    times = []
    with xvfb(1280, 720, workdir) as display:
        for i in range(runs):
            watch = WindowWatch(display, "Lifeline bare")
            begun = time.monotonic()
            proc = subprocess.Popen(
                [str(program), "--quit"],
                env=_env(display, workdir / f"bare{i}"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            watch.start(begun)
            watch.wait(START_TIMEOUT)
            watch.stop()
            proc.wait(30)
            if watch.named is None:
                raise BenchmarkError("the bare program showed no window")
            times.append(watch.named - begun)
    return times


def _build_bare(workdir: Path) -> tuple[Path, float]:
    script = workdir / "bare.py"
    script.write_text(_BARE)
    begun = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--onefile", "--windowed", "--noconfirm",
         "--log-level", "ERROR", "--name", "bare", "--distpath", str(workdir / "bare-dist"),
         "--workpath", str(workdir / "bare-work"), "--specpath", str(workdir), str(script)],
        cwd=workdir, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchmarkError(f"the bare build failed: {done.stderr[-2000:]}")
    return workdir / "bare-dist" / "bare", time.monotonic() - begun


def _median(values: list[float]) -> float:
    return statistics.median(values)


def run(quick: bool) -> Result:
    if sys.platform != "linux":
        raise BenchmarkError("the packaging benchmark builds and starts the Linux applet")
    if (hint := missing("Xvfb")) is not None:
        raise BenchmarkError(hint)
    from installers.build import BuildError, build
    from installers.project import Project

    runs = 3 if quick else 5
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    with temp_dir("packaging") as workdir:
        base = Project.load()
        project = Project(
            base.version,
            base.metadata,
            ROOT,
            dist_dir=workdir / "dist",
            work_dir=workdir / "work",
        )
        try:
            applet = build("applet", project=project)
        except BuildError as exc:
            raise BenchmarkError(str(exc)) from None
        starts = asyncio.run(_applet_starts(applet.artifact, runs, workdir))
        first = _median([s.first_window for s in starts])
        unpacked = _median([s.unpacked for s in starts])
        window = _median([s.lifeline_window for s in starts])
        joined = _median([s.joined for s in starts])
        cpu = _median([s.cpu for s in starts])
        rows.append(
            {
                "build": "applet, one file (Linux)",
                "MB": applet.size / MB,
                "build s": applet.seconds,
                "first window s": first,
                "unpacked s": unpacked,
                "Lifeline window s": window,
                "joined s": joined,
                "CPU s": cpu,
            }
        )
        bare_size = bare_first = None
        if not quick:
            console = build("console", project=project)
            folder = project.dist / project.program("console")["file"]
            folder_bytes = sum(
                f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()
            )
            rows.append(
                {
                    "build": "console, .tar.gz (Linux)",
                    "MB": console.size / MB,
                    "build s": console.seconds,
                    "first window s": None,
                    "unpacked s": None,
                    "Lifeline window s": None,
                    "joined s": None,
                    "CPU s": None,
                }
            )
            notes.append(f"The console's folder holds {folder_bytes / MB:.0f} MB unpacked.")
            bare, bare_seconds = _build_bare(workdir)
            bare_size = bare.stat().st_size / MB
            bare_first = _median(_bare_start(bare, runs, workdir))
            rows.append(
                {
                    "build": "reference: bare PySide6+av+numpy, PyInstaller defaults",
                    "MB": bare_size,
                    "build s": bare_seconds,
                    "first window s": bare_first,
                    "unpacked s": None,
                    "Lifeline window s": None,
                    "joined s": None,
                    "CPU s": None,
                }
            )
        top = ", ".join(f"{c.name} {c.bytes / MB:.1f}" for c in applet.report.components[:8])
        notes += [
            f"Applet: {applet.size:,} bytes; largest parts (MB, compressed in the file): {top}. "
            "dist/reports/applet-sizes.txt after `python -m installers build applet` lists "
            "every component and what was left out.",
            f"Start times are medians of {runs} starts, each a fresh process that unpacks "
            "the bundle into its own TMPDIR, on Xvfb, against lifeline-broker serve on "
            "127.0.0.1; 'joined' is when the test console has the applet's keys (the applet "
            "said 'waiting for your technician' just before).",
            "Each start: "
            + "; ".join(
                f"{s.first_window:.2f}/{s.unpacked:.2f}/{s.lifeline_window:.2f}/{s.joined:.2f} s"
                f" ({s.cpu:.2f} s CPU)"
                for s in starts
            )
            + " (first window / unpacked / Lifeline window / joined). 'CPU s' is what the "
            "program used until it joined: on an idle machine the start takes about that "
            "long, plus the network round trips.",
            f"Load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
            "(other work on the machine slows builds and starts).",
            f"Before this work (issue 7): a bare one-file {BASELINE_APPLET_MB:.0f} MB, "
            f"{BASELINE_START_S} s to start.",
        ]
        goals = [
            Goal("applet file size", f"≤ {GOAL_APPLET_MB:.0f} MB", f"{applet.size / MB:.1f} MB",
                 applet.size / MB <= GOAL_APPLET_MB),
            Goal("first window (splash) after launch", f"≤ {GOAL_FIRST_WINDOW_S:.0f} s",
                 f"{first:.2f} s", first <= GOAL_FIRST_WINDOW_S),
            Goal("launch to waiting for the technician", f"≤ {GOAL_JOINED_S:.0f} s",
                 f"{joined:.2f} s", joined <= GOAL_JOINED_S),
        ]  # fmt: skip
        if bare_size is not None and bare_first is not None:
            notes.append(
                f"Reference in this run: bare one-file {bare_size:.1f} MB, "
                f"{bare_first:.2f} s to its window."
            )
    return Result(TITLE, rows, goals, notes)
