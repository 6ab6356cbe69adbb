"""recording: RCREC's size per minute, its conversion to AVI, and what recording costs.

**Live**, real processes on one Xvfb (1920×1080) and 127.0.0.1, as in input_round_trip:
the broker, the applet (:mod:`benchmarks.input_applet`: the real AppletController with
MssCapturer, the X11 cursor source and X DAMAGE, which answers "allow"), and the console
in this process (a :class:`~console.technician_session.TechnicianSession` granted
``remote_control``, decoding every update). Each workload plays while the console
records with :meth:`~console.technician_session.TechnicianSession.start_recording`
(the real :class:`~console.recorder.SessionRecorder`: the stream exactly as received,
the cursor, the events), and stops with ``stop_recording``:

* **office**: :mod:`benchmarks.office_workload`'s scripted minute (typing, scrolling
  in a reader, four window switches);
* **typing** (full runs): the screen workloads' typing (:mod:`benchmarks.screen_workloads`);
* **terminal scrolling**: their terminal printing 500 log lines a second (a stress case).

The recorder's CPU is its writer thread's (user + system, so its ``write`` calls too)
plus the time spent in its methods on the console's event loop. Then, with the terminal
scrolling, the console runs in windows with and without a recording, alternating: the
console process's CPU and the updates it decoded, in each.

**Offline**, with nothing else running: each recording is converted to AVI by the
converter's pipeline (:func:`common.recording.export.export`, what
``lifeline-converter`` runs) in H.264 (the default) and MJPEG, timed; the reference is
``ffmpeg`` encoding the same frames, all of them, as raw video from a pipe, with the
converter's H.264 settings. And the terminal's recorded updates are decoded by a
:class:`~console.screen_view.ScreenView` as fast as it goes, with and without a
``SessionRecorder`` taking each update first (as the console's ``_on_message`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil  # no stubs in the dev dependencies

from benchmarks import links
from benchmarks.input_round_trip import _controlling  # a console granted remote_control
from benchmarks.office_workload import SCRIPT_SECONDS, office_desk
from benchmarks.office_workload import requirements as office_requirements
from benchmarks.processes import (
    TECH_EMAIL,
    TECH_PASSWORD,
    BenchmarkError,
    broker_process,
    describe_errors,
    temp_dir,
)
from benchmarks.report import Goal, Result
from benchmarks.screen_workloads import SCROLL_RATE, requirements, running
from benchmarks.x_display import missing, xvfb
from common.codec import read_update_header
from common.recording import Kind, RecordingReader
from common.recording.export import DEFAULT_FPS, KEYFRAME_EVERY, export, fit
from common.recording.replay import Replay
from common.transport import BrokerAddress, BrokerClient
from console.recorder import SessionRecorder
from console.screen_view import ScreenView
from console.technician_session import TechnicianSession

TITLE = "recording: RCREC KB per minute, RCREC vs AVI, conversion speed, recorder CPU"

WIDTH, HEIGHT = 1920, 1080
OFFICE = "office (typing, scrolling, switching)"
TYPING = "typing"
SCROLLING = f"terminal scrolling {SCROLL_RATE} lines/s"
#: 1 KB = 1,000 bytes (stricter than 1,024 for a ≤ goal).
KB = 1000
GOAL_KB_PER_MINUTE = 300.0
RESCUE_KB_PER_MINUTE = (372.0, 1024.0)
GOAL_RATIO = 0.9
GOAL_SPEED = 20.0
GOAL_CPU = 5.0  # % of a core
RECORDER_THREAD = "lifeline-record"
#: An update this large redraws most of a page of text (a window switch).
PAGE_BYTES = 50_000
CONVERT_TIMEOUT = 600.0


@dataclass
class Settings:
    #: Seconds recorded per workload, in the order they play.
    seconds: dict[str, float]
    #: With and without a recording under the scrolling terminal: pairs of windows.
    pairs: int
    window: float
    #: Before each window: a recording's first keyframe goes by, the stream settles.
    lead_in: float
    decode_pairs: int
    #: Updates per decoding pass at least: the recorded stream is played again from
    #: its keyframe until there are this many.
    decode_updates: int
    settle: float


FULL = Settings(
    seconds={OFFICE: SCRIPT_SECONDS, TYPING: 20.0, SCROLLING: 20.0},
    pairs=3,
    window=5.0,
    lead_in=1.0,
    decode_pairs=5,
    decode_updates=300,
    settle=1.5,
)
QUICK = Settings(
    seconds={OFFICE: 15.0, SCROLLING: 4.0},
    pairs=1,
    window=2.5,
    lead_in=0.7,
    decode_pairs=1,
    decode_updates=150,
    settle=0.7,
)


# ---- live: the console records ----------------------------------------------------------


class CallerClock:
    """Counts the CPU time the console's event loop spends in a recorder's methods
    (handing each record to its writer thread), by wrapping them on the instance."""

    def __init__(self, recorder: SessionRecorder) -> None:
        self.seconds = 0.0
        for name in ("screen_update", "write"):  # event() goes through write()
            setattr(recorder, name, self._timed(getattr(recorder, name)))

    def _timed(self, method: Callable[..., None]) -> Callable[..., None]:
        def timed(*args: Any) -> None:
            t0 = time.thread_time()
            method(*args)
            self.seconds += time.thread_time() - t0

        return timed


def _recorder_thread_cpu() -> float:
    """CPU seconds of the live recorder's writer thread (one at a time here)."""
    ids = {t.native_id for t in threading.enumerate() if t.name.startswith(RECORDER_THREAD)}
    return sum(
        float(t.user_time + t.system_time) for t in psutil.Process().threads() if t.id in ids
    )


