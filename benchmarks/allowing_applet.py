"""The applet ends of the benchmarks: the real :class:`~applet.controller.AppletController`
standing in for a person who answers "allow" to every question."""

from __future__ import annotations

import contextlib
from pathlib import Path

from applet.capture import MssCapturer
from applet.controller import AppletController, QuestionAsked
from applet.cursor import open_cursor_source
from applet.damage_x11 import X11DamageWatch
from applet.injector import open_injector
from common.errors import LifelineError
from common.transport import BrokerAddress, BrokerClient, Ended, PeerSession


async def allow_until_the_end(controller: AppletController) -> None:
    """Starts ``controller``, prints ``ready``, answers every question "allow" until the
    session ends, then stops the controller."""
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


#: Who the benchmarks' customer says they are.
CUSTOMER = {"name": "Bench", "host": "bench"}


async def full_applet(url: str, ca: Path, code: str) -> None:
    """Claims the session and runs the controller with the pieces ``applet/session_run.py``
    gives it on Linux: MssCapturer, the X11 injector, the X11 cursor source, X DAMAGE."""
    async with BrokerClient(BrokerAddress(url, ca_file=ca)) as client:
        session = await PeerSession.claim(client, code, CUSTOMER)
        injector, cursor, damage = open_injector(), open_cursor_source(), X11DamageWatch()
        try:
            await session.wait_open(30.0)
            await allow_until_the_end(
                AppletController(session, MssCapturer(), injector, cursor, damage)
            )
        finally:
            injector.close()
            if cursor is not None:
                cursor.close()
            damage.close()
            with contextlib.suppress(LifelineError):
                await session.close()
