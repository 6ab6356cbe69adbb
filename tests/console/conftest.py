"""Console tests run against a real applet on its own real X display; the console's own
widgets run on Qt's offscreen platform."""

import os

from tests.applet.conftest import display
from tests.console.scripted_applet import scripted

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

__all__ = ["display", "scripted"]