def _process_cpu() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


@dataclass
class Window:
    """One stretch of the live session: what the console did meanwhile."""

    seconds: float = 0.0
    updates: int = 0
    console_cpu: float = 0.0
    #: The recorder's writer thread and its methods on the event loop (0: not recording).
    recorder_cpu: float = 0.0
    path: Path | None = None

    @property
    def console_percent(self) -> float:
        return 100 * self.console_cpu / self.seconds

    @property
    def recorder_percent(self) -> float:
        return 100 * self.recorder_cpu / self.seconds

    @property
    def updates_per_second(self) -> float:
        return self.updates / self.seconds


async def _measure(
    technician: TechnicianSession, activity: Awaitable[None], path: Path | None, lead_in: float
) -> Window:
    """Runs ``activity`` and counts; records to ``path`` meanwhile when one is given
    (started ``lead_in`` seconds before counting, stopped after)."""
    clock, recorder = None, None
    if path is not None:
        technician.start_recording(path, {"technician": f"Bench <{TECH_EMAIL}>"})
        if technician.recorder is None:
            raise BenchmarkError("the console did not start recording")
        recorder, clock = technician.recorder, CallerClock(technician.recorder)
    await asyncio.sleep(lead_in)
    cpu, updates, thread_cpu = _process_cpu(), technician.screen.frames, _recorder_thread_cpu()
    caller_cpu = clock.seconds if clock is not None else 0.0
    started = time.monotonic()
    await activity
    window = Window(
        seconds=time.monotonic() - started,
        updates=technician.screen.frames - updates,
        console_cpu=_process_cpu() - cpu,
        path=path,
    )
    if clock is not None and recorder is not None:
        thread_cpu = _recorder_thread_cpu() - thread_cpu
        window.recorder_cpu = thread_cpu + clock.seconds - caller_cpu
        await technician.stop_recording("the benchmark's recording ended")
        if recorder.failed is not None:
            raise BenchmarkError(recorder.failed)
    return window


@dataclass
class Live:
    recordings: dict[str, Window] = field(default_factory=dict)
    #: With the terminal scrolling: (without a recording, with one) per pair.
    pairs: list[tuple[Window, Window]] = field(default_factory=list)
    office: dict[str, int] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _workload(name: str, display: str, work: Path, settle: float) -> Iterator[Any]:
    if name == OFFICE:
        with office_desk(display, work, settle) as desk:
            yield desk
    else:
        with running("scrolling" if name == SCROLLING else "typing", display, work, settle):
            yield None


