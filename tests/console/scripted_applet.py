"""An applet the test scripts, over the real broker and TLS: for the console's file
manager against a hostile or misbehaving customer side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from broker.app import Broker
from common.protocol import Channel
from common.transport import BrokerClient, Login, PeerSession
from console.technician_session import TechnicianSession
from tests.conftest import address, paired_sessions
from tests.console.console_events import Events


class ScriptedApplet:
    """The customer's side of a session as a test scripts it: answers listings and
    downloads with what the test put in :attr:`entries` and :attr:`download`, keeps
    every other file message in :attr:`got`, and sends what the test tells it to."""

    def __init__(self, session: PeerSession) -> None:
        self.session = session
        self.entries: list[dict[str, Any]] = []
        #: For each file_get: the messages sent back (``ID`` replaced by the request id).
        self.download: list[dict[str, Any]] = []
        #: End the session once they are sent.
        self.end_after_download = False
        #: The console's other file messages (uploads, acknowledgements), in order.
        self.got: list[dict[str, Any]] = []
        self._task = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        while True:
            event = await self.session.next_message()
            message = event.message
            t = message.get("t")
            if t == "file_list":
                self.send({"t": "file_listing", "id": message["id"], "root": message["root"],
                           "path": message["path"], "entries": self.entries,
                           "truncated": False})  # fmt: skip
            elif t == "file_get":
                for reply in self.download:
                    self.send({**reply, "id": message["id"]})
                if self.end_after_download:  # once the console has all of it
                    while self.session.conn is not None and self.session.conn.backlog:
                        await asyncio.sleep(0.01)
                    await self.session.end()
                    return
            else:
                self.got.append(message)

    def send(self, message: dict[str, Any]) -> None:
        self.session.send(Channel.FILE, message)

    def of(self, t: str) -> list[dict[str, Any]]:
        return [m for m in self.got if m.get("t") == t]

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture
async def scripted(
    broker: Broker, client: BrokerClient, login: Login
) -> AsyncIterator[tuple[TechnicianSession, ScriptedApplet, Events]]:
    async with BrokerClient(address(broker)) as applet_client:
        console, applet = await paired_sessions(client, applet_client, login.token)
        events = Events()
        tech = TechnicianSession(console, events.put)
        tech.start()
        server = ScriptedApplet(applet)
        try:
            yield tech, server, events
        finally:
            await server.close()
            await tech.close()
            await console.close()
            await applet.close()
