"""Console tests run against a real applet on its own real X display; the console's own
widgets run on Qt's offscreen platform."""

import os

from tests.applet.conftest import display

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

__all__ = ["display"]
