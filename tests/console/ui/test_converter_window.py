"""The converter's window: recordings dropped on it convert with progress per file, a
bad one says why, and the folder can be opened when done."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from console.converter_window import ConverterWindow
from tests.console.test_converter import probe, write_recording


def test_dropped_recordings_convert_with_progress(qtbot: QtBot, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.rcrec", tmp_path / "bad.rcrec"
    write_recording(good)
    bad.write_bytes(b"not a recording at all")
    (tmp_path / "notes.txt").write_text("ignored")
    window = ConverterWindow()
    qtbot.addWidget(window)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in (good, bad, tmp_path / "notes.txt")])
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, data,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dropEvent(drop)
    assert window.files == [good, bad] and window.convert.isEnabled()
    window.folder.setText(str(tmp_path / "videos"))
    window.container.setCurrentIndex(window.container.findData("mp4"))
    window.convert.click()
    qtbot.waitUntil(lambda: window.convert.isEnabled(), timeout=30_000)
    results = [window._result(row).text() for row in range(2)]
    assert results[0].startswith("good.mp4, 2 s")
    assert results[1] == "Failed: This file is not a Lifeline recording (RCREC)."
    assert window.table.cellWidget(0, 1).value() == 100  # type: ignore[union-attr]
    assert window.open_folder.isVisible() or not window.open_folder.isHidden()
    assert sorted(p.name for p in (tmp_path / "videos").iterdir()) == ["good.mp4"]
    assert "mp4" in probe(tmp_path / "videos" / "good.mp4")["format"]["format_name"]
