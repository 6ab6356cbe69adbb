"""The loop that sends a file: the applet's downloads and the console's uploads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from common.files.flow import SendWindow
from common.transport.disk_threads import ReadAhead


async def send_chunks(
    chunks: ReadAhead,
    window: SendWindow,
    acked: asyncio.Event,
    writable: Callable[[], Awaitable[None]],
    send: Callable[[int, bytes], None],
) -> None:
    """Hands each of ``chunks`` to ``send(offset, data)``, from ``window.sent`` on, once
    the window has room and the session is ``writable``; ``acked`` is set on each of
    the receiver's acknowledgements. ``send`` may raise to stop the loop."""
    offset = window.sent
    while data := await chunks.next():
        while not window.open:  # the receiver's disk has not caught up
            acked.clear()
            await acked.wait()
        await writable()
        send(offset, data)
        offset += len(data)
        window.sent_to(offset)
