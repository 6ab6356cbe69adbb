"""Draws Lifeline's mark and writes every icon file the installers use.

    python assets/make_icons.py

The mark is a lifebuoy: a white ring with four red bands, outlined in slate, on a
transparent background. ``lifeline.svg`` is the source; the PNGs (16 to 1024 pixels),
``lifeline.ico`` (Windows: PNG-compressed entries, Vista and later), ``lifeline.icns``
(macOS) and ``splash.png`` (shown while the one-file applet unpacks) are rendered from
it with Qt's SVG renderer, so the files in this folder are reproducible. Run it again
after changing the drawing and commit what it writes.
"""

from __future__ import annotations

import math
import os
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RED = "#d7263d"
WHITE = "#ffffff"
SLATE = "#263645"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS element types for PNG data, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}
ICNS_RETINA_1024 = b"ic10"


def _band(cx: float, cy: float, r_out: float, r_in: float, a0: float, a1: float) -> str:
    """An annular sector from angle ``a0`` to ``a1`` (degrees, clockwise from 3 o'clock)."""

    def at(r: float, a: float) -> str:
        t = math.radians(a)
        return f"{cx + r * math.cos(t):.2f},{cy + r * math.sin(t):.2f}"

    return (
        f"M{at(r_out, a0)} A{r_out},{r_out} 0 0 1 {at(r_out, a1)} "
        f"L{at(r_in, a1)} A{r_in},{r_in} 0 0 0 {at(r_in, a0)} Z"
    )


def svg() -> str:
    cx = cy = 128.0
    r_out, r_in = 112.0, 58.0
    bands = "\n".join(
        f'  <path d="{_band(cx, cy, r_out, r_in, a - 22.5, a + 22.5)}" fill="{RED}"/>'
        for a in (45, 135, 225, 315)
    )
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256"
     viewBox="0 0 256 256">
  <title>Lifeline</title>
  <circle cx="{cx:g}" cy="{cy:g}" r="{(r_out + r_in) / 2:g}" fill="none" stroke="{WHITE}"
          stroke-width="{r_out - r_in:g}"/>
{bands}
  <circle cx="{cx:g}" cy="{cy:g}" r="{r_out:g}" fill="none" stroke="{SLATE}" stroke-width="9"/>
  <circle cx="{cx:g}" cy="{cy:g}" r="{r_in:g}" fill="none" stroke="{SLATE}" stroke-width="9"/>
</svg>
"""


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows icon holding PNG images (each entry's width/height byte 0 means 256)."""
    sizes = [s for s in ICO_SIZES if s in pngs]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        entries += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS icon family holding PNG images."""
    body = b""
    for size, kind in ICNS_TYPES.items():
        body += kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
    body += ICNS_RETINA_1024 + struct.pack(">I", 8 + len(pngs[1024])) + pngs[1024]
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication(sys.argv[:1])
    source = svg()
    (HERE / "lifeline.svg").write_text(source)
    renderer = QSvgRenderer(QByteArray(source.encode()))

    def render(size: int) -> QImage:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        return image

    def png_bytes(image: QImage) -> bytes:
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # PySide takes str
        return bytes(buffer.data().data())

    pngs = {size: png_bytes(render(size)) for size in PNG_SIZES}
    for size in PNG_SIZES:
        if size <= 512:
            (HERE / f"lifeline-{size}.png").write_bytes(pngs[size])
    (HERE / "lifeline.ico").write_bytes(ico(pngs))
    (HERE / "lifeline.icns").write_bytes(icns(pngs))

    # The splash: the mark and the name on white, no transparency (Windows keys out
    # magenta for it, and Tk's X11 splash has none).
    splash = QImage(360, 150, QImage.Format.Format_RGB32)
    splash.fill(QColor(WHITE))
    painter = QPainter(splash)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(24, 27, 96, 96))
    painter.setPen(QColor(SLATE))
    font = QFont("DejaVu Sans")
    font.setPixelSize(30)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRectF(140, 40, 210, 40), Qt.AlignmentFlag.AlignLeft, "Lifeline")
    font.setPixelSize(15)
    font.setBold(False)
    painter.setFont(font)
    painter.drawText(QRectF(141, 82, 210, 24), Qt.AlignmentFlag.AlignLeft, "Remote support")
    painter.setPen(QColor(RED))
    painter.drawLine(140, 116, 330, 116)
    painter.end()
    (HERE / "splash.png").write_bytes(png_bytes(splash))
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
