"""A real window with one button on the applet's display: clicking it writes a file.
Run as ``python button_window.py OUT`` with DISPLAY set (Qt's xcb platform)."""

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QPushButton

app = QApplication(sys.argv[:1])
button = QPushButton("Press me")
button.setGeometry(100, 100, 240, 120)
button.clicked.connect(lambda: Path(sys.argv[1]).write_text("pressed"))
button.show()
sys.exit(app.exec())
