"""Where recordings go, in which format, and the key that encrypts them at rest."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from console.recorder import default_folder
from console.settings import ConsoleSettings


class RecordingSettingsDialog(QDialog):
    def __init__(self, settings: ConsoleSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Recordings"))
        self.setMinimumWidth(560)
        self.folder = QLineEdit(settings.recording_folder)
        self.folder.setPlaceholderText(str(default_folder()))
        self.format = QComboBox()
        self.format.addItem(self.tr("RCREC: compact, convert to video later"), "rcrec")
        self.format.addItem(self.tr("AVI: a video, made when the recording stops"), "avi")
        self.format.setCurrentIndex(max(0, self.format.findData(settings.recording_format)))
        self.key_file = QLineEdit(settings.recording_key_file)
        self.key_file.setPlaceholderText(self.tr("none: recordings are not encrypted"))
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.hide()
        form = QFormLayout(self)
        form.addRow(self.tr("Folder"), self._with_browse(self.folder, self._browse_folder))
        form.addRow(self.tr("Format"), self.format)
        form.addRow(self.tr("Key file"), self._with_browse(self.key_file, self._browse_key))
        hint = QLabel(
            self.tr(
                "A key file (32 random bytes) encrypts RCREC recordings at rest; keep it "
                "safe, as the converter needs it to read them."
            )
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        form.addRow(hint)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.settings = settings

    def _with_browse(self, field: QLineEdit, browse: Callable[[], None]) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(field, 1)
        button = QPushButton(self.tr("Browse…"))
        button.clicked.connect(browse)
        layout.addWidget(button)
        return row

    def _browse_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Recordings folder"))
        if chosen:
            self.folder.setText(chosen)

    def _browse_key(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, self.tr("Recording key file"))
        if chosen:
            self.key_file.setText(chosen)

    def _save(self) -> None:
        candidate = ConsoleSettings(
            recording_folder=self.folder.text().strip(),
            recording_format=str(self.format.currentData()),
            recording_key_file=self.key_file.text().strip(),
        )
        try:
            candidate.read_recording_key()
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.settings.recording_folder = candidate.recording_folder
        self.settings.recording_format = candidate.recording_format
        self.settings.recording_key_file = candidate.recording_key_file
        self.accept()
