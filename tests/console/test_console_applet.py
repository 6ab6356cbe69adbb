"""Console and applet together, real everything on loopback: the console's session tab
(Qt offscreen, its own event-loop thread) and the applet's session thread with real
capture and injection on Xvfb, through the real broker over TLS."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from applet.controller import QuestionAsked
from applet.session_run import AppletRun, Joined
from broker.app import Broker
from common.transport import BrokerClient, Login, PeerSession
from console.loop_thread import LoopThread
from console.ui.session_host import SessionHost
from tests.conftest import address


async def until(condition: Any, timeout: float = 15) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := condition()):
            QApplication.processEvents()
            await asyncio.sleep(0.02)
    return result


async def test_a_click_in_the_viewer_presses_a_real_button(
    display: str, qtbot: QtBot, broker: Broker, login: Login, tmp_path: Path
) -> None:
    pressed = tmp_path / "pressed"
    window = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("button_window.py")),
        str(pressed),
        env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
    )
    loop = LoopThread()
    questions: list[QuestionAsked] = []
    joined: list[Joined] = []

    def applet_report(event: object) -> None:
        if isinstance(event, QuestionAsked):
            questions.append(event)
        elif isinstance(event, Joined):
            joined.append(event)

    run = AppletRun(address(broker), applet_report)
    host: SessionHost | None = None
    try:

        async def create() -> tuple[BrokerClient, PeerSession]:
            client = BrokerClient(address(broker))
            return client, await PeerSession.create(client, login.token)

        client, console = await asyncio.wrap_future(loop.submit(create()))
        assert console.code is not None
        run.start(console.code)
        sas = await asyncio.wrap_future(loop.submit(console.wait_open(20)))
        await until(lambda: joined)
        host = SessionHost(loop, console, "Bob", sas)
        qtbot.addWidget(host.tab)
        host.tab.resize(1600, 900)
        host.tab.remote.set_fit(False)

        # The technician asks; the person allows; the button turns "granted".
        qtbot.mouseClick(host.tab.buttons["remote_control"], Qt.MouseButton.LeftButton)
        await until(lambda: questions)
        run.answer(questions[0].question.id, True)
        await until(lambda: host.tab.buttons["remote_control"].property("rightState") == "granted")
        await until(lambda: not host.tab.remote._image.isNull())

        # A click on the button as the console shows it presses it on the real display.
        await asyncio.sleep(1.0)  # the window has been mapped and painted
        qtbot.mouseClick(host.tab.remote, Qt.MouseButton.LeftButton, pos=QPoint(220, 160))
        await until(lambda: pressed.exists(), timeout=10)
        assert pressed.read_text() == "pressed"
    finally:
        if host is not None:
            host.tab.end_requested.emit()
        run.end()
        run.join(10)
        if host is not None:
            host.close()

        async def close_client() -> None:
            await client.close()

        loop.submit(close_client()).result(10)
        loop.stop()
        window.kill()
        await window.wait()
