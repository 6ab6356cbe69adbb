"""One look for every applet window: calm, large enough to read, one accent colour."""

from __future__ import annotations

ACCENT = "#1565c0"
DANGER = "#c62828"

STYLE_SHEET = f"""
QWidget {{ font-size: 11pt; }}
QLabel#title {{ font-size: 15pt; font-weight: 600; }}
QLabel#hint {{ color: #555555; }}
QLabel#error {{ color: {DANGER}; }}
QLabel#publisher {{ color: #2e7d32; font-size: 9pt; }}
QLabel#recorded {{ color: {DANGER}; font-weight: 600; }}
QLabel#sas {{
    font-size: 20pt; font-weight: 700; letter-spacing: 3px; color: {ACCENT};
}}
QFrame#panel {{
    background: #f4f6f8; border: 1px solid #d9dee3; border-radius: 6px;
}}
QLineEdit#code {{
    font-size: 20pt; letter-spacing: 2px; padding: 6px;
}}
QPushButton {{ padding: 6px 14px; }}
QPushButton#primary {{
    background: {ACCENT}; color: white; border: none; border-radius: 4px; font-weight: 600;
}}
QPushButton#primary:disabled {{ background: #9fb7d6; }}
QPushButton#danger {{
    background: {DANGER}; color: white; border: none; border-radius: 4px; font-weight: 600;
}}
"""
