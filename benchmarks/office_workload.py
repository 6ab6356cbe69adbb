"""A scripted minute of office work on a real X display: typing, scrolling, switching.

Two full-screen white xterms (DejaVu Sans Mono 10, the screen benchmarks' font):

* the **document**: a page of prose
  (``python -m benchmarks.screen_workloads page``) into which text is typed by xdotool at
  the screen workloads' pace (about 7 keys a second), as in their ``typing`` workload;
* the **reader**: ``less`` on a long text of the same prose, scrolled three lines at a
  time twice a second (Down ×3, what a mouse wheel's notch does).

:data:`SCRIPT` is one minute: typing, a switch to the reader (the pointer glides over,
then the window is raised and focused: its whole page is drawn again), scrolling, a
switch back, and so on, four switches in all. :meth:`OfficeDesk.play` follows it
against the clock and stops at the deadline, wherever it is: a shorter run plays the
first part at the same pace, so its figures per minute stay comparable.
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.processes import BenchmarkError
from benchmarks.screen_workloads import FONT, TYPING_DELAY_MS, prose_lines
from benchmarks.x_display import missing, program, xdotool

DOCUMENT, READER = "lifeline-document", "lifeline-reader"
#: (what, seconds): "type" and "scroll" last that long; "switch" glides the pointer to
#: the other window and raises it (its seconds are the glide).
SCRIPT: tuple[tuple[str, float], ...] = (
    ("type", 12.0),
    ("switch", 0.5),
    ("scroll", 10.0),
    ("switch", 0.5),
    ("type", 12.0),
    ("switch", 0.5),
    ("scroll", 8.0),
    ("switch", 0.5),
    ("type", 16.0),
)
SCRIPT_SECONDS = sum(seconds for _, seconds in SCRIPT)
#: Three lines twice a second: a mouse wheel turned at a reading pace.
SCROLL_EVERY, SCROLL_LINES = 0.5, 3
#: Where the pointer rests over each window (it glides between them on a switch).
REST = {DOCUMENT: (420, 380), READER: (1380, 640)}
GLIDE_STEPS = 10
COLOURS = ["-bg", "white", "-fg", "black"]


def requirements() -> str | None:
    """None when the desk can run; else how to install what it needs."""
    return missing("xterm", "xdotool", "less")


class OfficeDesk:
    """The two windows on ``display``, the document on top and focused."""

    def __init__(self, display: str, workdir: Path, windows: dict[str, str]) -> None:
        self.display = display
        self.workdir = workdir
        self.windows = windows
        self.front = DOCUMENT
        self.switches = 0
        self.keys_typed = 0
        self.lines_scrolled = 0
        self._typing = 0

    def play(self, seconds: float) -> None:
        """Follows :data:`SCRIPT` for ``seconds`` (from its start; a run longer than
        the script starts it again), blocking."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for what, length in SCRIPT:
                until = min(deadline, time.monotonic() + length)
                if what == "type":
                    self._type(until)
                elif what == "scroll":
                    self._scroll(until)
                else:
                    self._switch(until)
                if time.monotonic() >= deadline:
                    return

    def _type(self, until: float) -> None:
        self._show(DOCUMENT)
        self._typing += 1
        # More text than the step can type: xdotool is stopped at the step's end.
        keys = int((until - time.monotonic()) * 1000 / TYPING_DELAY_MS) + 20
        text = "\n".join(prose_lines(random.Random(10 + self._typing), 40, width=70))
        path = self.workdir / f"office-typing-{self._typing}.txt"
        path.write_text(text[:keys])
        argv = ["xdotool", "type", "--delay", str(TYPING_DELAY_MS), "--file", str(path)]
        started = time.monotonic()
        with program(f"xdotool-office-{self._typing}", argv, self.workdir, display=self.display):
            time.sleep(max(0.0, until - time.monotonic()))
        self.keys_typed += int((time.monotonic() - started) * 1000 / TYPING_DELAY_MS)

    def _scroll(self, until: float) -> None:
        self._show(READER)
        tick = time.monotonic()
        while tick < until:
            xdotool(self.display, "key", "--delay", "30", *["Down"] * SCROLL_LINES)
            self.lines_scrolled += SCROLL_LINES
            tick += SCROLL_EVERY
            time.sleep(max(0.0, min(tick, until) - time.monotonic()))

    def _switch(self, until: float) -> None:
        target = READER if self.front == DOCUMENT else DOCUMENT
        (x0, y0), (x1, y1) = REST[self.front], REST[target]
        for step in range(1, GLIDE_STEPS + 1):
            x, y = x0 + (x1 - x0) * step // GLIDE_STEPS, y0 + (y1 - y0) * step // GLIDE_STEPS
            xdotool(self.display, "mousemove", str(x), str(y))
            time.sleep(max(0.0, (until - time.monotonic()) / (GLIDE_STEPS - step + 1)))
        self._raise(target)
        self.switches += 1

    def _show(self, name: str) -> None:
        if self.front != name:
            self._raise(name)

    def _raise(self, name: str) -> None:
        window = self.windows[name]
        xdotool(self.display, "windowraise", window)
        xdotool(self.display, "windowfocus", "--sync", window)
        self.front = name


def _window(display: str, title: str) -> str:
    found = xdotool(display, "search", "--sync", "--onlyvisible", "--name", f"^{title}$")
    if not found.split():
        raise BenchmarkError(f"the {title} window did not appear")
    return found.split()[0]


@contextlib.contextmanager
def office_desk(display: str, workdir: Path, settle: float) -> Iterator[OfficeDesk]:
    """Opens the reader, then the document over it, on ``display``; gives them
    ``settle`` seconds to draw; closes both on the way out."""
    if (hint := requirements()) is not None:
        raise BenchmarkError(hint)
    text = workdir / "office-reader.txt"
    text.write_text("\n".join(prose_lines(random.Random(4), 3000)) + "\n")
    xterm = ["xterm", "-maximized", *FONT, *COLOURS]
    # -X: less leaves the page on the screen when it quits; -S: long lines are not wrapped.
    reader = [*xterm, "-T", READER, "-e", "less", "-X", "-S", str(text)]
    page = [sys.executable, "-m", "benchmarks.screen_workloads", "page"]
    document = [*xterm, "-T", DOCUMENT, "-e", *page]
    with contextlib.ExitStack() as stack:
        stack.enter_context(program("xterm-reader", reader, workdir, display=display))
        windows = {READER: _window(display, READER)}
        stack.enter_context(program("xterm-document", document, workdir, display=display))
        windows[DOCUMENT] = _window(display, DOCUMENT)
        desk = OfficeDesk(display, workdir, windows)
        xdotool(display, "mousemove", *map(str, REST[DOCUMENT]))
        desk._raise(DOCUMENT)
        time.sleep(settle)
        yield desk
