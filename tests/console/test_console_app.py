"""The whole console program against the real broker: sign in through the window, make
a code, take a customer from the queue, and keep two customers' tabs apart. The customers
are real peer sessions on the applet's side of the protocol, so each can send its own
picture, chat and clipboard and see exactly what reaches it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from broker.app import Broker, start_broker
from broker.config import BrokerConfig
from common.codec import ScreenEncoder
from common.protocol import Channel
from common.transport import BrokerClient, PeerSession
from console.app import ConsoleApp
from console.loop_thread import LoopThread
from console.settings import ConsoleSettings
from console.ui.home import CodeCard
from console.ui.session_host import SessionHost
from tests.conftest import Tech, address


async def until(condition: Any, timeout: float = 15) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := condition()):
            QApplication.processEvents()
            await asyncio.sleep(0.02)
    return result


@pytest.fixture
def broker(broker_config: BrokerConfig) -> Iterator[Broker]:
    """The broker on its own thread: the console's shutdown waits for it from the
    window thread, which is also the test's event loop."""
    thread = LoopThread()
    running = thread.submit(start_broker(broker_config)).result(30)
    yield running
    thread.submit(running.stop()).result(30)
    thread.stop()


@pytest.fixture
async def app(
    broker: Broker, tech: Tech, qtbot: QtBot, tmp_path: Path
) -> AsyncIterator[ConsoleApp]:
    settings = ConsoleSettings(broker.url, tech.email, str(broker.certs.ca_fingerprint))
    console = ConsoleApp(settings, settings_path=tmp_path / "console.json")
    qtbot.addWidget(console.login_window)
    console.start()
    yield console
    console.shutdown()


async def signed_in(app: ConsoleApp, qtbot: QtBot, password: str) -> None:
    window = app.login_window
    window.password.setText(password)
    qtbot.mouseClick(window.button, Qt.MouseButton.LeftButton)
    await until(lambda: app.window is not None or not window.error.isHidden())


class Customer:
    """The applet's end of one session: what it sent and what reached it."""

    def __init__(self, session: PeerSession) -> None:
        self.session = session
        self.received: list[tuple[Channel, dict[str, Any]]] = []
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while True:
            event = await self.session.next_message()
            self.received.append((event.channel, event.message))

    def got(self, t: str) -> list[dict[str, Any]]:
        return [m for _, m in self.received if m["t"] == t]

    def send(self, channel: Channel, message: dict[str, Any]) -> None:
        self.session.send(channel, message)

    def grant(self, action: str) -> None:
        self.send(Channel.CONTROL, {"t": "permission", "action": action, "state": "granted"})

    def show(self, picture: np.ndarray[Any, Any]) -> None:
        for data in ScreenEncoder(video=False).encode(picture):
            self.send(Channel.VIDEO, {"t": "screen_update", "monitor": 0, "data": data})

    async def close(self) -> None:
        self.task.cancel()
        await self.session.close()


def picture(colour: tuple[int, int, int]) -> np.ndarray[Any, Any]:
    frame = np.zeros((240, 320, 4), np.uint8)
    frame[..., :3] = colour
    frame[100:140, 100:220, :3] = 255 - np.array(colour, np.uint8)
    return frame


async def test_sign_in_errors_then_the_home(app: ConsoleApp, qtbot: QtBot, tech: Tech) -> None:
    await signed_in(app, qtbot, "not-the-password-1")
    assert app.login_window.error.text() == "The e-mail address or the password is wrong."
    assert app.window is None and app.login_window.button.isEnabled()
    await signed_in(app, qtbot, tech.password)
    assert app.window is not None and app.home is not None
    assert app.login_window.password.text() == ""
    saved = Path(app.settings_path or "").read_text()
    assert tech.email in saved and tech.password not in saved


