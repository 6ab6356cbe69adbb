"""The event loop the console and the applet run their sessions on."""

from __future__ import annotations

import asyncio


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed, else the standard library's loop.

    uvloop's TLS and transports are in C: a file transfer through the broker took 15 %
    less CPU per GB with it at both ends (docs/performance.md, section 10). It is not
    made for Windows, where the standard loop runs.
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop
