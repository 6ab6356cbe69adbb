"""The file manager pane shows what the session reports and reports the technician's
intents: browsing, transfers both ways (buttons and drag and drop), changes, cancel and
retry."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox, QProgressBar
from pytestqt.qtbot import QtBot

from console.file_reports import (
    FileProblem,
    RemoteEntry,
    RemoteFolder,
    RemoteRoot,
    RemoteRoots,
    TransferState,
    TransferStatus,
)
from console.rights import RightChanged, RightState
from console.screen_view import ScreenView
from console.ui.file_manager import FileManager
from console.ui.file_panes import REMOTE_MIME, human_size, human_time
from console.ui.session_tab import SessionTab

FOLDER = RemoteFolder(
    "/",
    ("home", "bob"),
    (
        RemoteEntry("zeta.log", "file", 12_345, 1_700_000_000.0),
        RemoteEntry("Documents", "folder", 4096, 1_700_000_000.0),
        RemoteEntry("alpha.txt", "file", 10, 1_600_000_000.0),
        RemoteEntry("link", "link", 7, 0.0),
    ),
    hidden=2,
)


@pytest.fixture
def manager(qtbot: QtBot, tmp_path: Path) -> FileManager:
    (tmp_path / "fix.reg").write_text("fix")
    (tmp_path / "tools").mkdir()
    widget = FileManager("Bob", tmp_path)
    widget.resize(1000, 600)
    qtbot.addWidget(widget)
    widget.show_event(
        RemoteRoots((RemoteRoot("/", (), "/"), RemoteRoot("/", ("home", "bob"), "Home")))
    )
    widget.show_event(FOLDER)
    return widget


def names(manager: FileManager) -> list[str]:
    pane = manager.remote
    return [pane.topLevelItem(i).text(0) for i in range(pane.topLevelItemCount())]


def test_the_customers_folder_is_shown_folders_first(manager: FileManager) -> None:
    assert names(manager) == ["Documents", "alpha.txt", "link", "zeta.log"]
    assert manager.remote_path.text() == "/home/bob"
    assert "2 entries" in manager.problem.text()  # the hidden hostile names are counted
    manager.remote.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # by size, as numbers
    assert names(manager)[0] == "zeta.log"
    assert [manager.roots.itemText(i) for i in range(manager.roots.count())] == ["/", "Home"]
    assert manager.roots.currentText() == "Home"  # the deepest root that holds the folder


def test_browsing_up_into_and_to_a_root(qtbot: QtBot, manager: FileManager) -> None:
    with qtbot.waitSignal(manager.browse) as went:
        manager.remote_up.click()
    assert went.args == ["/", ["home"]]
    item = manager.remote.topLevelItem(0)
    with qtbot.waitSignal(manager.browse) as went:
        manager.remote.itemDoubleClicked.emit(item, 0)
    assert went.args == ["/", ["home", "bob", "Documents"]]
    with qtbot.waitSignal(manager.browse) as went:
        manager.roots.activated.emit(0)
    assert went.args == ["/", []]


def test_download_and_upload_buttons(qtbot: QtBot, manager: FileManager, tmp_path: Path) -> None:
    assert not manager.download_button.isEnabled()
    manager.remote.topLevelItem(0).setSelected(True)  # Documents
    manager.remote.topLevelItem(1).setSelected(True)  # alpha.txt
    got = []
    manager.download.connect(lambda *args: got.append(args))
    manager.download_button.click()
    assert got == [
        ("/", ["home", "bob", "Documents"], "folder", 4096, str(tmp_path)),
        ("/", ["home", "bob", "alpha.txt"], "file", 10, str(tmp_path)),
    ]
    index = manager.local_model.index(str(tmp_path / "fix.reg"))
    qtbot.waitUntil(lambda: manager.local_model.index(str(tmp_path / "fix.reg")).isValid())
    manager.local.selectionModel().select(
        index, manager.local.selectionModel().SelectionFlag.Select
        | manager.local.selectionModel().SelectionFlag.Rows,
    )  # fmt: skip
    with qtbot.waitSignal(manager.upload) as sent:
        manager.upload_button.click()
    assert sent.args == [[str(tmp_path / "fix.reg")], "/", ["home", "bob"]]


def test_drag_and_drop_both_ways(qtbot: QtBot, manager: FileManager, tmp_path: Path) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(tmp_path / "fix.reg"))])
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    with qtbot.waitSignal(manager.upload) as sent:
        manager.remote.dropEvent(drop)
    assert sent.args == [[str(tmp_path / "fix.reg")], "/", ["home", "bob"]]
    dragged = manager.remote.mimeData([manager.remote.topLevelItem(3)])  # zeta.log
    assert dragged.hasFormat(REMOTE_MIME)
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, dragged, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    with qtbot.waitSignal(manager.download) as got:
        manager.local.dropEvent(drop)
    assert got.args == ["/", ["home", "bob", "zeta.log"], "file", 12_345, str(tmp_path)]


def test_transfers_show_progress_speed_and_let_cancel_and_retry(
    qtbot: QtBot, manager: FileManager, tmp_path: Path
) -> None:
    running = TransferStatus(
        7, "download", "zeta.log", tmp_path / "zeta.log", "/home/bob/zeta.log", 10_000_000,
        2_500_000, 1_000_000.0, TransferState.RUNNING,
    )  # fmt: skip
    manager.show_event(running)
    row = manager.transfers.topLevelItem(0)
    bar = manager.transfers.itemWidget(row, 2)
    assert isinstance(bar, QProgressBar) and bar.value() == 250
    assert (row.text(3), row.text(4)) == ("977 KiB/s", "8 s")
    row.setSelected(True)
    with qtbot.waitSignal(manager.cancel) as cancelled:
        manager.cancel_button.click()
    assert cancelled.args == [7]
    manager.show_event(
        TransferStatus(7, "download", "zeta.log", tmp_path / "zeta.log", "/home/bob/zeta.log",
                       10_000_000, 2_500_000, state=TransferState.FAILED,
                       error="The customer stopped file transfers.")
    )  # fmt: skip
    assert "stopped file transfers" in row.text(5)
    assert not manager.cancel_button.isEnabled() and manager.retry_button.isEnabled()
    with qtbot.waitSignal(manager.retry) as retried:
        manager.retry_button.click()
    assert retried.args == [7]
    manager.clear_button.click()
    assert manager.transfers.topLevelItemCount() == 0


def test_delete_asks_first(
    qtbot: QtBot, manager: FileManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager.remote.topLevelItem(1).setSelected(True)
    deleted = []
    manager.delete.connect(lambda *args: deleted.append(args))
    answers = iter([QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: next(answers))
    manager.remote_delete.click()
    assert deleted == []
    manager.remote_delete.click()
    assert deleted == [("/", ["home", "bob"], "alpha.txt")]


def test_problems_are_shown(manager: FileManager) -> None:
    manager.show_event(FileProblem("/home/bob/CON: CON is a reserved device name on Windows."))
    assert "reserved" in manager.problem.text()


def test_the_tab_shows_files_once_allowed(qtbot: QtBot) -> None:
    tab = SessionTab("Bob", "482193", ScreenView())
    qtbot.addWidget(tab)
    assert tab.files_page.currentWidget() is tab.files_gate
    with qtbot.waitSignal(tab.request_right) as asked:
        tab.ask_files.click()
    assert asked.args == ["file_manager"]
    tab.show_event(RightChanged("file_manager", RightState.PENDING))
    assert "Waiting" in tab.files_hint.text() and not tab.ask_files.isEnabled()
    tab.show_event(RightChanged("file_manager", RightState.GRANTED))
    assert tab.files_page.currentWidget() is tab.files
    assert tab.main.currentWidget() is tab.files_page
    tab.show_event(RightChanged("file_manager", RightState.REVOKED))
    assert tab.files_page.currentWidget() is tab.files_gate
    assert "stopped access" in tab.files_hint.text() and tab.ask_files.isEnabled()


def test_sizes_and_times_read_well() -> None:
    assert [human_size(n) for n in (0, 999, 1500, 123_456_789)] == [
        "0 B", "999 B", "1.5 KiB", "118 MiB",
    ]  # fmt: skip
    assert [human_time(s) for s in (4.6, 75, 4000)] == ["5 s", "1 min 15 s", "1 h 06 min"]
