"""``lifeline-applet``: the program a person runs to let a technician help them.

Exit status: 0 when the session ended (either side) or the person closed the window;
2 when the applet could not start (bad arguments, no server configured).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from common.errors import LifelineError

if TYPE_CHECKING:
    from applet.launch import LaunchSettings


@contextlib.contextmanager
def private_scratch() -> Iterator[None]:
    """Whatever Qt and fontconfig would cache or create goes into one private folder
    that is deleted on exit: the applet leaves nothing behind on the person's computer."""
    scratch = tempfile.mkdtemp(prefix="lifeline-applet-")
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "XDG_RUNTIME_DIR")}
    os.environ["XDG_CACHE_HOME"] = os.path.join(scratch, "cache")
    os.environ["XDG_RUNTIME_DIR"] = scratch
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from applet import launch

    try:
        settings: launch.LaunchSettings | None = launch.settings(argv)
        problem = ""
    except LifelineError as exc:
        settings, problem = None, str(exc)
    with private_scratch():
        return _run_windows(settings, problem)


def _run_windows(settings: LaunchSettings | None, problem: str) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from applet.ui import translation
    from applet.ui.shell import AppletShell
    from applet.ui.style import STYLE_SHEET

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Lifeline")
    app.setQuitOnLastWindowClosed(False)
    translation.install(app, settings.lang if settings else None)
    app.setStyleSheet(STYLE_SHEET)
    if settings is None:
        QMessageBox.critical(None, "Lifeline", problem)
        app.shutdown()
        return 2
    shell = AppletShell(settings)
    shell.finished.connect(app.exit)
    # Ctrl+C or a logout's SIGTERM ends the session properly, like End session.
    end = shell.session_window.end_requested.emit
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: end())
    # Python runs signal handlers only when it gets control back from Qt's loop.
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    shell.start()
    status = app.exec()
    shell.run.join(10)
    # Windows go before the application object, and both before the scratch folder.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    shell.close_windows()
    del shell
    app.shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())
