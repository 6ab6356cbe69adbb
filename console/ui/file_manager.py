"""The file manager of one session tab: the technician's files on the left, the
customer's on the right, the transfers below.

It only shows what :class:`~console.remote_files.RemoteFiles` reports and emits the
technician's intents; the session host runs them on the session's loop. The local pane
works on the technician's own disk directly (Qt's file system model).
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QDir, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileSystemModel,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.file_reports import (
    FileProblem,
    RemoteEntry,
    RemoteFolder,
    RemoteRoots,
    TransferState,
    TransferStatus,
)
from console.ui.file_panes import LocalPane, RemotePane, SortItem, human_size, human_time

_KIND_LABELS = {"folder": "Folder", "file": "File", "link": "Link", "other": "Other"}
_STATE_LABELS = {
    TransferState.QUEUED: "Waiting",
    TransferState.RUNNING: "",
    TransferState.DONE: "Done",
    TransferState.FAILED: "Failed",
    TransferState.CANCELLED: "Cancelled",
}


class FileManager(QWidget):
    """Intents: the session host runs each on the session's loop."""

    browse = Signal(str, list)
    #: root, path of the file or folder, its kind ("file"/"folder"), size, local folder.
    download = Signal(str, list, str, int, str)
    #: local paths, root, path of the destination folder.
    upload = Signal(list, str, list)
    make_folder = Signal(str, list, str)
    rename = Signal(str, list, str, str)
    delete = Signal(str, list, str)
    cancel = Signal(int)
    retry = Signal(int)

    def __init__(self, customer: str, local_folder: Path | None = None) -> None:
        super().__init__()
        self.customer = customer
        self.folder: RemoteFolder | None = None
        self._roots: RemoteRoots | None = None
        self._rows: dict[int, QTreeWidgetItem] = {}
        self._statuses: dict[int, TransferStatus] = {}

        # The technician's side.
        self.local_model = QFileSystemModel(self)
        self.local_model.setFilter(
            QDir.Filter.AllEntries | QDir.Filter.NoDotAndDotDot | QDir.Filter.AllDirs
        )
        self.local_model.setReadOnly(False)
        self.local_model.setRootPath(QDir.rootPath())
        self.local = LocalPane()
        self.local.setModel(self.local_model)
        self.local.setRootIsDecorated(False)
        self.local.setItemsExpandable(False)
        self.local.setSortingEnabled(True)
        self.local.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.local.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.local.setDragEnabled(True)
        self.local.setAcceptDrops(True)
        self.local.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        header = self.local.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.local.hideColumn(2)  # the type: the name says it
        self.local_path = QLineEdit()
        self.local_path.setToolTip(self.tr("A folder on your computer; press Enter to go there"))
        self.local_up = QPushButton("↑")
        self.local_up.setToolTip(self.tr("Up one folder"))
        self.local_new = QPushButton(self.tr("New folder"))
        self.local_rename = QPushButton(self.tr("Rename"))
        self.local_delete = QPushButton(self.tr("Delete"))

        # The customer's side.
        self.remote = RemotePane()
        self.roots = QComboBox()
        self.roots.setToolTip(self.tr("Where to start on the customer's computer"))
        self.remote_path = QLineEdit()
        self.remote_path.setReadOnly(True)
        self.remote_up = QPushButton("↑")
        self.remote_up.setToolTip(self.tr("Up one folder"))
        self.remote_refresh = QPushButton(self.tr("Refresh"))
        self.remote_new = QPushButton(self.tr("New folder"))
        self.remote_rename = QPushButton(self.tr("Rename"))
        self.remote_delete = QPushButton(self.tr("Delete"))

        self.upload_button = QPushButton(self.tr("Upload →"))
        self.upload_button.setToolTip(self.tr("Send the selected files to the customer's folder"))
        self.download_button = QPushButton(self.tr("← Download"))
        self.download_button.setToolTip(self.tr("Copy the customer's selected files to yours"))
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setStyleSheet("color: #c62828;")
        self.problem.setWordWrap(True)

        self.transfers = QTreeWidget()
        self.transfers.setHeaderLabels(
            [self.tr("File"), self.tr("Direction"), self.tr("Progress"), self.tr("Speed"),
             self.tr("Time left"), self.tr("State")]
        )  # fmt: skip
        self.transfers.setRootIsDecorated(False)
        self.transfers.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.transfers.setColumnWidth(1, 140)
        self.transfers.setColumnWidth(2, 170)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.retry_button = QPushButton(self.tr("Retry"))
        self.clear_button = QPushButton(self.tr("Clear finished"))

        self._lay_out()
        self._connect_signals()
        self.go_local(local_folder or Path.home())
        self._update_buttons()

    def _lay_out(self) -> None:
        local_bar = QHBoxLayout()
        local_bar.addWidget(QLabel(self.tr("<b>Your computer</b>")))
        local_bar.addWidget(self.local_path, 1)
        local_bar.addWidget(self.local_up)
        local_tools = QHBoxLayout()
        for button in (self.local_new, self.local_rename, self.local_delete):
            local_tools.addWidget(button)
        local_tools.addStretch(1)
        local_tools.addWidget(self.upload_button)
        left = _column(local_bar, self.local, local_tools)

        remote_bar = QHBoxLayout()
        remote_bar.addWidget(
            QLabel(self.tr("<b>{customer}'s computer</b>").format(customer=self.customer))
        )
        remote_bar.addWidget(self.roots)
        remote_bar.addWidget(self.remote_path, 1)
        remote_bar.addWidget(self.remote_up)
        remote_bar.addWidget(self.remote_refresh)
        remote_tools = QHBoxLayout()
        remote_tools.addWidget(self.download_button)
        remote_tools.addStretch(1)
        for button in (self.remote_new, self.remote_rename, self.remote_delete):
            remote_tools.addWidget(button)
        right = _column(remote_bar, self.remote, remote_tools)

        panes = QSplitter()
        panes.addWidget(left)
        panes.addWidget(right)
        transfer_tools = QHBoxLayout()
        transfer_tools.addWidget(QLabel(self.tr("<b>Transfers</b>")))
        transfer_tools.addStretch(1)
        for button in (self.cancel_button, self.retry_button, self.clear_button):
            transfer_tools.addWidget(button)
        bottom = _column(transfer_tools, self.transfers)
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(panes)
        vertical.addWidget(bottom)
        vertical.setStretchFactor(0, 3)
        vertical.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(vertical, 1)
        layout.addWidget(self.problem)

    def _connect_signals(self) -> None:
        self.local.doubleClicked.connect(self._local_activated)
        self.local_path.returnPressed.connect(lambda: self.go_local(Path(self.local_path.text())))
        self.local_up.clicked.connect(lambda: self.go_local(self.local_folder.parent))
        self.local_new.clicked.connect(self._local_new)
        self.local_rename.clicked.connect(self._local_rename)
        self.local_delete.clicked.connect(self._local_delete)
        self.local.dropped_remote.connect(self._download_names)
        self.local.selectionModel().selectionChanged.connect(self._update_buttons)
        self.remote.itemDoubleClicked.connect(self._remote_activated)
        self.remote.itemSelectionChanged.connect(self._update_buttons)
        self.remote.dropped_local.connect(self._upload_paths)
        self.roots.activated.connect(self._root_chosen)
        self.remote_up.clicked.connect(self._remote_up)
        self.remote_refresh.clicked.connect(self.refresh)
        self.remote_new.clicked.connect(self._remote_new)
        self.remote_rename.clicked.connect(self._remote_rename)
        self.remote_delete.clicked.connect(self._remote_delete)
        self.upload_button.clicked.connect(self._upload_selected)
        self.download_button.clicked.connect(self._download_selected)
        self.transfers.itemSelectionChanged.connect(self._update_buttons)
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.retry_button.clicked.connect(self._retry_selected)
        self.clear_button.clicked.connect(self._clear_finished)

    # ---- what the session reports --------------------------------------------------

    def show_event(self, event: RemoteRoots | RemoteFolder | TransferStatus | FileProblem) -> None:
        if isinstance(event, RemoteRoots):
            self._roots = event
            self.roots.clear()
            for root in event.roots:
                self.roots.addItem(root.label, (root.root, list(root.path)))
        elif isinstance(event, RemoteFolder):
            self._show_folder(event)
        elif isinstance(event, TransferStatus):
            self._show_transfer(event)
        elif isinstance(event, FileProblem):
            self.problem.setText(event.text)

    def _show_folder(self, folder: RemoteFolder) -> None:
        self.folder = folder
        self.problem.clear()
        self.remote_path.setText(folder.display())
        self.remote_path.setCursorPosition(0)
        self._pick_root(folder)
        self.remote.setSortingEnabled(False)
        self.remote.clear()
        for entry in folder.entries:
            self.remote.addTopLevelItem(self._entry_item(entry))
        self.remote.setSortingEnabled(True)
        notes = []
        if folder.truncated:
            notes.append(
                self.tr("Only the first {n} entries are shown.").format(n=len(folder.entries))
            )
        if folder.hidden:
            notes.append(
                self.tr("{n} entries with names that cannot be used safely are not shown.").format(
                    n=folder.hidden
                )
            )
        if notes:
            self.problem.setText(" ".join(notes))
        self._update_buttons()

    def _pick_root(self, folder: RemoteFolder) -> None:
        """The root choice that holds ``folder`` (the deepest one), so the picker says
        where we are."""
        best, depth = -1, -1
        for row in range(self.roots.count()):
            root, path = self.roots.itemData(row)
            if (
                root == folder.root
                and tuple(path) == folder.path[: len(path)]
                and len(path) > depth
            ):
                best, depth = row, len(path)
        if best >= 0:
            self.roots.setCurrentIndex(best)

    def _entry_item(self, entry: RemoteEntry) -> QTreeWidgetItem:
        is_folder = entry.kind == "folder"
        size = "" if is_folder else human_size(entry.size)
        when = (
            time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.mtime)) if entry.mtime > 0 else ""
        )
        item = SortItem([entry.name, size, when, self.tr(_KIND_LABELS[entry.kind])])
        item.setToolTip(0, entry.name)
        icon = {"folder": QStyle.StandardPixmap.SP_DirIcon,
                "link": QStyle.StandardPixmap.SP_FileLinkIcon}.get(
            entry.kind, QStyle.StandardPixmap.SP_FileIcon)  # fmt: skip
        item.setIcon(0, self.style().standardIcon(icon))
        item.setData(0, Qt.ItemDataRole.UserRole, entry)
        item.setData(0, Qt.ItemDataRole.UserRole + 1, (not is_folder, entry.name.casefold()))
        item.setData(1, Qt.ItemDataRole.UserRole + 1, (not is_folder, entry.size))
        item.setData(2, Qt.ItemDataRole.UserRole + 1, (not is_folder, entry.mtime))
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    def _show_transfer(self, status: TransferStatus) -> None:
        self._statuses[status.number] = status
        item = self._rows.get(status.number)
        if item is None:
            arrow = (
                self.tr("↓ from customer")
                if status.direction == "download"
                else self.tr("↑ to customer")
            )
            item = QTreeWidgetItem([status.name, arrow, "", "", "", ""])
            item.setToolTip(0, f"{status.remote}\n{status.local}")
            self._rows[status.number] = item
            self.transfers.addTopLevelItem(item)
            progress = QProgressBar()
            progress.setRange(0, 1000)
            progress.setTextVisible(True)
            self.transfers.setItemWidget(item, 2, progress)
        bar = self.transfers.itemWidget(item, 2)
        assert isinstance(bar, QProgressBar)
        fraction = (
            status.done / status.size
            if status.size
            else (1.0 if status.state == TransferState.DONE else 0.0)
        )
        bar.setValue(int(fraction * 1000))
        bar.setFormat(f"{human_size(status.done)} / {human_size(status.size)}")
        item.setText(3, f"{human_size(status.speed)}/s" if status.speed else "")
        left = status.seconds_left
        item.setText(4, human_time(left) if left is not None else "")
        state = self.tr(_STATE_LABELS[status.state])
        if status.state == TransferState.RUNNING:
            state = self.tr("Resumed") if status.resumed_from else self.tr("Moving")
        if status.error:
            state = f"{state}: {status.error}"
            item.setToolTip(5, status.error)
        item.setText(5, state)
        colour = {"done": "#1b5e20", "failed": "#c62828", "cancelled": "#555555"}.get(status.state)
        item.setForeground(5, QColor(colour or "#202124"))
        if (
            status.direction == "upload"
            and status.finished
            and not any(s.direction == "upload" and not s.finished for s in self._statuses.values())
        ):
            self.refresh()  # the last upload of a batch ended: show what arrived
        self._update_buttons()

    # ---- navigation ----------------------------------------------------------------

    @property
    def local_folder(self) -> Path:
        return Path(self.local_model.filePath(self.local.rootIndex()) or QDir.homePath())

    def go_local(self, folder: Path) -> None:
        if not folder.is_dir():
            self.problem.setText(self.tr("{folder} is not a folder.").format(folder=str(folder)))
            return
        index = self.local_model.index(str(folder))
        self.local.setRootIndex(index)
        self.local_path.setText(str(folder))

    def _local_activated(self, index: QModelIndex) -> None:
        path = Path(self.local_model.filePath(index))
        if path.is_dir():
            self.go_local(path)

    def _remote_activated(self, item: QTreeWidgetItem) -> None:
        entry = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(entry, RemoteEntry) and entry.kind == "folder" and self.folder is not None:
            self.browse.emit(self.folder.root, [*self.folder.path, entry.name])
        elif isinstance(entry, RemoteEntry) and entry.kind == "file":
            self._download_entries([entry])

    def _root_chosen(self, row: int) -> None:
        root, path = self.roots.itemData(row)
        self.browse.emit(root, path)

    def _remote_up(self) -> None:
        if self.folder is not None and self.folder.path:
            self.browse.emit(self.folder.root, list(self.folder.path[:-1]))

    def refresh(self) -> None:
        if self.folder is not None:
            self.browse.emit(self.folder.root, list(self.folder.path))

    # ---- transfers -----------------------------------------------------------------

    def _selected_local(self) -> list[Path]:
        rows = self.local.selectionModel().selectedRows(0)
        return [Path(self.local_model.filePath(index)) for index in rows]

    def _selected_remote(self) -> list[RemoteEntry]:
        entries = [item.data(0, Qt.ItemDataRole.UserRole) for item in self.remote.selectedItems()]
        return [e for e in entries if isinstance(e, RemoteEntry)]

    def _upload_selected(self) -> None:
        self._upload_paths(self._selected_local())

    def _upload_paths(self, paths: list[Path]) -> None:
        if self.folder is not None and paths:
            self.upload.emit([str(p) for p in paths], self.folder.root, list(self.folder.path))

    def _download_selected(self) -> None:
        self._download_entries(self._selected_remote())

    def _download_names(self, names: list[str]) -> None:
        if self.folder is None:
            return
        by_name = {e.name: e for e in self.folder.entries}
        self._download_entries([by_name[n] for n in names if n in by_name])

    def _download_entries(self, entries: list[RemoteEntry]) -> None:
        if self.folder is None:
            return
        for entry in entries:
            if entry.kind in ("file", "folder"):
                self.download.emit(
                    self.folder.root, [*self.folder.path, entry.name], entry.kind, entry.size,
                    str(self.local_folder),
                )  # fmt: skip

    def _selected_transfers(self) -> list[TransferStatus]:
        numbers = {n for n, item in self._rows.items() if item.isSelected()}
        return [self._statuses[n] for n in sorted(numbers)]

    def _cancel_selected(self) -> None:
        for status in self._selected_transfers():
            if not status.finished:
                self.cancel.emit(status.number)

    def _retry_selected(self) -> None:
        for status in self._selected_transfers():
            if status.state in (TransferState.FAILED, TransferState.CANCELLED):
                self.retry.emit(status.number)

    def _clear_finished(self) -> None:
        for number, status in list(self._statuses.items()):
            if status.finished:
                item = self._rows.pop(number)
                self.transfers.takeTopLevelItem(self.transfers.indexOfTopLevelItem(item))
                del self._statuses[number]
        self._update_buttons()

    # ---- changes -------------------------------------------------------------------

    def _remote_new(self) -> None:
        if self.folder is None:
            return
        name, ok = QInputDialog.getText(
            self, self.tr("New folder"), self.tr("Name of the new folder:")
        )
        if ok and name.strip():
            self.make_folder.emit(self.folder.root, list(self.folder.path), name.strip())

    def _remote_rename(self) -> None:
        entries = self._selected_remote()
        if self.folder is None or len(entries) != 1:
            return
        name, ok = QInputDialog.getText(
            self, self.tr("Rename"), self.tr("New name:"), text=entries[0].name
        )
        if ok and name.strip() and name.strip() != entries[0].name:
            self.rename.emit(
                self.folder.root, list(self.folder.path), entries[0].name, name.strip()
            )

    def _remote_delete(self) -> None:
        entries = self._selected_remote()
        if self.folder is None or not entries:
            return
        if self._confirm_delete(
            [e.name for e in entries],
            self.tr("on {customer}'s computer").format(customer=self.customer),
        ):
            for entry in entries:
                self.delete.emit(self.folder.root, list(self.folder.path), entry.name)

    def _local_new(self) -> None:
        name, ok = QInputDialog.getText(
            self, self.tr("New folder"), self.tr("Name of the new folder:")
        )
        if (
            ok
            and name.strip()
            and not self.local_model.mkdir(self.local.rootIndex(), name.strip()).isValid()
        ):
            self.problem.setText(self.tr("The folder could not be created."))

    def _local_rename(self) -> None:
        rows = self.local.selectionModel().selectedRows(0)
        if len(rows) == 1:
            self.local.edit(rows[0])

    def _local_delete(self) -> None:
        rows = self.local.selectionModel().selectedRows(0)
        names = [self.local_model.fileName(index) for index in rows]
        if rows and self._confirm_delete(names, self.tr("on your computer")):
            for index in sorted(rows, key=lambda i: i.row(), reverse=True):
                if not self.local_model.remove(index):
                    self.problem.setText(
                        self.tr("{name} could not be deleted.").format(
                            name=self.local_model.fileName(index)
                        )
                    )

    def _confirm_delete(self, names: list[str], where: str) -> bool:
        listed = "\n".join(f" • {n}" for n in names[:10]) + ("\n …" if len(names) > 10 else "")
        answer = QMessageBox.question(
            self,
            self.tr("Delete"),
            self.tr(
                "Delete these {n} items {where}? Folders are deleted with everything "
                "in them.\n\n{names}"
                "in them.\n\n{names}"
            ).format(n=len(names), where=where, names=listed),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _update_buttons(self) -> None:
        has_folder = self.folder is not None
        remote = self._selected_remote() if has_folder else []
        local = self._selected_local()
        self.download_button.setEnabled(any(e.kind in ("file", "folder") for e in remote))
        self.upload_button.setEnabled(has_folder and bool(local))
        self.remote_rename.setEnabled(len(remote) == 1)
        self.remote_delete.setEnabled(bool(remote))
        self.remote_new.setEnabled(has_folder)
        self.remote_up.setEnabled(has_folder and bool(self.folder and self.folder.path))
        self.remote_refresh.setEnabled(has_folder)
        self.local_rename.setEnabled(len(local) == 1)
        self.local_delete.setEnabled(bool(local))
        chosen = self._selected_transfers()
        self.cancel_button.setEnabled(any(not s.finished for s in chosen))
        self.retry_button.setEnabled(
            any(s.state in (TransferState.FAILED, TransferState.CANCELLED) for s in chosen)
        )
        self.clear_button.setEnabled(any(s.finished for s in self._statuses.values()))


def _column(top: QHBoxLayout, body: QWidget, bottom: QHBoxLayout | None = None) -> QWidget:
    """A tool row, a view that takes the spare height, and another tool row, stacked."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addLayout(top)
    layout.addWidget(body, 1)
    if bottom is not None:
        layout.addLayout(bottom)
    return column
