"""What a console session reported, for tests to wait on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from console.file_reports import TransferStatus
from console.technician_session import ConsoleEvent


class Events:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[ConsoleEvent] = asyncio.Queue()
        #: The last status of each transfer.
        self.transfers: dict[int, TransferStatus] = {}

    def put(self, event: ConsoleEvent) -> None:
        if isinstance(event, TransferStatus):
            self.transfers[event.number] = event
        self.queue.put_nowait(event)

    async def next(
        self, kind: type, where: Callable[[Any], bool] = lambda e: True, timeout: float = 20
    ) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                event = await self.queue.get()
                if isinstance(event, kind) and where(event):
                    return event

    async def finished(self, number: int, timeout: float = 60) -> TransferStatus:
        async with asyncio.timeout(timeout):
            while not (status := self.transfers[number]).finished:
                await self.next(TransferStatus)
        return status
