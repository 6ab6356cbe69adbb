"""screen: the applet's capture + codec on a real 1920×1080 X display, against x11vnc
(ZRLE, Tight) and ffmpeg's x11grab + libx264, on the same display and workloads.

One Xvfb runs the scripted workloads of :mod:`benchmarks.screen_workloads` in turn
(scrolling terminal, typing, a video region, a static screen). While each runs, the
senders take turns watching it, in an order that rotates every round:

* ``lifeline``: :mod:`benchmarks.screen_loop` in its own process — MssCapturer at up
  to 30 grabs/s, ScreenEncoder, every update decoded and checked pixel-exact (outside
  the tiles the encoder says it shows lossy, through H.264 video regions);
* ``lifeline lossless`` (full runs, when the codec has video regions): the same with
  ``ScreenEncoder(video=False)``, to tell what the video regions change;
* ``x11vnc ZRLE`` and ``x11vnc Tight``: one x11vnc (default settings) for the whole
  run, read by the viewer of :mod:`benchmarks.rfb_client`, which asks for the next
  update as soon as one arrives (CopyRect offered too, as every viewer does);
* ``ffmpeg x264``: ``ffmpeg -f x11grab -framerate 30 -video_size 1920x1080 -i :N
  -c:v libx264 -preset ultrafast -tune zerolatency``, written to a file so its bytes
  count (lossy; 4:4:4, which ffmpeg picks for x11grab's BGR0 input).

Figures are medians over the rounds. CPU is the sender process's user + system time
(psutil for x11vnc and ffmpeg, all threads; grab, X DAMAGE wait and encode time inside
the lifeline process, the checking left out).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import re
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.processes import BenchmarkError, child, temp_dir
from benchmarks.report import Goal, Result
from benchmarks.rfb_client import RfbCounter
from benchmarks.screen_workloads import (
    SCROLL_RATE,
    WORKLOADS,
    requirements,
    running,
    video_frames_shown,
    video_status,
)
from benchmarks.x_display import Program, missing, program, xvfb

TITLE = "applet screen path on a real 1920×1080 display vs x11vnc and ffmpeg x11grab"

WIDTH, HEIGHT, FPS = 1920, 1080, 30
LIFELINE, LOSSLESS = "lifeline", "lifeline lossless"
ZRLE, TIGHT, X264 = "x11vnc ZRLE", "x11vnc Tight", "ffmpeg x264"
SENDERS = (LIFELINE, LOSSLESS, ZRLE, TIGHT, X264)
OURS = (LIFELINE, LOSSLESS)
TEXT_WORKLOADS = ("scrolling", "typing", "static")
GOAL_BYTES_VS_ZRLE = 0.5
GOAL_UPDATES = 25.0
GOAL_CPU_VS_X264 = 0.5
GOAL_STATIC_CPU = 0.02
GOAL_STATIC_BYTES = 100.0  # bytes/s: "about nothing"
GOAL_VIDEO_FPS = 25.0


@dataclass
class Settings:
    rounds: int
    #: Seconds counted per sender and round, after ``warmup`` seconds not counted.
    seconds: float
    warmup: float
    #: Seconds a workload's programs get to draw before anything is measured.
    settle: float
    #: Whether to add the ``lifeline lossless`` sender (when the codec has video regions).
    lossless_row: bool


FULL = Settings(rounds=3, seconds=3.0, warmup=0.7, settle=1.5, lossless_row=True)
QUICK = Settings(rounds=1, seconds=1.0, warmup=0.3, settle=0.7, lossless_row=False)


@dataclass
class Sample:
    """One sender watching one workload for ``Settings.seconds``."""

    updates_per_s: float
    bytes_per_s: float
    #: CPU seconds per second: 1.0 is one core busy.
    cpu_share: float
    #: Per captured frame (lifeline, ffmpeg) or per update sent (x11vnc).
    cpu_ms_per_frame: float | None
    checked: int = 0
    mismatched: int = 0
    #: Share of the screen the decoder showed lossy (median of the checks).
    lossy_share: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


Measure = Callable[[], Sample]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _codec_has_video_regions() -> bool:
    from common.codec import ScreenEncoder

    return "video" in inspect.signature(ScreenEncoder).parameters


def _ours(display: str, work: Path, settings: Settings, tag: str, *, lossless: bool) -> Sample:
    argv = ["-m", "benchmarks.screen_loop", "--seconds", str(settings.seconds)]
    argv += ["--warmup", str(settings.warmup), "--fps", str(FPS)]
    argv += ["--lossless"] if lossless else []
    with child(f"lifeline-{tag}", argv, work, env={"DISPLAY": display}) as proc:
        timeout = settings.seconds + settings.warmup + 30.0
        m: dict[str, Any] = json.loads(proc.wait_for_line(r"^result (.*)$", timeout).group(1))
    if (m["width"], m["height"]) != (WIDTH, HEIGHT):
        raise BenchmarkError(f"the display is {m['width']}×{m['height']}, not {WIDTH}×{HEIGHT}")
    cpu = m["grab_cpu"] + m["wait_cpu"] + m["encode_cpu"]
    return Sample(
        updates_per_s=m["updates"] / m["seconds"],
        bytes_per_s=m["bytes"] / m["seconds"],
        cpu_share=cpu / m["seconds"],
        cpu_ms_per_frame=1000 * cpu / m["frames"] if m["frames"] else None,
        checked=m["checked"],
        mismatched=m["mismatched"],
        lossy_share=m["lossy_share"],
        extra={
            "frames_per_s": m["frames"] / m["seconds"],
            "grab_ms": 1000 * m["grab_cpu"] / max(1, m["frames"]),
            "encode_ms_p50": m["encode_ms_p50"],
        },
    )


def _vnc(port: int, server: Program, encoding: str, settings: Settings) -> Sample:
    with RfbCounter(port, encoding) as viewer:
        viewer.handshake()
        if (viewer.width, viewer.height) != (WIDTH, HEIGHT):
            raise BenchmarkError(f"x11vnc serves {viewer.width}×{viewer.height}")
        viewer.warm_up(settings.warmup)
        cpu = server.cpu_seconds()
        counted = viewer.count(settings.seconds)
        cpu = server.cpu_seconds() - cpu
    return Sample(
        updates_per_s=counted.updates / counted.seconds,
        bytes_per_s=counted.bytes / counted.seconds,
        cpu_share=cpu / counted.seconds,
        cpu_ms_per_frame=1000 * cpu / counted.updates if counted.updates else None,
        extra={"copy_rects": counted.copy_rects, "rects": counted.rects},
    )


def _progress(path: Path) -> tuple[int, int]:
    """The last frame count and output size ffmpeg's ``-progress`` file reports."""
    text = path.read_text(errors="replace") if path.exists() else ""
    frames = re.findall(r"^frame=(\d+)", text, re.M)
    sizes = re.findall(r"^total_size=(\d+)", text, re.M)
    return (int(frames[-1]) if frames else 0, int(sizes[-1]) if sizes else 0)


