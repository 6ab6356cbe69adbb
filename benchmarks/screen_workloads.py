"""Scripted screen workloads on a real X display, the same on every run.

* ``scrolling``: a full-screen xterm (DejaVu Sans Mono 10, anti-aliased) printing varied
  log lines, some with coloured levels, at 500 lines/s;
* ``typing``: a full-screen white xterm showing a page of prose, with text typed into it
  by xdotool at about 7 keys/s (a fast typist) — the "office" case, mostly static;
* ``video``: that page, with ffplay playing ``testsrc2`` at 640×360, 30 fps, in the
  middle of the screen, with temporal grain added (``noise``) so that the pixels behave
  like a camera's rather than like flat synthetic colours;
* ``static``: that page, nothing moving.

The text printers are this module's own command line, run inside xterm:
``python -m benchmarks.screen_workloads scroll --rate 500`` and
``python -m benchmarks.screen_workloads page``.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.x_display import Program, missing, program, xdotool

WORKLOADS = ("scrolling", "typing", "video", "static")
SCROLL_RATE = 500
#: xdotool's delay between keys: about 7 keys a second.
TYPING_DELAY_MS = 140
VIDEO_FPS = 30
VIDEO = f"testsrc2=size=640x360:rate={VIDEO_FPS}"
VIDEO_GRAIN = "noise=alls=12:allf=t"
VIDEO_AT = (640, 360)
FONT = ["-fa", "DejaVu Sans Mono", "-fs", "10"]

_LOG_WORDS = (
    "request response connection closed opened latency error warning debug kernel "
    "module loaded device usb eth0 link up down timeout retry GET POST PUT 200 204 301 "
    "404 500 /usr/lib/python3 /var/log/syslog /home/user/project build test passed failed "
    "compile linking object cache hit miss worker thread pool queue session client "
    "server socket bound listening accepted checksum ok mismatch byte bytes frame "
    "frames packet packets sent received dropped the a of to in for with on at by"
)
_LEVELS = [("INFO", 32), ("DEBUG", 36), ("WARN", 33), ("ERROR", 31)]
_PROSE_TEXT = (
    "Dear customer, thank you for your message about the quarterly report. The figures "
    "for the northern region are attached, and the summary table on the second page now "
    "includes the revised totals. Please let me know whether the format works for the "
    "board meeting next week, or whether you would prefer the older layout with one "
    "chart per department. We can also add the comparison with last year if that helps."
)
_WORDS, _PROSE = _LOG_WORDS.split(), _PROSE_TEXT.split()


def log_line(rng: random.Random, number: int) -> str:
    level, colour = rng.choice(_LEVELS)
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 28)))
    stamp = (
        f"{number // 3600 % 24:02d}:{number // 60 % 60:02d}:{number % 60:02d}.{number % 1000:03d}"
    )
    return f"{stamp} \x1b[{colour}m{level:5}\x1b[0m [{rng.randint(1, 64):2d}] {words}"


def prose_lines(rng: random.Random, lines: int, width: int = 110) -> list[str]:
    out: list[str] = []
    line = ""
    while len(out) < lines:
        word = rng.choice(_PROSE)
        if len(line) + len(word) + 1 > width:
            out.append(line)
            line = ""
            if rng.random() < 0.15:
                out.append("")  # a paragraph break
        line = f"{line} {word}" if line else word
    return out[:lines]


def _scroll(rate: int) -> None:
    """Prints ``rate`` lines a second, in batches of 5, paced against the clock."""
    rng = random.Random(1)
    number, tick = 0, time.monotonic()
    while True:
        lines = [log_line(rng, number + i) for i in range(5)]
        number += 5
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        tick += 5 / rate
        time.sleep(max(0.0, tick - time.monotonic()))


def _page() -> None:
    """A page of prose, then whatever is typed is echoed by the terminal and dropped."""
    print("\n".join(prose_lines(random.Random(2), 36)), flush=True)
    for _ in sys.stdin:
        pass
    time.sleep(3600)


def _xterm(
    name: str, workdir: Path, display: str, colours: list[str], command: list[str]
) -> contextlib.AbstractContextManager[Program]:
    argv = ["xterm", "-maximized", *FONT, *colours, "-e", sys.executable, *command]
    return program(name, argv, workdir, display=display)


def requirements(workload: str) -> str | None:
    """None when the workload can run; else how to install what it needs."""
    needs = {"scrolling": ["xterm"], "typing": ["xterm", "xdotool"], "video": ["xterm", "ffplay"]}
    return missing(*needs.get(workload, ["xterm"]))


@contextlib.contextmanager
def running(workload: str, display: str, workdir: Path, settle: float) -> Iterator[None]:
    """Runs ``workload`` on ``display`` for the duration of the block, after giving its
    programs ``settle`` seconds to draw."""
    with contextlib.ExitStack() as stack:
        if workload == "scrolling":
            command = ["-m", "benchmarks.screen_workloads", "scroll", "--rate", str(SCROLL_RATE)]
            colours = ["-bg", "black", "-fg", "grey85"]
            stack.enter_context(_xterm("xterm-scroll", workdir, display, colours, command))
        else:
            command = ["-m", "benchmarks.screen_workloads", "page"]
            colours = ["-bg", "white", "-fg", "black"]
            stack.enter_context(_xterm("xterm-page", workdir, display, colours, command))
        time.sleep(settle)
        if workload == "typing":
            window = xdotool(display, "search", "--sync", "--onlyvisible", "--class", "xterm")
            window = window.split()[0]
            xdotool(display, "mousemove", "--window", window, "400", "400")
            xdotool(display, "windowfocus", "--sync", window)
            text = workdir / "typing.txt"
            text.write_text("\n".join(prose_lines(random.Random(3), 40, width=70)) + "\n")
            argv = ["xdotool", "type", "--delay", str(TYPING_DELAY_MS), "--file", str(text)]
            stack.enter_context(program("xdotool-type", argv, workdir, display=display))
        elif workload == "video":
            x, y = VIDEO_AT
            argv = [
                # -stats at level info: the status line that says how many frames it dropped.
                *("ffplay", "-hide_banner", "-loglevel", "info", "-stats", "-an", "-noborder"),
                *("-left", str(x), "-top", str(y), "-f", "lavfi", "-i", VIDEO),
                *("-vf", VIDEO_GRAIN),
            ]
            env = {"SDL_AUDIODRIVER": "dummy"}
            stack.enter_context(program("ffplay", argv, workdir, display=display, env=env))
            xdotool(display, "search", "--sync", "--onlyvisible", "--class", "ffplay")
        if workload in ("typing", "video"):
            time.sleep(settle)
        yield


def video_status(workdir: Path) -> tuple[float, int] | None:
    """ffplay's latest status while the video workload runs: its clock (seconds of video
    played) and how many frames it has dropped (shown too late) so far."""
    log = workdir / "ffplay.log"
    if not log.exists():
        return None
    with log.open("rb") as f:
        f.seek(max(0, log.stat().st_size - 4096))
        tail = f.read().decode(errors="replace")
    found = re.findall(r"(\d+\.\d+) M-V:\s*\S+ fd=\s*(\d+)", tail)
    return (float(found[-1][0]), int(found[-1][1])) if found else None


def video_frames_shown(before: tuple[float, int] | None, after: tuple[float, int] | None) -> float:
    """Frames ffplay put on the screen between two :func:`video_status` readings."""
    if before is None or after is None:
        return float("nan")
    return VIDEO_FPS * (after[0] - before[0]) - (after[1] - before[1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.screen_workloads")
    sub = parser.add_subparsers(dest="mode", required=True)
    scroll = sub.add_parser("scroll", help="print varied log lines at a steady rate")
    scroll.add_argument("--rate", type=int, default=SCROLL_RATE, help="lines per second")
    sub.add_parser("page", help="print a page of prose, then swallow what is typed")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        if args.mode == "scroll":
            _scroll(args.rate)
        else:
            _page()


if __name__ == "__main__":
    main()
