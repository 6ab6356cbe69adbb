"""The console's main window: the home tab first, then one tab per customer. A tab is
closed only once its session has ended, so a customer is never dropped by a stray
click; closing the window ends every session after asking."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget

from console.ui.home import HomePage
from console.ui.session_host import SessionHost


class ConsoleWindow(QMainWindow):
    closing = Signal()

    def __init__(self, technician: str, home: HomePage) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("Lifeline Console — {name}").format(name=technician))
        self.home = home
        self.hosts: list[SessionHost] = []
        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(home, self.tr("Home"))
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.tabs.tabCloseRequested.connect(self._close_tab)
        self.setCentralWidget(self.tabs)
        self.signed_in = QLabel(technician)
        self.statusBar().addPermanentWidget(self.signed_in)
        self.resize(1280, 800)
        self._ask_before_closing = True

    def add_session(self, host: SessionHost) -> None:
        self.hosts.append(host)
        index = self.tabs.addTab(host.tab, host.tab.customer)
        self.tabs.setCurrentIndex(index)
        host.tab.ended.connect(lambda: self._mark_ended(host))

    def live_sessions(self) -> list[SessionHost]:
        return [h for h in self.hosts if not h.tab.is_over]

    def _mark_ended(self, host: SessionHost) -> None:
        index = self.tabs.indexOf(host.tab)
        if index >= 0:
            self.tabs.setTabText(
                index, self.tr("{customer} (ended)").format(customer=host.tab.customer)
            )

    def _close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        host = next((h for h in self.hosts if h.tab is widget), None)
        if host is None:
            return
        if not host.tab.is_over:
            answer = QMessageBox.question(
                self,
                self.tr("End this session?"),
                self.tr("The session with {customer} is still open. End it?").format(
                    customer=host.tab.customer
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            host.tab.end_requested.emit()
            return  # the tab can be closed once the end is confirmed
        self.tabs.removeTab(index)
        self.hosts.remove(host)
        host.close()
        host.tab.deleteLater()

    def close_without_asking(self) -> None:
        """Closes the window once its sessions have been ended by the caller."""
        self._ask_before_closing = False
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        live = self.live_sessions()
        if live and self._ask_before_closing:
            answer = QMessageBox.question(
                self,
                self.tr("Quit Lifeline?"),
                self.tr("{n} session(s) are open. Quitting ends them all.").format(n=len(live)),
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.closing.emit()
        event.accept()
