"""The demo's scripted session on a machine with no screen: two Xvfb desktops (the
customer's and the technician's), the real broker, the real applet program and the real
console, driven step by step the way the two people would, with a screenshot after each
step and ``summary.json`` saying what was checked and whether it held.

The script runs on the console's window thread: it pumps Qt's events while it waits, as
a person's session would keep them flowing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from broker.app import Broker, start_broker
from broker.config import BrokerConfig
from console.demo_desktop import Desktop
from console.loop_thread import LoopThread

log = logging.getLogger(__name__)
T = TypeVar("T")

TYPED = "hello from lifeline 42"  # what the technician types into the customer's terminal
TERMINAL_TITLE = "Lifeline demo terminal"
TERMINAL_AT = (700, 380)  # where on the customer's screen the technician clicks
BUTTON = (820, 540, 320, 90)  # the demo's button on the customer's screen: x, y, w, h
BUTTON_PROGRAM = """
import sys
from PySide6.QtWidgets import QApplication, QPushButton
app = QApplication(sys.argv)
button = QPushButton("A button on the customer's screen")
button.setWindowTitle("Lifeline demo button")
button.setGeometry(*map(int, sys.argv[1:5]))
button.clicked.connect(lambda: app.exit(7))
button.show()
sys.exit(app.exec())
"""
STEPS = 10
MATCH_GOAL = 0.99  # share of pixels the console must show exactly as the customer's screen


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Summary:
    ok: bool = False
    broker: str = ""
    steps: list[Step] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    screenshots: list[str] = field(default_factory=list)


async def until(condition: Callable[[], T | None], timeout: float, what: str) -> T:
    """Waits, pumping Qt's events, until ``condition()`` is truthy; returns it."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout:g} s")
        QApplication.processEvents()
        await asyncio.sleep(0.02)
    return result


