"""The applet end of the input round-trip benchmark, in its own process, on ``$DISPLAY``.

``python -m benchmarks.input_applet --url U --ca CA --code CODE``: claims the session
with the code the console made and runs the applet's real
:class:`~applet.controller.AppletController` with the pieces ``applet/session_run.py``
gives it on Linux (MssCapturer, the X11 injector, the X11 cursor source, X DAMAGE);
every question is answered "allow", so ``remote_control`` is granted when asked.

``python -m benchmarks.input_applet --plain PORT``: the reference without broker, TLS or
end-to-end encryption: connects to 127.0.0.1:PORT and applies each message it reads
(4-byte big-endian length, then the same msgpack ``input`` map) with the same
:class:`~applet.inject_x11.X11Injector`, nothing in between.

Both print ``ready`` once they take input, and run until SIGTERM or the end of the link.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

import msgpack

from applet.inject_x11 import X11Injector
from benchmarks.allowing_applet import full_applet
from benchmarks.links import run, set_nodelay


async def _plain(port: int) -> None:
    injector = X11Injector()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    set_nodelay(writer.transport)
    print("ready", flush=True)
    try:
        while True:
            try:
                size = int.from_bytes(await reader.readexactly(4), "big")
                message = msgpack.unpackb(await reader.readexactly(size))
            except asyncio.IncompleteReadError:
                return
            if message.get("t") == "input" and message.get("kind") == "move":
                injector.move(int(message["x"]), int(message["y"]))
    finally:
        writer.close()
        injector.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.input_applet")
    parser.add_argument("--url")
    parser.add_argument("--ca", type=Path)
    parser.add_argument("--code")
    parser.add_argument("--plain", type=int, metavar="PORT", help="the reference: plain TCP")
    args = parser.parse_args()
    # SIGTERM (the benchmark stopping us) cancels the coroutine, which closes the session.
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        if args.plain is not None:
            run(_plain(args.plain))
        else:
            run(full_applet(args.url, args.ca, args.code))


if __name__ == "__main__":
    main()
