"""The event loop the console runs its sessions on."""

from __future__ import annotations

import asyncio


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed, else the standard library's loop.

    uvloop's TLS and transports are in C: a file transfer through the broker took 15 %
    less CPU per GB with it at both ends (docs/performance.md, section 10). The
    console and the broker install it; the applet's one-file bundle leaves it out to
    stay within its size goal, and so runs on the standard loop.
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop
