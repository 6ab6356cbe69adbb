"""Streams the pointer while the screen may be seen: its position (relative to the
shared monitor) whenever it moves, and its shape whenever that changes.

Messages (docs/protocol.md, "Application messages"), on the VIDEO channel so the pointer
stays in step with the picture:
    applet → console: {"t": "cursor", "x": int, "y": int}          (replaces an unsent one)
                      {"t": "cursor_shape", "width", "height", "hot_x", "hot_y", "bgra"}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from applet.capture import Monitor
from applet.cursor import CursorSource
from common.errors import LifelineError
from common.protocol import Channel

log = logging.getLogger("lifeline.applet")
POLL_INTERVAL = 1 / 60


class CursorLink(Protocol):
    def send(
        self, channel: Channel, message: dict[str, Any], *, replace: str | None = None
    ) -> None: ...


class CursorStreamer:
    def __init__(self, link: CursorLink, source: CursorSource, monitor: Monitor) -> None:
        self.link = link
        self.source = source
        self.monitor = monitor
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        last_position: tuple[int, int] | None = None
        last_serial: int | None = None
        m = self.monitor
        try:
            while True:
                state = self.source.read()
                shape = state.shape
                if shape.serial != last_serial:
                    last_serial = shape.serial
                    self.link.send(
                        Channel.VIDEO,
                        {
                            "t": "cursor_shape",
                            "width": shape.width,
                            "height": shape.height,
                            "hot_x": shape.hot_x,
                            "hot_y": shape.hot_y,
                            "bgra": shape.bgra,
                        },
                        replace="cursor_shape",
                    )
                position = (state.x - m.left, state.y - m.top)
                if position != last_position:
                    last_position = position
                    self.link.send(
                        Channel.VIDEO,
                        {"t": "cursor", "x": position[0], "y": position[1]},
                        replace="cursor",
                    )
                await asyncio.sleep(POLL_INTERVAL)
        except LifelineError as exc:  # the session ended under us
            log.info("cursor streaming stopped: %s", exc)
        except Exception:
            log.exception("cursor streaming failed")
