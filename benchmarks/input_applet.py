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

from applet.capture import MssCapturer
from applet.controller import AppletController, QuestionAsked
from applet.cursor import open_cursor_source
from applet.damage_x11 import X11DamageWatch
from applet.inject_x11 import X11Injector
from applet.injector import open_injector
from benchmarks.links import run, set_nodelay
from common.errors import LifelineError
from common.transport import BrokerAddress, BrokerClient, Ended, PeerSession


async def _applet(url: str, ca: Path, code: str) -> None:
    async with BrokerClient(BrokerAddress(url, ca_file=ca)) as client:
        session = await PeerSession.claim(client, code, {"name": "Bench", "host": "bench"})
        injector, cursor, damage = open_injector(), open_cursor_source(), X11DamageWatch()
        try:
            await session.wait_open(30.0)
            controller = AppletController(session, MssCapturer(), injector, cursor, damage)
            controller.start()
            print("ready", flush=True)
            try:
                while True:
                    event = await controller.events.get()
                    if isinstance(event, QuestionAsked):
                        await controller.answer(event.question.id, True)
                    elif isinstance(event, Ended):
                        return
            finally:
                await controller.stop()
        finally:
            injector.close()
            if cursor is not None:
                cursor.close()
            damage.close()
            with contextlib.suppress(LifelineError):
                await session.close()


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
            run(_applet(args.url, args.ca, args.code))


if __name__ == "__main__":
    main()