async def test_codes_the_queue_and_two_customers_kept_apart(
    app: ConsoleApp, qtbot: QtBot, broker: Broker, tech: Tech
) -> None:
    await signed_in(app, qtbot, tech.password)
    home, window = app.home, app.window
    assert home is not None and window is not None
    opened: list[SessionHost] = []
    app.session_opened.connect(opened.append)

    # Customer A types the code the home tab shows.
    qtbot.mouseClick(home.start, Qt.MouseButton.LeftButton)
    card: CodeCard = await until(lambda: next(iter(home.cards.values()), None))
    assert card.code.text().count("-") >= 2 and "Expires in 9:" in card.expiry.text()
    customers: list[Customer] = []
    async with (
        BrokerClient(address(broker)) as client_a,
        BrokerClient(address(broker)) as client_b,
    ):
        try:
            session_a = await PeerSession.claim(client_a, card.code.text(), {"name": "Ann"})
            await session_a.wait_open(10)
            customers.append(Customer(session_a))
            await until(lambda: len(opened) == 1)
            assert not home.cards and window.tabs.count() == 2

            # Customer B waits in the technician's queue and is picked up.
            session_b = await PeerSession.enqueue(
                client_b, technician=tech.email, customer={"name": "Ben", "host": "ben-pc"}
            )
            await until(lambda: home.table.rowCount() == 1)
            assert home.table.item(0, 0).text() == "Ben (ben-pc)"
            assert home.table.item(0, 1).text() == "Mine"
            home.table.selectRow(0)
            qtbot.mouseClick(home.take, Qt.MouseButton.LeftButton)
            await session_b.wait_open(10)
            customers.append(Customer(session_b))
            await until(lambda: len(opened) == 2)
            await until(lambda: home.table.rowCount() == 0)
            ann, ben = customers
            tab_a, tab_b = opened[0].tab, opened[1].tab
            assert (tab_a.customer, tab_b.customer) == ("Ann", "Ben (ben-pc)")

            # Each customer's picture, chat and clipboard reach their own tab only.
            for customer, colour in ((ann, (200, 40, 40)), (ben, (40, 40, 200))):
                customer.grant("view_screen")
                customer.grant("remote_control")
                customer.grant("clipboard_sync")
                customer.show(picture(colour))
                customer.send(Channel.CHAT, {"t": "chat", "text": f"secret of {colour}"})
            for host, colour in ((opened[0], (200, 40, 40)), (opened[1], (40, 40, 200))):
                await until(lambda h=host: h.tech.screen.frames >= 1)
                with host.tech.screen.lock:
                    shown = host.tech.screen.decoder.framebuffer.copy()
                assert np.array_equal(shown, picture(colour)[..., :3])
                await until(lambda h=host: "secret" in h.tab.transcript.toPlainText())
            assert "(40, 40, 200)" not in tab_a.transcript.toPlainText()
            assert "(200, 40, 40)" not in tab_b.transcript.toPlainText()
            await until(lambda: tab_a.control.isChecked() and tab_b.control.isChecked())

            ann.send(Channel.CONTROL, {"t": "clipboard", "text": "ann's password"})
            await until(lambda: QApplication.clipboard().text() == "ann's password")
            QApplication.clipboard().setText("for ben only")
            qtbot.mouseClick(tab_b.send_clipboard, Qt.MouseButton.LeftButton)
            await until(lambda: ben.got("clipboard"))
            assert [m["text"] for m in ben.got("clipboard")] == ["for ben only"]

            # Input and chat from a tab go to that tab's customer only.
            tab_a.resize(900, 600)
            tab_a.show()
            await until(lambda: not tab_a.remote._image.isNull())
            centre = tab_a.remote.rect().center()
            qtbot.mouseClick(tab_a.remote, Qt.MouseButton.LeftButton, pos=centre)
            await until(lambda: len(ann.got("input")) >= 2)
            tab_a.entry.setText("only for Ann")
            qtbot.keyClick(tab_a.entry, Qt.Key.Key_Return)
            await until(lambda: ann.got("chat"))
            assert ann.got("chat")[0]["text"] == "only for Ann"
            # The line shows delivered once Ann's side has it.
            await until(lambda: "✓✓" in tab_a.transcript.toHtml())
            await asyncio.sleep(0.3)
            assert not ben.got("input") and not ben.got("chat") and not ann.got("clipboard")
            x = 159  # the middle of Ann's 320×240 picture
            assert tab_a.remote.remote_point(centre.x(), centre.y()) == (x, 119)
            sent = [(m["kind"], m.get("x"), m.get("down")) for m in ann.got("input")[:4]]
            assert sent == [
                ("move", x, None),
                ("button", None, True),
                ("move", x, None),
                ("button", None, False),
            ]

            # Revoked on the applet's side: the tab stops sending.
            ann.send(
                Channel.CONTROL,
                {"t": "permission", "action": "remote_control", "state": "revoked"},
            )
            await until(lambda: not tab_a.control.isEnabled())
            before = len(ann.got("input"))
            qtbot.mouseClick(tab_a.remote, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
            await asyncio.sleep(0.3)
            assert len(ann.got("input")) == before

            # Ending one session leaves the other alone.
            qtbot.mouseClick(tab_a.end_button, Qt.MouseButton.LeftButton)
            await until(lambda: tab_a.is_over)
            assert "(ended)" in window.tabs.tabText(window.tabs.indexOf(tab_a))
            assert not tab_a.end_button.isEnabled() and not tab_a.entry.isEnabled()
            opened[0].stats.tick()  # no stale numbers once it has ended
            assert tab_a.stats.text() == "" and not opened[0].stats.timer.isActive()
            assert not tab_b.is_over and ben.session.ended is None
        finally:
            for customer in customers:
                await customer.close()
