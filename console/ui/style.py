"""One look for the console's windows: the applet's accent, denser for a working day."""

from __future__ import annotations

ACCENT = "#1565c0"
DANGER = "#c62828"

STYLE_SHEET = f"""
QWidget {{ font-size: 10pt; }}
QLabel#title {{ font-size: 15pt; font-weight: 600; }}
QLabel#hint {{ color: #555555; }}
QLabel#error {{ color: {DANGER}; }}
QLabel#code {{ font-size: 22pt; font-weight: 700; letter-spacing: 2px; color: {ACCENT}; }}
QLabel#sas {{ font-size: 13pt; font-weight: 700; color: {ACCENT}; }}
QLabel#stats {{ color: #555555; font-family: monospace; }}
QFrame#panel {{
    background: #f4f6f8; border: 1px solid #d9dee3; border-radius: 6px;
}}
QPushButton {{ padding: 5px 12px; }}
QPushButton#primary {{
    background: {ACCENT}; color: white; border: none; border-radius: 4px; font-weight: 600;
}}
QPushButton#primary:disabled {{ background: #9fb7d6; }}
QPushButton:checked, QToolButton:checked {{
    background: #dbe7f6; border: 1px solid {ACCENT}; border-radius: 4px; color: {ACCENT};
}}
QPushButton#record:checked {{ background: #fdecea; border-color: {DANGER}; color: {DANGER}; }}
QPushButton#danger {{
    background: {DANGER}; color: white; border: none; border-radius: 4px; font-weight: 600;
}}
QPushButton#danger:disabled {{ background: #e3b4b4; }}
QLineEdit:disabled {{ background: #eeeeee; color: #888888; }}
"""
