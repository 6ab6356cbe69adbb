"""Widget tests run on Qt's offscreen platform; the real program runs on Xvfb
(tests/applet/test_applet_program.py)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
