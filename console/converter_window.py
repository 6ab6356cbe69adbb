"""The converter's small window (``lifeline-converter`` with no arguments): drop
recordings on it or add them, pick the folder and the format, convert, with progress
per file, and open the folder when done. Conversions run on a worker thread, one file
at a time; the window only shows what the worker reports."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from common.errors import LifelineError
from common.recording import RecordingReader
from common.recording.export import export


class _Reports(QObject):
    progress = Signal(int, float)  # row, 0..1
    finished = Signal(int, str, bool)  # row, message, ok


class ConverterWindow(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("Lifeline converter"))
        self.setAcceptDrops(True)
        self.resize(760, 420)
        self.files: list[Path] = []
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([self.tr("Recording"), self.tr("Progress"),
                                              self.tr("Result")])  # fmt: skip
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.hint = QLabel(self.tr("Drop .rcrec recordings here, or add them."))
        self.hint.setObjectName("hint")
        self.add = QPushButton(self.tr("Add recordings…"))
        self.folder = QLineEdit()
        self.folder.setPlaceholderText(self.tr("next to each recording"))
        self.browse = QPushButton(self.tr("Folder…"))
        self.container = QComboBox()
        self.container.addItem("AVI", "avi")
        self.container.addItem("MP4", "mp4")
        self.codec = QComboBox()
        self.codec.addItem(self.tr("H.264 (small)"), "h264")
        self.codec.addItem(self.tr("MJPEG (plays anywhere)"), "mjpeg")
        self.convert = QPushButton(self.tr("Convert"))
        self.convert.setObjectName("primary")
        self.convert.setEnabled(False)
        self.open_folder = QPushButton(self.tr("Open folder"))
        self.open_folder.hide()
        options = QHBoxLayout()
        for widget in (QLabel(self.tr("Save in")), self.folder, self.browse, self.container,
                       self.codec):  # fmt: skip
            options.addWidget(widget, 1 if widget is self.folder else 0)
        actions = QHBoxLayout()
        actions.addWidget(self.add)
        actions.addStretch(1)
        actions.addWidget(self.open_folder)
        actions.addWidget(self.convert)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(options)
        layout.addLayout(actions)
        self._reports = _Reports()
        self._worker = concurrent.futures.ThreadPoolExecutor(1, "lifeline-convert")
        self._pending = 0
        self.outputs: list[Path] = []
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.add.clicked.connect(self._choose_files)
        self.browse.clicked.connect(self._choose_folder)
        self.convert.clicked.connect(self.start)
        self.open_folder.clicked.connect(self._open_folder)
        self._reports.progress.connect(self._progress, Qt.ConnectionType.QueuedConnection)
        self._reports.finished.connect(self._finished, Qt.ConnectionType.QueuedConnection)

    # ---- choosing files ------------------------------------------------------------

    def add_files(self, paths: list[Path]) -> None:
        for path in paths:
            if path in self.files or path.suffix.lower() != ".rcrec":
                continue
            self.files.append(path)
            row = self.table.rowCount()
            self.table.insertRow(row)
            name = QTableWidgetItem(path.name)
            name.setToolTip(str(path))
            self.table.setItem(row, 0, name)
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setValue(0)
            self.table.setCellWidget(row, 1, bar)
            self.table.setItem(row, 2, QTableWidgetItem(self.tr("Waiting")))
        self.convert.setEnabled(bool(self.files) and self._pending == 0)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        self.add_files([Path(u.toLocalFile()) for u in urls if u.isLocalFile()])
        event.acceptProposedAction()

    def _choose_files(self) -> None:
        chosen, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Add recordings"), "", self.tr("Lifeline recordings (*.rcrec)")
        )
        self.add_files([Path(c) for c in chosen])

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Save the videos in"))
        if chosen:
            self.folder.setText(chosen)

    # ---- converting ----------------------------------------------------------------

    def start(self) -> None:
        self.convert.setEnabled(False)
        self.open_folder.hide()
        self.outputs = []
        container, codec = str(self.container.currentData()), str(self.codec.currentData())
        folder = Path(self.folder.text()) if self.folder.text().strip() else None
        for row, source in enumerate(self.files):
            self._pending += 1
            target = (folder or source.parent) / source.with_suffix("." + container).name
            self._result(row).setText(self.tr("Queued"))
            self._worker.submit(self._convert, row, source, target, codec)

    def _convert(self, row: int, source: Path, target: Path, codec: str) -> None:
        partial = target.with_name(f".{target.stem}.converting{target.suffix}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as file:
                result = export(
                    RecordingReader(file),
                    partial,
                    codec=codec,
                    progress=lambda done: self._reports.progress.emit(row, done),
                )
            partial.replace(target)
            note = "" if result.complete else " " + self.tr("(the recording stops early)")
            self._reports.finished.emit(row, f"{target.name}, {result.duration:.0f} s{note}", True)
            self.outputs.append(target)
        except (LifelineError, ValueError, OSError) as exc:
            self._reports.finished.emit(row, str(exc), False)
        finally:
            partial.unlink(missing_ok=True)

    def _progress(self, row: int, done: float) -> None:
        bar = self.table.cellWidget(row, 1)
        if isinstance(bar, QProgressBar):
            bar.setValue(int(done * 100))

    def _finished(self, row: int, message: str, ok: bool) -> None:
        self._pending -= 1
        item = self._result(row)
        item.setText(message if ok else self.tr("Failed: {why}").format(why=message))
        item.setForeground(Qt.GlobalColor.darkGreen if ok else Qt.GlobalColor.darkRed)
        if ok:
            self._progress(row, 1.0)
        if self._pending == 0:
            self.convert.setEnabled(True)
            self.open_folder.setVisible(bool(self.outputs))

    def _result(self, row: int) -> QTableWidgetItem:
        item = self.table.item(row, 2)
        assert item is not None  # every row is made with its three cells
        return item

    def _open_folder(self) -> None:
        if self.outputs:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.outputs[-1].parent)))

    def closeEvent(self, event: object) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
        super().closeEvent(event)  # type: ignore[arg-type]
