"""An applet controller paired with a console through the real broker, and the waits
tests use on both ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from applet.capture import Capturer, MssCapturer
from applet.controller import DEFAULT_INACTIVITY_TIMEOUT, AppletController, UiEvent
from applet.cursor import CursorSource
from applet.injector import Injector
from broker.app import Broker
from common.protocol import Channel
from common.transport import BrokerClient, Login, PeerSession
from tests.conftest import address, paired_sessions


@contextlib.asynccontextmanager
async def controller_session(
    broker: Broker,
    client: BrokerClient,
    login: Login,
    injector: Injector | None = None,
    cursor: CursorSource | None = None,
    inactivity_timeout: float = DEFAULT_INACTIVITY_TIMEOUT,
    capturer: Capturer | None = None,
) -> AsyncIterator[tuple[PeerSession, AppletController]]:
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        controller = AppletController(
            applet,
            capturer or MssCapturer(),
            injector,
            cursor,
            inactivity_timeout=inactivity_timeout,
        )
        controller.start()
        try:
            yield console, controller
        finally:
            await controller.stop()
            await console.close()
            await applet.close()


async def ui_event(controller: AppletController, kind: type[UiEvent]) -> UiEvent:
    """The next event of ``kind`` the applet's window would be shown."""
    async with asyncio.timeout(10):
        while True:
            event = await controller.events.get()
            if isinstance(event, kind):
                return event


async def control_reply(
    console: PeerSession, t: str = "permission", channel: Channel = Channel.CONTROL
) -> dict[str, Any]:
    """The next message of type ``t`` the console receives on ``channel``."""
    async with asyncio.timeout(10):
        while True:
            event = await console.next_message()
            if event.channel == channel and event.message["t"] == t:
                return event.message