def _x264(display: str, work: Path, settings: Settings, tag: str) -> Sample:
    progress, out = work / f"ffmpeg-{tag}.progress", work / f"ffmpeg-{tag}.h264"
    argv = [
        *("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"),
        *("-f", "x11grab", "-framerate", str(FPS), "-video_size", f"{WIDTH}x{HEIGHT}"),
        *("-i", display, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"),
        *("-progress", str(progress), "-stats_period", "0.1"),
        # Each packet written at once, so the size the progress file reports is exact
        # even for a static screen's tiny frames (else the 32 KiB write buffer hides them).
        *("-flush_packets", "1", "-f", "h264", "-y", str(out)),
    ]
    with program(f"ffmpeg-{tag}", argv, work) as ffmpeg:
        deadline = time.monotonic() + 15.0
        while _progress(progress)[0] < 1:
            if not ffmpeg.alive() or time.monotonic() > deadline:
                raise BenchmarkError(f"ffmpeg did not start encoding: {ffmpeg.log_tail()}")
            time.sleep(0.05)
        time.sleep(settings.warmup)
        cpu0, (frames0, size0), t0 = ffmpeg.cpu_seconds(), _progress(progress), time.monotonic()
        time.sleep(settings.seconds)
        cpu1, (frames1, size1), t1 = ffmpeg.cpu_seconds(), _progress(progress), time.monotonic()
    frames, wall = frames1 - frames0, t1 - t0
    return Sample(
        updates_per_s=frames / wall,
        bytes_per_s=(size1 - size0) / wall,
        cpu_share=(cpu1 - cpu0) / wall,
        cpu_ms_per_frame=1000 * (cpu1 - cpu0) / frames if frames else None,
    )


@contextlib.contextmanager
def _x11vnc(display: str, work: Path) -> Iterator[tuple[Program, int]]:
    port = _free_port()
    argv = ["x11vnc", "-display", display, "-rfbport", str(port), "-localhost", "-nopw"]
    with program("x11vnc", [*argv, "-forever", "-shared"], work) as server:
        server.wait_for_log(f"PORT={port}")
        yield server, port


def _median(samples: list[Sample], key: Callable[[Sample], float | None]) -> float | None:
    values = [v for v in map(key, samples) if v is not None]
    return statistics.median(values) if values else None


def _measure(settings: Settings, notes: list[str]) -> dict[tuple[str, str], list[Sample]]:
    samples: dict[tuple[str, str], list[Sample]] = {}
    with (
        temp_dir("screen") as work,
        xvfb(WIDTH, HEIGHT, work) as display,
        contextlib.ExitStack() as stack,
    ):
        senders: dict[str, Callable[[str], Sample]] = {
            LIFELINE: lambda tag: _ours(display, work, settings, tag, lossless=False)
        }
        if settings.lossless_row and _codec_has_video_regions():
            senders[LOSSLESS] = lambda tag: _ours(display, work, settings, tag, lossless=True)
        if (hint := missing("x11vnc")) is None:
            server, port = stack.enter_context(_x11vnc(display, work))
            senders[ZRLE] = lambda tag: _vnc(port, server, "zrle", settings)
            senders[TIGHT] = lambda tag: _vnc(port, server, "tight", settings)
        else:
            notes.append(f"x11vnc rows skipped: {hint}")
        if (hint := missing("ffmpeg")) is None:
            senders[X264] = lambda tag: _x264(display, work, settings, tag)
        else:
            notes.append(f"ffmpeg rows skipped: {hint}")
        for workload in WORKLOADS:
            if (hint := requirements(workload)) is not None:
                notes.append(f"{workload} workload skipped: {hint}")
                continue
            with running(workload, display, work, settings.settle):
                order = list(senders)
                for r in range(settings.rounds):
                    for name in order[r % len(order) :] + order[: r % len(order)]:
                        tag = f"{workload}-{r}-{name.split()[-1].lower()}"
                        before, started = video_status(work), time.monotonic()
                        sample = senders[name](tag)
                        if workload == "video":
                            shown = video_frames_shown(before, video_status(work))
                            sample.extra["source_fps"] = shown / (time.monotonic() - started)
                        samples.setdefault((workload, name), []).append(sample)
    return samples


def _row(
    workload: str, sender: str, got: list[Sample], zrle_bytes: float | None, x264_ms: float | None
) -> dict[str, Any]:
    kb = _median(got, lambda s: s.bytes_per_s)
    cpu_frame = _median(got, lambda s: s.cpu_ms_per_frame)
    ours = sender in OURS
    return {
        "workload": workload,
        "sender": sender,
        "updates/s": _median(got, lambda s: s.updates_per_s),
        "kB/s": None if kb is None else kb / 1000,
        "× ZRLE bytes": (
            kb / zrle_bytes
            if kb is not None and zrle_bytes and sender not in (ZRLE, X264)
            else None
        ),
        "CPU % core": 100 * (_median(got, lambda s: s.cpu_share) or 0.0),
        "CPU ms/frame": cpu_frame,
        "× x264 CPU/frame": cpu_frame / x264_ms if ours and cpu_frame and x264_ms else None,
        "lossy %": 100 * (_median(got, lambda s: s.lossy_share) or 0.0) if ours else None,
        "exact frames": (
            f"{sum(s.checked - s.mismatched for s in got)}/{sum(s.checked for s in got)}"
            if ours
            else None
        ),
    }


def _rows(samples: dict[tuple[str, str], list[Sample]]) -> list[dict[str, Any]]:
    rows = []
    for workload in WORKLOADS:
        zrle = samples.get((workload, ZRLE))
        x264 = samples.get((workload, X264))
        zrle_bytes = _median(zrle, lambda s: s.bytes_per_s) if zrle else None
        x264_ms = _median(x264, lambda s: s.cpu_ms_per_frame) if x264 else None
        for sender in SENDERS:
            if got := samples.get((workload, sender)):
                rows.append(_row(workload, sender, got, zrle_bytes, x264_ms))
    return rows


def _figure(rows: list[dict[str, Any]], workload: str, sender: str, column: str) -> float | None:
    for row in rows:
        if row["workload"] == workload and row["sender"] == sender:
            value = row[column]
            return None if value is None else float(value)
    return None


def _exactness_goals(samples: dict[tuple[str, str], list[Sample]]) -> list[Goal]:
    goals = []
    text = [s for w in TEXT_WORKLOADS for s in samples.get((w, LIFELINE), [])]
    if text:
        checked = sum(s.checked for s in text)
        exact = sum(s.checked - s.mismatched for s in text if s.lossy_share == 0)
        lossy = ", ".join(
            f"{w} {100 * max(s.lossy_share for s in got):.0f} %"
            for w in TEXT_WORKLOADS
            if (got := samples.get((w, LIFELINE)))
        )
        goals.append(
            Goal(
                "text pixel-exact (scrolling, typing, static: decoded vs grabbed)",
                "every checked frame, nothing lossy",
                f"{exact}/{checked} frames exact; most shown lossy: {lossy}",
                checked > 0 and exact == checked,
            )
        )
    if video := samples.get(("video", LIFELINE)):
        checked = sum(s.checked for s in video)
        wrong = sum(s.mismatched for s in video)
        goals.append(
            Goal(
                "video workload: pixel-exact outside the lossy tiles",
                "every checked frame",
                f"{checked - wrong}/{checked} frames",
                checked > 0 and wrong == 0,
            )
        )
    return goals


def _goals(rows: list[dict[str, Any]], samples: dict[tuple[str, str], list[Sample]]) -> list[Goal]:
    goals = []
    ratio = _figure(rows, "scrolling", LIFELINE, "× ZRLE bytes")
    if ratio is not None:
        goals.append(
            Goal(
                "scrolling text: bytes/s vs x11vnc ZRLE",
                f"≤ {GOAL_BYTES_VS_ZRLE}×",
                f"{ratio:.2f}×",
                ratio <= GOAL_BYTES_VS_ZRLE,
            )
        )
    ups = _figure(rows, "scrolling", LIFELINE, "updates/s")
    if ups is not None:
        zrle_ups = _figure(rows, "scrolling", ZRLE, "updates/s")
        than = f" (x11vnc ZRLE: {zrle_ups:.1f})" if zrle_ups is not None else ""
        goals.append(
            Goal(
                "scrolling text: updates/s delivered",
                f"≥ {GOAL_UPDATES:.0f}",
                f"{ups:.1f}{than}",
                ups >= GOAL_UPDATES,
            )
        )
    goals += _exactness_goals(samples)
    for workload in ("scrolling", "typing", "video"):
        cpu = _figure(rows, workload, LIFELINE, "× x264 CPU/frame")
        if cpu is not None:
            goals.append(
                Goal(
                    f"{workload}: CPU per frame vs ffmpeg x11grab + x264 (capture included)",
                    f"≤ {GOAL_CPU_VS_X264}×",
                    f"{cpu:.2f}×",
                    cpu <= GOAL_CPU_VS_X264,
                )
            )
    static_cpu = _figure(rows, "static", LIFELINE, "CPU % core")
    static_kb = _figure(rows, "static", LIFELINE, "kB/s")
    if static_cpu is not None and static_kb is not None:
        goals.append(
            Goal(
                "static screen: capture + encode CPU",
                f"≤ {100 * GOAL_STATIC_CPU:.0f} % of a core",
                f"{static_cpu:.1f} %",
                static_cpu <= 100 * GOAL_STATIC_CPU,
            )
        )
        goals.append(
            Goal(
                "static screen: bytes/s",
                "~0",
                f"{1000 * static_kb:.0f} B/s",
                1000 * static_kb <= GOAL_STATIC_BYTES,
            )
        )
    video = _figure(rows, "video", LIFELINE, "updates/s")
    if video is not None:
        source = _source_fps(samples, LIFELINE)
        shown = f" (ffplay showed {source:.1f} frames/s)" if source is not None else ""
        goals.append(
            Goal(
                "video region: updates/s delivered",
                f"≥ {GOAL_VIDEO_FPS:.0f}",
                f"{video:.1f}{shown}",
                video >= GOAL_VIDEO_FPS,
            )
        )
    return goals


def _details(samples: dict[tuple[str, str], list[Sample]]) -> list[str]:
    out = []
    for workload in WORKLOADS:
        for sender in OURS:
            if ours := samples.get((workload, sender)):
                grabs = _median(ours, lambda s: s.extra["frames_per_s"]) or 0.0
                grab = _median(ours, lambda s: s.extra["grab_ms"]) or 0.0
                enc = _median(ours, lambda s: s.extra["encode_ms_p50"]) or 0.0
                out.append(
                    f"{workload}, {sender}: {grabs:.1f} grabs/s; grab {grab:.1f} CPU-ms, "
                    f"encode {enc:.1f} CPU-ms (median) per frame."
                )
        zrle = samples.get((workload, ZRLE))
        if zrle:
            copies = _median(zrle, lambda s: s.extra["copy_rects"]) or 0.0
            rects = _median(zrle, lambda s: s.extra["rects"]) or 0.0
            out.append(
                f"{workload}, x11vnc ZRLE: {rects:.0f} rectangles counted per round, "
                f"{copies:.0f} of them CopyRect."
            )
    shown = [
        f"{sender} {fps:.1f}"
        for sender in SENDERS
        if (fps := _source_fps(samples, sender)) is not None
    ]
    if shown:
        out.append(
            "video: frames ffplay put on the screen per second while each sender watched "
            f"(it drops frames when the machine is busy): {', '.join(shown)}."
        )
    return out


def _source_fps(samples: dict[tuple[str, str], list[Sample]], sender: str) -> float | None:
    got = samples.get(("video", sender), [])
    fps = [f for s in got if not math.isnan(f := s.extra.get("source_fps", math.nan))]
    return statistics.median(fps) if fps else None


def run(quick: bool) -> Result:
    settings = QUICK if quick else FULL
    notes: list[str] = []
    samples = _measure(settings, notes)
    rows = _rows(samples)
    goals = _goals(rows, samples)
    notes = [
        f"One Xvfb {WIDTH}×{HEIGHT}×24; workloads: scrolling = full-screen xterm printing "
        f"{SCROLL_RATE} varied log lines/s; typing = a page of prose in a white xterm, "
        "xdotool typing ~7 keys/s; video = that page with ffplay testsrc2 640×360 at "
        "30 fps plus temporal grain; static = that page.",
        f"{settings.rounds} round(s) per workload, each sender counted {settings.seconds:g} s "
        f"after {settings.warmup:.1f} s of warm-up, senders in a rotating order; medians.",
        "updates/s: updates that carried a change (lifeline: non-empty encodes; x11vnc: "
        "FramebufferUpdates with a rectangle; ffmpeg: frames encoded). kB/s: every byte "
        "the sender produced (RFB messages whole; our updates as the codec returns "
        "them, before the session's encryption and framing).",
        "CPU ms/frame: lifeline and ffmpeg per grabbed frame (both grab up to 30/s); "
        "x11vnc per update sent. lifeline CPU is grab + encode inside its process, plus "
        "the wait for X DAMAGE after a frame that changed nothing (as in the applet); "
        "the pixel checks (decode + compare every 10th frame) are not counted.",
        "x11vnc runs with default settings (XDAMAGE and scroll detection on: its "
        "CopyRects are counted below); the viewer "
        "asks for the next update as soon as one is read. ffmpeg x264 is lossy; "
        "lifeline, ZRLE and Tight (no JPEG asked for) are lossless.",
        *_details(samples),
        *notes,
    ]
    return Result(TITLE, rows, goals, notes)
