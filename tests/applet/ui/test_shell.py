"""The applet's windows wired to a real session (real broker, real capture on Xvfb;
the windows themselves on Qt's offscreen platform, answered through pytest-qt)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from applet.launch import LaunchSettings
from applet.publisher import Publisher
from applet.ui.shell import AppletShell
from broker.app import Broker
from common.protocol import Channel
from common.transport import BrokerClient, Ended, Login, PeerSession
from tests.conftest import address


async def until(condition: Callable[[], Any], timeout: float = 10) -> Any:
    """Runs Qt's and asyncio's events together until ``condition()`` is true."""
    async with asyncio.timeout(timeout):
        while not (result := condition()):
            QApplication.processEvents()
            await asyncio.sleep(0.01)
    return result


async def reply(console: PeerSession, t: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            event = await console.next_message()
            if event.message["t"] == t:
                return event.message


async def test_prompts_rights_chat_and_clipboard_through_the_windows(
    display: str, qtbot: QtBot, broker: Broker, client: BrokerClient, login: Login
) -> None:
    console = await PeerSession.create(client, login.token)
    assert console.code is not None
    shell = AppletShell(
        LaunchSettings(console.code, address(broker), None),
        local_input=lambda: None,
        # What Windows would vouch for (WinVerifyTrust cannot run here: tests/applet/
        # test_publisher.py reads a real signed program's publisher).
        find_publisher=lambda: Publisher("Example Help Desk Ltd", "Windows"),
    )
    finished: list[int] = []
    shell.finished.connect(finished.append)
    try:
        shell.start()
        sas = await console.wait_open(20)
        await until(lambda: shell.session_window.sas.isVisible())
        assert shell.session_window.sas.text().replace(" ", "").endswith(sas)
        assert shell.session_window.publisher.isVisible()
        assert shell.session_window.publisher.text() == (
            "✔ Published by Example Help Desk Ltd (checked by Windows)"
        )

        # A request shows one prompt; the person's "Allow" grants it.
        console.send(Channel.CONTROL, {"t": "request", "action": "clipboard_sync"})
        prompt = await until(lambda: next(iter(shell.prompts.values()), None))
        qtbot.mouseClick(prompt.allow_button, Qt.MouseButton.LeftButton)
        assert (await reply(console, "permission"))["state"] == "granted"
        await until(lambda: shell.session_window._rows)

        # The clipboard, both ways, through Qt's clipboard.
        console.send(Channel.CONTROL, {"t": "clipboard", "text": "ping 10.0.0.1"})
        await until(lambda: QGuiApplication.clipboard().text() == "ping 10.0.0.1")
        QGuiApplication.clipboard().setText("C:\\Users\\bob\\error.log")
        assert (await reply(console, "clipboard"))["text"] == "C:\\Users\\bob\\error.log"

        # Chat opens the chat window by itself.
        console.send(Channel.CHAT, {"t": "chat", "text": "Got it, thanks."})
        await until(lambda: shell.chat is not None and shell.chat.isVisible())
        assert shell.chat is not None
        assert "Got it, thanks." in shell.chat.transcript.toPlainText()

        # Revoke from the status panel.
        row = shell.session_window._rows[next(iter(shell.session_window._rows))]
        qtbot.mouseClick(
            row.findChild(type(shell.session_window.end_button)), Qt.MouseButton.LeftButton
        )
        assert (await reply(console, "permission"))["state"] == "revoked"

        # End session: the technician is told, the windows close, status 0.
        qtbot.mouseClick(shell.session_window.end_button, Qt.MouseButton.LeftButton)
        await until(lambda: finished)
        assert finished == [0]
        assert not shell.session_window.isVisible() and not shell.chat.isVisible()
        assert not shell.indicator.isVisible()
        async with asyncio.timeout(10):
            while not isinstance(await console.next_event(), Ended):
                pass
    finally:
        shell.run.end()
        shell.run.join(10)
        shell.close_windows()
        await console.close()


async def test_a_wrong_code_asks_again(
    display: str, qtbot: QtBot, broker: Broker, client: BrokerClient, login: Login
) -> None:
    console = await PeerSession.create(client, login.token)
    assert console.code is not None
    wrong = type(console.code)(
        console.code.nameplate, f"{(int(console.code.secret) + 1) % 10**6:06d}"
    )
    shell = AppletShell(LaunchSettings(wrong, address(broker), None), local_input=lambda: None)
    try:
        shell.start()
        await until(lambda: shell.code_window.isVisible(), timeout=20)
        assert "code" in shell.code_window.error.text().lower()
        assert shell.code_window.digits == wrong.digits
        assert not shell.session_window.isVisible()
    finally:
        shell.run.end()
        shell.run.join(10)
        shell.close_windows()
        await console.close()


async def test_a_session_without_activity_ends_and_says_why(
    display: str, qtbot: QtBot, broker: Broker, client: BrokerClient, login: Login
) -> None:
    console = await PeerSession.create(client, login.token)
    assert console.code is not None
    shell = AppletShell(
        LaunchSettings(console.code, address(broker), None), local_input=lambda: None
    )
    shell.run.inactivity_timeout = 1.0
    finished: list[int] = []
    shell.finished.connect(finished.append)
    try:
        shell.start()
        await console.wait_open(20)
        console.send(Channel.CONTROL, {"t": "request", "action": "system_info"})
        prompt = await until(lambda: next(iter(shell.prompts.values()), None))
        qtbot.mouseClick(prompt.allow_button, Qt.MouseButton.LeftButton)
        assert (await reply(console, "permission"))["state"] == "granted"

        # Nobody does anything: the right goes, the technician gets the end…
        assert (await reply(console, "permission"))["state"] == "revoked"
        async with asyncio.timeout(10):
            while not isinstance(await console.next_event(), Ended):
                pass
        # …and the person finds the reason on screen, every other window closed.
        notice = await until(lambda: shell.notice is not None and shell.notice.isVisible())
        assert notice and shell.notice is not None
        assert "nothing happened for 1 min" in shell.notice.text()
        assert not shell.session_window.isVisible() and not shell.prompts
        assert finished == []  # the applet goes once they have read it
        qtbot.mouseClick(
            shell.notice.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
        await until(lambda: finished)
        assert finished == [0]
    finally:
        shell.run.end()
        shell.run.join(10)
        shell.close_windows()
        await console.close()
