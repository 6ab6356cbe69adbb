"""The demo on a real desktop: the broker on its own thread, the console signed in as
the demo technician with a fresh code, and the applet started with that code on the
same screen. The console asks to see the screen at once; the person clicks Allow in the
applet's prompt and sees their own desktop in the console. Closing the console ends it
all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from broker.app import start_broker
from broker.config import BrokerConfig
from console.loop_thread import LoopThread


def run_live(data: Path) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from console.app import ConsoleApp
    from console.demo import DEMO_EMAIL, DEMO_PASSWORD, prepare
    from console.settings import ConsoleSettings
    from console.ui.style import STYLE_SHEET

    prepare(data)
    broker_thread = LoopThread()
    broker = broker_thread.submit(start_broker(BrokerConfig(data_dir=data, port=0))).result(30)
    print(f"Lifeline broker on {broker.url}; demo technician {DEMO_EMAIL} / {DEMO_PASSWORD}")
    qt = QApplication(sys.argv[:1])
    qt.setApplicationName("Lifeline Console (demo)")
    qt.setStyleSheet(STYLE_SHEET)
    settings = ConsoleSettings(broker.url, DEMO_EMAIL, str(broker.certs.ca_fingerprint))
    settings_path = data / "console-settings.json"  # the demo never touches yours
    app = ConsoleApp(settings, settings_path=settings_path)
    applet: list[subprocess.Popen[bytes]] = []
    home = Path(tempfile.mkdtemp(prefix="lifeline-demo-applet-"))

    asked: list[bool] = []

    def signed_in() -> None:
        if app.home is not None and not asked:
            asked.append(True)
            app.home.start.click()

    def code_ready() -> None:
        if applet or app.home is None or not app.home.cards:
            return
        code = next(iter(app.home.cards.values())).code.text()
        print(f"Starting the applet with code {code}: allow the view in its prompt.")
        applet.append(
            subprocess.Popen(
                [sys.executable, "-m", "applet.main", "--broker", broker.url,
                 "--ca-file", str(broker.certs.ca_file), "--code", code],
                env={**os.environ, "TMPDIR": str(home)},
            )
        )  # fmt: skip

    def session_opened(host: Any) -> None:
        host.tab.buttons["view_screen"].click()

    app.session_opened.connect(session_opened)
    poll = QTimer()  # the login and the code arrive asynchronously; look now and then
    poll.timeout.connect(signed_in)
    poll.timeout.connect(code_ready)
    poll.start(200)

    def stop(*_: object) -> None:
        # A logout or Ctrl+C: end the sessions without the "quit?" question, then quit.
        app.shutdown()
        qt.quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    qt.aboutToQuit.connect(app.shutdown)
    app.start()
    app.login_window.password.setText(DEMO_PASSWORD)
    app.login_window.button.click()
    try:
        return qt.exec()
    finally:
        for process in applet:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        broker_thread.submit(broker.stop()).result(30)
        broker_thread.stop()
