"""The applet end of the glass-to-glass benchmark, in its own process.

``python -m benchmarks.screen_applet --url U --ca CA --code CODE [--lossless]`` on
``$DISPLAY``:
claims the session with the code the console made, confirms the keys, and runs the
applet's real :class:`~applet.controller.AppletController` (consent, then the
:class:`~applet.screen_service.ScreenStreamer` with :class:`~applet.capture.MssCapturer`).
It stands in for the person at the screen: every question the console's requests raise
is answered "allow". Prints ``ready`` once the session is open; runs until the session
ends or SIGTERM. ``--lossless`` gives the streamer ``ScreenEncoder(video=False)`` (no
H.264 video regions) instead of its default encoder. Like the real applet
(``applet/session_run.py``), the streamer gets an X DAMAGE watch
(:class:`~applet.damage_x11.X11DamageWatch`), so a still screen is not grabbed 30 times
a second; ``--no-damage`` leaves it out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
from typing import Any

from applet.capture import MssCapturer
from applet.controller import AppletController
from applet.damage_x11 import X11DamageWatch
from benchmarks.allowing_applet import CUSTOMER, allow_until_the_end
from benchmarks.links import run
from common.codec import ScreenEncoder
from common.errors import LifelineError
from common.transport import BrokerAddress, BrokerClient, PeerSession


async def _main(args: argparse.Namespace) -> None:
    damage = None if args.no_damage else X11DamageWatch()
    try:
        await _serve(args, damage)
    finally:
        if damage is not None:
            damage.close()


async def _serve(args: argparse.Namespace, damage: X11DamageWatch | None) -> None:
    async with BrokerClient(BrokerAddress(args.url, ca_file=args.ca)) as client:
        session = await PeerSession.claim(client, args.code, CUSTOMER)
        try:
            await session.wait_open(30.0)
            controller = AppletController(session, MssCapturer(), damage=damage)
            if args.lossless:  # before the first frame: the streamer has not started
                options: dict[str, Any] = {"video": False}
                controller.streamer.encoder = ScreenEncoder(**options)
            await allow_until_the_end(controller)
        finally:
            with contextlib.suppress(LifelineError):
                await session.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.screen_applet")
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--lossless", action="store_true", help="no H.264 video regions")
    parser.add_argument("--no-damage", action="store_true", help="grab 30/s, no X DAMAGE")
    # SIGTERM (the benchmark stopping us) cancels _main, which closes the session first.
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