async def _live(settings: Settings, work: Path, display: str) -> Live:
    live = Live()
    with broker_process(work) as broker:
        address = BrokerAddress(broker.url, ca_file=broker.ca_file)
        async with BrokerClient(address) as client:
            login = await client.login(TECH_EMAIL, TECH_PASSWORD)
            session = _controlling(client, login.token, broker.url, broker.ca_file, display, work)
            async with session as (technician, errors):
                deadline = time.monotonic() + 15.0
                while technician.screen.frames == 0:  # the first picture
                    if time.monotonic() > deadline:
                        raise BenchmarkError("the console never received the screen")
                    await asyncio.sleep(0.05)
                for name, seconds in settings.seconds.items():
                    await _record(technician, live, name, seconds, settings, work, display)
                live.logs.extend(e for e in errors if e)
    live.logs.insert(0, describe_errors("broker", broker.proc.errors))
    return live


async def _record(
    technician: TechnicianSession,
    live: Live,
    name: str,
    seconds: float,
    settings: Settings,
    work: Path,
    display: str,
) -> None:
    """Plays workload ``name`` for ``seconds`` while recording it; with the scrolling
    terminal, then the windows with and without a recording."""
    slug = name.split()[0]
    with contextlib.ExitStack() as stack:
        # Opening the windows blocks (settling): off the event loop, which keeps decoding.
        desk = await asyncio.to_thread(
            stack.enter_context, _workload(name, display, work, settings.settle)
        )
        play = asyncio.to_thread(desk.play, seconds) if desk is not None else None
        activity = play or asyncio.sleep(seconds)
        # Recording and the workload start together: the file is the session's minute.
        live.recordings[name] = await _measure(technician, activity, work / f"{slug}.rcrec", 0.0)
        if desk is not None:
            live.office = {"switches": desk.switches, "lines scrolled": desk.lines_scrolled}
        if name == SCROLLING:
            for pair in range(settings.pairs):
                windows = {}
                # Alternate which goes first, so a drift in the machine's load cancels out.
                for recording in (False, True) if pair % 2 == 0 else (True, False):
                    target = work / f"cost-{pair}.rcrec" if recording else None
                    activity = asyncio.sleep(settings.window)
                    windows[recording] = await _measure(
                        technician, activity, target, settings.lead_in
                    )
                live.pairs.append((windows[False], windows[True]))
        await asyncio.to_thread(stack.close)


# ---- offline: the files, their conversion, decoding with a recorder ----------------------


@dataclass
class Contents:
    seconds: float
    counts: dict[str, int]
    #: (monitor, data) of every screen update from the first keyframe on.
    updates: list[tuple[int, bytes]]
    #: Screen updates recorded before the first keyframe (no player can show them).
    before_keyframe: int


def _read(path: Path) -> Contents:
    counts: dict[str, int] = {}
    updates: list[tuple[int, bytes]] = []
    last = before = 0
    with path.open("rb") as file:
        reader = RecordingReader(file)
        for record in reader.records():
            counts[record.kind.name] = counts.get(record.kind.name, 0) + 1
            last = record.time_ms
            if record.kind == Kind.SCREEN:
                data = record.payload["data"]
                if updates or read_update_header(data).keyframe:
                    updates.append((record.payload["monitor"], data))
                else:
                    before += 1
        if not reader.complete:
            raise BenchmarkError(f"{path.name} is not whole: {reader.stopped}")
    return Contents(last / 1000, counts, updates, before)


@dataclass
class Conversion:
    bytes: int
    wall: float
    cpu: float
    frames: int
    encoded: int


def _convert(path: Path, codec: str, out: Path) -> Conversion:
    """The converter's pipeline, timed: CPU of this process (all threads: libx264's too)."""
    wall, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as file:
        result = export(RecordingReader(file), out, codec=codec)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Conversion(out.stat().st_size, wall, cpu, result.frames, result.encoded)


