"""The frozen applet's entry point.

The one-file applet shows PyInstaller's splash (``assets/splash.png``) while it unpacks;
the splash closes as Qt's event loop starts, when the applet's first window is on
screen, so the person never looks at an empty desktop.
"""

import importlib
import sys


def _close_splash_with_the_first_window() -> None:
    try:
        pyi_splash = importlib.import_module("pyi_splash")  # only in a build with a splash
    except Exception:  # no splash in this build, or no display for it: nothing to close
        return
    from PySide6 import QtWidgets
    from PySide6.QtCore import QTimer

    class Application(QtWidgets.QApplication):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)
            # A zero timer fires once the event loop runs: the first window is shown.
            QTimer.singleShot(0, pyi_splash.close)

    # applet.main imports QApplication when it starts Qt, so it gets this one.
    QtWidgets.QApplication = Application  # type: ignore[assignment, misc]


if __name__ == "__main__":
    _close_splash_with_the_first_window()
    from applet.main import main

    sys.exit(main())
