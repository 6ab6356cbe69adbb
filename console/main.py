"""``lifeline-console``: the technician's program.

    lifeline-console [--broker URL] [--ca-fingerprint SHA256] [--email ADDRESS]

Options fill in the sign-in window (and override what it remembers).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from console.settings import ConsoleSettings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifeline-console", description="Lifeline's technician console."
    )
    parser.add_argument("--broker", help="the Lifeline server, e.g. https://support.example.com")
    parser.add_argument("--ca-fingerprint", help="SHA-256 fingerprint of a self-hosted server's CA")
    parser.add_argument("--email", help="your e-mail address")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    settings = ConsoleSettings.load()
    settings.broker_url = args.broker or settings.broker_url
    settings.ca_fingerprint = args.ca_fingerprint or settings.ca_fingerprint
    settings.email = args.email or settings.email

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from console.app import ConsoleApp
    from console.ui.style import STYLE_SHEET

    qt = QApplication(sys.argv[:1])
    qt.setApplicationName("Lifeline Console")
    qt.setStyleSheet(STYLE_SHEET)
    app = ConsoleApp(settings)

    def stop(*_: object) -> None:
        # A logout or Ctrl+C: end the sessions without the "quit?" question, then quit.
        app.shutdown()
        qt.quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    tick = QTimer()  # hands control back to Python now and then, so signals are seen
    tick.start(200)
    tick.timeout.connect(lambda: None)
    qt.aboutToQuit.connect(app.shutdown)
    app.start()  # closing the last window (sign-in or main) quits
    return qt.exec()


if __name__ == "__main__":
    sys.exit(main())