def _ffmpeg_reference(path: Path, out: Path, log: Path) -> Conversion:
    """Every frame the converter would show (changed or not) piped raw to ffmpeg, which
    encodes them all with the converter's H.264 settings; CPU is ffmpeg's."""
    argv = [
        *("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"),
        *("-f", "rawvideo", "-pix_fmt", "bgr24", "-video_size", f"{WIDTH}x{HEIGHT}"),
        *("-framerate", str(DEFAULT_FPS), "-i", "pipe:0"),
        *("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-bf", "0"),
        *("-g", str(DEFAULT_FPS * KEYFRAME_EVERY), "-pix_fmt", "yuv420p", str(out)),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    frames = 0
    with path.open("rb") as file, log.open("wb") as errors:
        encoder = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=errors)
        assert encoder.stdin is not None
        try:
            for shown in Replay(RecordingReader(file)).frames(DEFAULT_FPS):
                picture = np.ascontiguousarray(fit(shown.picture, WIDTH, HEIGHT))
                encoder.stdin.write(picture.data)
                frames += 1
            encoder.stdin.close()
            encoder.wait(CONVERT_TIMEOUT)
        finally:
            if encoder.poll() is None:
                encoder.kill()
                encoder.wait()
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if encoder.returncode != 0:
        raise BenchmarkError(f"ffmpeg failed: {log.read_text(errors='replace')[-500:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Conversion(out.stat().st_size, wall, cpu, frames, frames)


async def _decode(updates: list[tuple[int, bytes]], record_to: Path | None) -> float:
    """Updates per second a ScreenView decodes, with a recorder taking each first or not."""
    view = ScreenView()
    recorder = SessionRecorder(record_to, {"technician": "bench"}) if record_to else None
    try:
        started = time.perf_counter()
        for monitor, data in updates:
            if recorder is not None:
                recorder.screen_update(monitor, data)
            if await view.update(data) is None:
                raise BenchmarkError("the console could not decode a recorded update")
        rate = len(updates) / (time.perf_counter() - started)
    finally:
        view.close()
        if recorder is not None:
            recorder.close()  # the writes still queued finish here, after the clock
    return rate


def _decode_pairs(
    updates: list[tuple[int, bytes]], settings: Settings, work: Path
) -> list[list[float]]:
    """[[without, with] per pair], alternating which goes first."""
    # The first update is a keyframe, so the stream played again is a valid stream.
    updates = updates * -(-settings.decode_updates // len(updates))
    pairs = settings.decode_pairs
    links.run(_decode(updates, None))  # untimed: the first pass pays for warming up
    out = []
    for pair in range(pairs):
        rates = {}
        for recording in (False, True) if pair % 2 == 0 else (True, False):
            target = work / f"decode-{pair}.rcrec" if recording else None
            rates[recording] = links.run(_decode(updates, target))
            if target is not None:
                target.unlink()
        out.append([rates[False], rates[True]])
    return out


# ---- the report --------------------------------------------------------------------------

COLUMNS = ("KB/min", "RCREC/it", "x real time", "x real time per CPU-s", "CPU % core", "updates/s")


@dataclass
class Report:
    rows: list[dict[str, Any]] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, workload: str, what: str, figures: dict[str, Any]) -> None:
        self.rows.append({"workload": workload, "what": what, **dict.fromkeys(COLUMNS)})
        self.rows[-1].update(figures)

    def goal(self, name: str, target: str, measured: str, met: bool) -> None:
        self.goals.append(Goal(name, target, measured, met))


def _sizes(report: Report, name: str, window: Window, work: Path, reference: bool) -> None:
    """One recording: its size, its conversions, their sizes and speed."""
    assert window.path is not None
    contents = _read(window.path)
    minutes = contents.seconds / 60
    rcrec_kb = window.path.stat().st_size / KB
    per_minute = rcrec_kb / minutes
    report.row(
        name,
        "RCREC (the console's recorder)",
        {
            "KB/min": per_minute,
            "CPU % core": window.recorder_percent,
            "updates/s": window.updates_per_second,
        },
    )
    counts = ", ".join(f"{n} {k.lower()}" for k, n in sorted(contents.counts.items()))
    sizes = [len(data) for _, data in contents.updates]
    pages = [size for size in sizes[1:] if size >= PAGE_BYTES]
    report.notes.append(
        f"{name}: {contents.seconds:.1f} s recorded, {rcrec_kb:.0f} KB; records: {counts}; "
        f"{contents.before_keyframe} screen updates before the first keyframe. Screen "
        f"bytes: the first keyframe {sizes[0] / KB:.0f} KB, {len(pages)} later updates of "
        f"≥ {PAGE_BYTES // KB} KB (whole pages drawn) {sum(pages) / KB:.0f} KB, the other "
        f"{len(sizes) - 1 - len(pages)} updates {(sum(sizes[1:]) - sum(pages)) / KB:.0f} KB."
    )
    conversions = {
        f"AVI {label} (converter)": _convert(window.path, codec, work / f"{codec}.avi")
        for codec, label in (("h264", "H.264"), ("mjpeg", "MJPEG"))
    }
    if reference:
        conversions["ffmpeg x264, every frame (ref)"] = _ffmpeg_reference(
            window.path, work / "ffmpeg.avi", work / "ffmpeg.log"
        )
    for what, c in conversions.items():
        ratio = rcrec_kb / (c.bytes / KB)
        speed, per_cpu = contents.seconds / c.wall, contents.seconds / c.cpu
        report.row(
            name,
            what,
            {
                "KB/min": c.bytes / KB / minutes,
                "RCREC/it": f"{ratio:.2f}",
                "x real time": f"{speed:.1f}x",
                "x real time per CPU-s": f"{per_cpu:.1f}x",
            },
        )
        report.notes.append(
            f"{name}, {what}: {c.encoded} of {c.frames} frames encoded at {DEFAULT_FPS} "
            f"frames/s in {c.wall:.1f} s, {c.cpu:.1f} CPU-s."
        )
        if name == OFFICE and "converter" in what:
            report.goal(
                f"{name}: RCREC / {what}", f"≤ {GOAL_RATIO}", f"{ratio:.2f}", ratio <= GOAL_RATIO
            )
            report.goal(
                f"{name}: {what}, conversion",
                f"≥ {GOAL_SPEED:.0f}× real time",
                f"{speed:.1f}× ({per_cpu:.1f}× per CPU-second)",
                speed >= GOAL_SPEED,
            )
    over_least, over_most = (per_minute / r for r in RESCUE_KB_PER_MINUTE)
    rescue = {"KB/min": "372–1024", "RCREC/it": f"{over_most:.2f}–{over_least:.2f}"}
    report.row(name, "LogMeIn Rescue (the papers)", rescue)
    if name == OFFICE:
        report.goal(
            f"{name}: RCREC per minute",
            f"≤ {GOAL_KB_PER_MINUTE:.0f} KB/min",
            f"{per_minute:.0f} KB/min",
            per_minute <= GOAL_KB_PER_MINUTE,
        )
    report.goal(
        f"{name}: the recorder's CPU while recording",
        f"≤ {GOAL_CPU:.0f} % of a core",
        f"{window.recorder_percent:.2f} %",
        window.recorder_percent <= GOAL_CPU,
    )


def _cost(report: Report, live: Live, settings: Settings, path: Path, work: Path) -> None:
    """What recording cost the console under the scrolling terminal, live and offline."""
    off, on = [p[0] for p in live.pairs], [p[1] for p in live.pairs]
    for what, windows in (("console live, not recording", off), ("console live, recording", on)):
        report.row(
            SCROLLING,
            what,
            {
                "CPU % core": statistics.median(w.console_percent for w in windows),
                "updates/s": statistics.median(w.updates_per_second for w in windows),
            },
        )
    added = [b.console_percent - a.console_percent for a, b in live.pairs]
    rates = [b.updates_per_second / a.updates_per_second for a, b in live.pairs]
    report.notes.append(
        f"{SCROLLING}, live: {settings.pairs} pairs of {settings.window:.0f} s windows, "
        f"{settings.lead_in:.1f} s after the recording started or not. The console process's "
        f"CPU with a recording minus without: {statistics.median(added):+.1f} % of a core "
        f"(median; per pair {', '.join(f'{a:+.1f}' for a in added)}), of which the "
        f"recorder itself {statistics.median(w.recorder_percent for w in on):.2f} %. "
        f"Updates decoded with / without: {', '.join(f'{r:.2f}' for r in rates)} (the "
        "applet's rate, which moves with the machine's load)."
    )
    updates = _read(path).updates
    decoded = _decode_pairs(updates, settings, work)
    for index, what in enumerate(("decode only, no recorder", "decode, recorder attached")):
        rate = statistics.median(d[index] for d in decoded)
        report.row(SCROLLING, f"{what} (as fast as it goes)", {"updates/s": rate})
    ratios = [d[1] / d[0] for d in decoded]
    report.row(
        SCROLLING,
        "decoding with a recorder / without",
        {"updates/s": f"{statistics.median(ratios):.3f}x"},
    )
    played = len(updates) * -(-settings.decode_updates // len(updates))
    report.notes.append(
        f"{SCROLLING}, as fast as it goes: the {len(updates)} recorded updates from the "
        f"first keyframe ({played} a pass, played again from the keyframe), decoded by a "
        f"ScreenView, {settings.decode_pairs} pairs after an untimed pass; with / "
        f"without a recorder per pair: {', '.join(f'{r:.3f}' for r in ratios)}."
    )


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    for need in (requirements("scrolling"), requirements("typing"), office_requirements()):
        if need is not None:
            raise BenchmarkError(need)
    reference = missing("ffmpeg") is None
    report = Report()
    with temp_dir("recording") as work:
        with xvfb(WIDTH, HEIGHT, work) as display:
            live = links.run(_live(settings, work, display))
        for name, window in live.recordings.items():
            _sizes(report, name, window, work, reference)
        scrolling = live.recordings[SCROLLING].path
        if live.pairs and scrolling is not None:
            _cost(report, live, settings, scrolling, work)
    notes = _method_notes(settings)
    if live.office:
        notes.append(
            f"office: {live.office['switches']} window switches and "
            f"{live.office['lines scrolled']} lines scrolled while recording."
        )
    if not reference:
        notes.append(f"ffmpeg reference skipped: {missing('ffmpeg')}")
    return Result(TITLE, report.rows, report.goals, notes + report.notes + live.logs)


def _method_notes(settings: Settings) -> list[str]:
    seconds = ", ".join(f"{name} {s:.0f} s" for name, s in settings.seconds.items())
    return [
        f"Recorded live on Xvfb 1920×1080 through the broker: {seconds}. KB = 1,000 bytes; "
        "per minute = the file's size over the time of its last record.",
        "RCREC rows: CPU = the recorder's writer thread (user + system) and its methods on "
        "the console's event loop; updates/s = screen updates the console decoded.",
        f"AVI rows: common.recording.export.export (lifeline-converter's pipeline) at "
        f"{DEFAULT_FPS} frames/s, run alone after the session; x real time = recorded "
        "seconds / wall seconds; per CPU-s = recorded seconds / CPU seconds of this process "
        "(all threads, libx264's too). The ffmpeg reference encodes every frame (the "
        "converter encodes only those that changed) from raw BGR on a pipe; the frames come "
        "from the same Replay in this process, whose decoding counts in its wall time but "
        "not in its CPU (ffmpeg's own).",
        "LogMeIn Rescue rows: 372–1024 KB per minute of remote control (Rescue architecture "
        "whitepaper); RCREC/it = our RCREC per minute over theirs.",
    ]
