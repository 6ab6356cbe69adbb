"""The two panes of the file manager and how they show sizes and times: the customer's
folder (a list the console fills from the applet's listings) and the technician's own
(Qt's file system model), each taking drops from the other."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTreeView,
    QTreeWidget,
    QTreeWidgetItem,
)

#: The MIME type of entries dragged out of the customer's pane.
REMOTE_MIME = "application/x-lifeline-remote-entries"


def human_size(size: float) -> str:
    """Binary units, as the local pane (Qt) shows them."""
    if size < 1024:
        return f"{size:.0f} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            break
    return f"{size:.1f} {unit}" if size < 100 else f"{size:.0f} {unit}"


def human_time(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"


class SortItem(QTreeWidgetItem):
    """Folders first, then by the column's value (sizes and times as numbers)."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else 0
        mine = self.data(column, Qt.ItemDataRole.UserRole + 1)
        theirs = other.data(column, Qt.ItemDataRole.UserRole + 1)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return bool(mine < theirs)


class RemotePane(QTreeWidget):
    """The customer's folder: drop local files here to upload, drag entries out."""

    dropped_local = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.setHeaderLabels(
            [self.tr("Name"), self.tr("Size"), self.tr("Modified"), self.tr("Type")]
        )
        self.setRootIsDecorated(False)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setColumnWidth(1, 90)
        self.setColumnWidth(2, 130)

    def mimeData(self, items: Sequence[QTreeWidgetItem], /) -> QMimeData:
        data = QMimeData()
        names = "\n".join(item.text(0) for item in items)
        data.setData(REMOTE_MIME, names.encode())
        return data

    def mimeTypes(self) -> list[str]:
        return [REMOTE_MIME]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.dropped_local.emit(paths)


class LocalPane(QTreeView):
    """The technician's folder: drag customer's entries here to download them."""

    dropped_remote = Signal(list)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(REMOTE_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(REMOTE_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if event.mimeData().hasFormat(REMOTE_MIME):
            names = bytes(event.mimeData().data(REMOTE_MIME).data()).decode().split("\n")
            event.acceptProposedAction()
            self.dropped_remote.emit([n for n in names if n])
        else:
            event.ignore()  # moving the technician's own files around is not our job