async def settle(seconds: float) -> None:
    """Lets the windows and the stream catch up for ``seconds``."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QApplication.processEvents()
        await asyncio.sleep(0.02)


class DemoSession:
    """Everything the headless demo starts, and the steps it takes."""

    def __init__(self, out: Path, data: Path) -> None:
        self.out = out
        self.data = data
        self.summary = Summary()
        self.customer = Desktop(1280, 720)
        self.technician = Desktop(1600, 900)
        self.broker_thread = LoopThread()
        self.broker: Broker | None = None
        self.applet: subprocess.Popen[bytes] | None = None
        self.applet_home = Path(tempfile.mkdtemp(prefix="lifeline-demo-applet-"))
        self.app: Any = None  # console.app.ConsoleApp, once Qt is up
        self.host: Any = None  # the customer's SessionHost
        self.code = ""
        self.button: subprocess.Popen[bytes] | None = None

    # ---- running it ----------------------------------------------------------------

    async def run(self) -> Summary:
        steps: list[tuple[str, Callable[[], Awaitable[str]]]] = [
            ("broker starts", self.start_broker),
            ("technician signs in", self.sign_in),
            ("a code for the customer", self.new_code),
            ("the applet joins with the code", self.applet_joins),
            ("the customer allows the view", self.view),
            ("chat both ways", self.chat),
            ("remote control clicks and types", self.control),
            ("files both ways", self.files),
            ("the technician ends the session", self.end),
            ("the recording converts to AVI", self.convert),
        ]
        for name, action in steps:
            started = time.monotonic()
            try:
                detail = await action()
                ok = True
            except Exception as exc:
                log.exception("demo step failed: %s", name)
                detail, ok = f"{type(exc).__name__}: {exc}", False
            step = Step(name, ok, detail, round(time.monotonic() - started, 2))
            self.summary.steps.append(step)
            print(f"  {'ok ' if ok else 'FAILED'} {name}: {detail}", flush=True)
            if not ok:
                self._screenshot("failure")
                break
        self.summary.ok = all(s.ok for s in self.summary.steps) and len(self.summary.steps) == len(
            steps
        )
        return self.summary

    def write_summary(self) -> Path:
        path = self.out / "summary.json"
        path.write_text(json.dumps(asdict(self.summary), indent=2) + "\n")
        return path

    def close(self) -> None:
        if self.app is not None:
            self.app.shutdown()
        if self.applet is not None and self.applet.poll() is None:
            self.applet.terminate()
            try:
                self.applet.wait(10)
            except subprocess.TimeoutExpired:
                self.applet.kill()
                self.applet.wait(5)
        if self.broker is not None:
            self.broker_thread.submit(self.broker.stop()).result(30)
        self.broker_thread.stop()
        self.customer.close()
        self.technician.close()

    def _screenshot(self, name: str) -> None:
        """The customer's screen and the technician's console, as PNG files."""
        for who, take in (
            ("customer", lambda p: self.customer.screenshot(p)),
            ("console", self._grab_console),
        ):
            path = self.out / f"{len(self.summary.screenshots) // 2 + 1:02d}-{name}-{who}.png"
            try:
                take(path)
                self.summary.screenshots.append(path.name)
            except Exception as exc:  # a screenshot is never worth failing the demo
                log.warning("no screenshot %s: %s", path.name, exc)

    def _grab_console(self, path: Path) -> None:
        app = self.app
        window = app.window if app is not None and app.window is not None else None
        widget = window or (app.login_window if app is not None else None)
        if widget is None or not widget.grab().save(str(path)):
            raise RuntimeError("the console window could not be grabbed")

    # ---- the steps -----------------------------------------------------------------

    async def start_broker(self) -> str:
        from console.demo import prepare

        prepare(self.data)
        config = BrokerConfig(data_dir=self.data, port=0)
        self.broker = self.broker_thread.submit(start_broker(config)).result(30)
        self.summary.broker = self.broker.url
        return self.broker.url

    async def sign_in(self) -> str:
        from console.app import ConsoleApp
        from console.demo import DEMO_EMAIL, DEMO_PASSWORD
        from console.settings import ConsoleSettings

        assert self.broker is not None
        fingerprint = str(self.broker.certs.ca_fingerprint)
        settings = ConsoleSettings(self.broker.url, DEMO_EMAIL, fingerprint)
        self.app = app = ConsoleApp(
            settings,
            settings_path=self.out / "console-settings.json",
            recordings=self.out / "recordings",
        )
        app.start()
        app.login_window.password.setText(DEMO_PASSWORD)
        await settle(0.3)
        self._screenshot("sign-in")
        app.login_window.button.click()
        await until(
            lambda: app.window is not None or not app.login_window.error.isHidden(),
            20,
            "answer from the broker",
        )
        if app.window is None:
            raise RuntimeError(app.login_window.error.text())
        app.window.show()
        return f"signed in as {DEMO_EMAIL}"

    async def new_code(self) -> str:
        home = self.app.home
        home.start.click()
        card = await until(lambda: next(iter(home.cards.values()), None), 15, "code")
        self.code = card.code.text()
        await settle(0.3)
        self._screenshot("home")
        return f"code {self.code}, {card.expiry.text().lower()}"

    async def applet_joins(self) -> str:
        assert self.broker is not None
        self.customer.run(
            [
                "xterm",
                "-geometry",
                "70x12+480+300",
                "-title",
                TERMINAL_TITLE,
                "-e",
                "sh",
                "-c",
                'printf "Type here: "; read line; printf "%s\\n" "$line" > "$1";'
                ' printf "Received: %s\\n" "$line"; sleep 3600',
                "sh",
                str(self.out / "typed.txt"),
            ]
        )
        self.button = self.customer.run(
            [sys.executable, "-c", BUTTON_PROGRAM, *map(str, BUTTON)], QT_QPA_PLATFORM="xcb"
        )
        (self.applet_home / "tmp").mkdir(exist_ok=True)
        opened: list[Any] = []
        self.app.session_opened.connect(opened.append)
        self.applet = self.customer.run(
            [
                sys.executable,
                "-m",
                "applet.main",
                "--broker",
                self.broker.url,
                "--ca-file",
                str(self.broker.certs.ca_file),
                "--code",
                self.code,
            ],
            HOME=str(self.applet_home),
            TMPDIR=str(self.applet_home / "tmp"),
            QT_QPA_PLATFORM="xcb",
            LANG="C.UTF-8",
        )
        started = time.monotonic()
        self.host = await until(lambda: opened[0] if opened else None, 30, "session")
        self.summary.checks["applet_joined_s"] = round(time.monotonic() - started, 2)
        tab = self.host.tab
        return f"{tab.customer} joined; {tab.sas.text()}"

    async def view(self) -> str:
        tab, screen = self.host.tab, self.host.tech.screen
        tab.buttons["view_screen"].click()
        await asyncio.to_thread(self.customer.press, "permission request", "alt+a")
        await until(lambda: screen.frames >= 1, 15, "picture")
        # The console shows exactly the customer's screen once it is still.
        best = 0.0
        deadline = time.monotonic() + 15
        while best < MATCH_GOAL and time.monotonic() < deadline:
            await settle(0.5)
            real = self.customer.grab()
            with screen.lock:
                shown = screen.decoder.framebuffer.copy()
            if shown.shape == real.shape:
                best = max(best, float(np.mean(np.all(shown == real, axis=2))))
        self.summary.checks["frames_received"] = screen.frames
        self.summary.checks["picture_match"] = round(best, 4)
        if best < MATCH_GOAL:
            raise RuntimeError(f"the console's picture matches {best:.1%} of the screen")
        # The technician records the rest of the session.
        tab.record.click()
        await until(lambda: self.host.tech.recorder is not None, 10, "recording")
        await settle(0.3)
        self._screenshot("viewing")
        return (
            f"{screen.frames} updates; {best:.2%} of the pixels exactly as on the screen; recording"
        )

    async def chat(self) -> str:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        tab = self.host.tab
        tab.entry.setText("Hello, I am your demo technician.")
        sent = time.monotonic()
        QTest.keyClick(tab.entry, Qt.Key.Key_Return)
        await until(lambda: "✓✓" in tab.transcript.toHtml(), 15, "delivery mark")
        delivered_ms = (time.monotonic() - sent) * 1000
        reply = "Thanks, I can see you"
        await asyncio.to_thread(self.customer.type, "Chat with", reply)
        await until(lambda: reply in tab.transcript.toPlainText(), 15, "reply")
        self.summary.checks["chat_delivered_ms"] = round(delivered_ms, 1)
        self.summary.checks["chat_reply_arrived"] = True
        return f"delivered in {delivered_ms:.0f} ms; the customer's reply arrived"

    async def control(self) -> str:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        tab = self.host.tab
        tab.buttons["remote_control"].click()
        await asyncio.to_thread(self.customer.press, "permission request", "alt+a")
        await until(lambda: tab.control.isChecked(), 15, "control")
        remote = tab.remote
        # A click in the viewer presses the button on the customer's screen.
        button = self.button
        assert button is not None
        x, y, w, h = BUTTON
        point = remote.widget_point(x + w // 2, y + h // 2)
        if point is None:
            raise RuntimeError("the viewer shows no picture")
        QTest.mouseClick(remote, Qt.MouseButton.LeftButton, pos=point)
        await until(lambda: button.poll() is not None, 10, "press of the button")
        self.summary.checks["button_pressed"] = button.returncode == 7
        if button.returncode != 7:
            raise RuntimeError(f"the button's program ended with {button.returncode}")
        # Xvfb has no window manager to give the clicked window the keyboard, as the
        # customer's desktop would: the person's hands give it instead.
        await asyncio.to_thread(self.customer.focus, TERMINAL_TITLE)
        point = remote.widget_point(*TERMINAL_AT)
        if point is None:
            raise RuntimeError("the viewer shows no picture")
        QTest.mouseClick(remote, Qt.MouseButton.LeftButton, pos=point)
        remote.setFocus()
        QTest.keyClicks(remote, TYPED)
        QTest.keyClick(remote, Qt.Key.Key_Return)
        typed = self.out / "typed.txt"
        arrived = await until(
            lambda: typed.exists() and typed.read_text().strip() == TYPED, 15, "typed text"
        )
        self.summary.checks["typed_text_arrived"] = bool(arrived)
        await settle(1.0)
        self._screenshot("control")
        return f"a click pressed a button; the terminal received {TYPED!r}"

    async def files(self) -> str:
        import hashlib

        from console.file_reports import TransferState

        tab = self.host.tab
        documents = self.applet_home / "Documents"
        documents.mkdir(exist_ok=True)
        log_text = "".join(
            f"12:{i:02d} printer spooler restarted (attempt {i})\n" for i in range(400)
        )
        (documents / "printer-log.txt").write_text(log_text)
        (documents / "Scans").mkdir(exist_ok=True)
        mine = self.out / "technician-files"
        mine.mkdir(exist_ok=True)
        fix = mine / "printer-fix.reg"
        fix.write_bytes(b"Windows Registry Editor Version 5.00\r\n" + os.urandom(200_000))
        tab.ask_files.click()
        await asyncio.to_thread(self.customer.press, "permission request", "alt+a")
        files = tab.files
        await until(lambda: files.folder is not None, 15, "the customer's home folder")
        files.browse.emit(files.folder.root, [*files.folder.path, "Documents"])
        await until(lambda: files.folder.path[-1:] == ("Documents",), 15, "the Documents folder")
        files.go_local(mine)
        files.upload.emit([str(fix)], files.folder.root, list(files.folder.path))
        item = next(
            files.remote.topLevelItem(i) for i in range(files.remote.topLevelItemCount())
            if files.remote.topLevelItem(i).text(0) == "printer-log.txt"
        )  # fmt: skip
        item.setSelected(True)
        files.download_button.click()
        remote = self.host.tech.files

        def finished() -> bool:
            done = remote.transfers()
            return len(done) == 2 and all(s.finished for s in done)

        await until(finished, 30, "both transfers")
        failed = [s.error for s in remote.transfers() if s.state != TransferState.DONE]
        if failed:
            raise RuntimeError("; ".join(failed))
        arrived = documents / fix.name
        fetched = mine / "printer-log.txt"
        same = (
            hashlib.sha256(arrived.read_bytes()).digest()
            == hashlib.sha256(fix.read_bytes()).digest()
            and fetched.read_text() == log_text
        )
        self.summary.checks["files_match"] = same
        if not same:
            raise RuntimeError("a transferred file differs from its original")
        await until(lambda: files.remote.topLevelItemCount() == 3, 10, "the refreshed folder")
        files.remote.clearSelection()
        await settle(0.5)
        self._screenshot("files")
        return "uploaded printer-fix.reg and downloaded printer-log.txt, hashes equal"

    async def end(self) -> str:
        tab = self.host.tab
        tab.end_button.click()
        await until(lambda: tab.is_over, 15, "end")
        applet = self.applet
        assert applet is not None
        await until(lambda: applet.poll() is not None, 20, "applet exit")
        self.summary.checks["applet_exit_code"] = applet.returncode
        # The customer's own files (and the one the technician sent) stay, of course.
        documents = self.applet_home / "Documents"
        left = [
            p for p in self.applet_home.rglob("*")
            if p != self.applet_home / "tmp" and documents not in (p, *p.parents)
        ]  # fmt: skip
        self.summary.checks["applet_left_files"] = len(left)
        await settle(0.3)
        self._screenshot("ended")
        if applet.returncode != 0:
            raise RuntimeError(f"the applet exited with {applet.returncode}")
        if left:
            raise RuntimeError(f"the applet left {len(left)} file(s) behind")
        return "the applet exited 0 and left nothing behind"

    async def convert(self) -> str:
        from common.recording import RecordingReader
        from common.recording.export import export

        tab = self.host.tab
        await until(lambda: not tab.record.isChecked(), 15, "end of the recording")
        made = sorted((self.out / "recordings").glob("*.rcrec"))
        if len(made) != 1:
            raise RuntimeError(f"{len(made)} recordings were made, not one")
        recording = made[0].replace(self.out / "session.rcrec")
        with recording.open("rb") as file:
            reader = RecordingReader(file)
            result = await asyncio.to_thread(export, reader, self.out / "session.avi")
        self.summary.checks["recording_complete"] = result.complete
        self.summary.checks["video"] = {
            "width": result.width,
            "height": result.height,
            "seconds": result.duration,
            "frames": result.frames,
            "encoded": result.encoded,
        }
        if not result.complete:
            raise RuntimeError(f"the recording is incomplete: {result.stopped}")
        if (result.width, result.height) != (self.customer.width, self.customer.height):
            raise RuntimeError(f"the video is {result.width}×{result.height}")
        return (
            f"session.rcrec ({recording.stat().st_size // 1024} KiB) → session.avi, "
            f"{result.duration:.1f} s, {result.encoded} of {result.frames} frames encoded"
        )


def run_headless(out: Path, data: Path) -> int:
    """The scripted session; returns the exit status (0 when every step held)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.png"), *out.glob("recordings/*"), out / "typed.txt"]:
        old.unlink(missing_ok=True)
    session = DemoSession(out, data)
    os.environ["DISPLAY"] = session.technician.display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtWidgets import QApplication

    from console.ui.style import STYLE_SHEET

    qt = QApplication.instance() or QApplication(["lifeline-demo"])
    qt.setStyleSheet(STYLE_SHEET)  # type: ignore[attr-defined]
    print(f"Lifeline demo: customer screen {session.customer.display}, "
          f"technician screen {session.technician.display}")  # fmt: skip
    try:
        summary = asyncio.run(session.run())
    finally:
        path = session.write_summary()  # first: whatever happens while closing
        session.close()
    passed = sum(s.ok for s in summary.steps)
    print(f"{passed} of {STEPS} steps held; summary in {path}, screenshots in {out}")
    return 0 if summary.ok else 1
