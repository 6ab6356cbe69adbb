"""The applet end of the file-transfer benchmark, in its own process, on ``$DISPLAY``.

``python -m benchmarks.files_applet --url U --ca CA --code CODE``: claims the session
with the code the console made and runs the applet's real
:class:`~applet.controller.AppletController` (its :class:`~applet.file_service.FileService`
answers the console's ``file_*`` messages) with the pieces ``applet/session_run.py``
gives it on Linux: MssCapturer, the X11 injector, the X11 cursor source, X DAMAGE. Every
question is answered "allow", so ``file_manager`` and ``remote_control`` are granted
when asked; the group's default policy allows ``send_files`` and ``receive_files``.

It runs on uvloop, as the real applet does (``applet/session_run.py``: an event loop
from ``common.transport.event_loop`` on a thread); ``--loop asyncio`` is there to
compare. Prints ``ready`` once the session is open, runs until SIGTERM or the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from applet.capture import MssCapturer
from applet.controller import AppletController, QuestionAsked
from applet.cursor import open_cursor_source
from applet.damage_x11 import X11DamageWatch
from applet.injector import open_injector
from benchmarks.files_console import run_on
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.files_applet")
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    # SIGTERM (the benchmark stopping us) cancels the coroutine, which closes the session.
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        run_on(args.loop, _applet(args.url, args.ca, args.code))


if __name__ == "__main__":
    main()
