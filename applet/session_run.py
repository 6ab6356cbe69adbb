"""One applet session from code to end, on its own asyncio thread, for a Qt shell.

The window thread calls :meth:`AppletRun.start` with a code and then only the person's
intents (:meth:`answer`, :meth:`revoke`, :meth:`take_back`, :meth:`say`,
:meth:`share_clipboard`, :meth:`end`); each is safe to call from any thread. What the
window must show arrives through ``report``, called on the session thread with:

* :class:`Connecting`, :class:`Waiting`, :class:`Joined` — the steps to a session;
* :class:`CodeRejected` — the code was wrong or expired: ask for it again;
* :class:`Failed` — the server could not be reached or the session could not start;
* the controller's events (:mod:`applet.controller`), the last of which is
  :class:`~common.transport.Ended` (an :class:`~applet.controller.InactivityEnded`
  when nothing happened for too long).

Exactly one of :class:`CodeRejected`, :class:`Failed` or ``Ended`` ends every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import platform
import sys
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from applet.capture import Capturer, MssCapturer
from applet.consent import Action
from applet.controller import DEFAULT_INACTIVITY_TIMEOUT, AppletController, UiEvent
from applet.cursor import CursorSource, open_cursor_source
from applet.injector import Injector, open_injector
from common.crypto.code import SessionCode
from common.errors import CodeNotFound, LifelineError, WrongCode
from common.transport import BrokerAddress, BrokerClient, Ended, PeerSession
from common.transport.event_loop import new_event_loop

log = logging.getLogger("lifeline.applet")


@dataclass(frozen=True)
class Connecting:
    pass


@dataclass(frozen=True)
class Waiting:
    pass


@dataclass(frozen=True)
class Joined:
    technician: str
    #: The short authentication string both sides show, to compare by phone.
    sas: str
    #: The technician's group records every session (signed policy: forced_recording).
    recorded: bool = False


def recorded_by_policy(session: PeerSession) -> bool:
    """The technician's group records every session (the signed policy says so)."""
    return "forced_recording" in (session.policy or {}).get("permissions", [])


@dataclass(frozen=True)
class CodeRejected:
    message: str


@dataclass(frozen=True)
class Failed:
    message: str


RunEvent = Connecting | Waiting | Joined | CodeRejected | Failed | UiEvent


def _customer() -> dict[str, str]:
    """What the technician's queue shows about this computer."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = ""
    return {"name": user[:64], "host": platform.node()[:64], "os": platform.system()[:32]}


class AppletRun:
    def __init__(
        self,
        broker: BrokerAddress,
        report: Callable[[RunEvent], None],
        *,
        capturer_factory: Callable[[], Capturer] = MssCapturer,
        injector_factory: Callable[[], Injector | None] = open_injector,
        cursor_factory: Callable[[], CursorSource | None] = open_cursor_source,
        inactivity_timeout: float = DEFAULT_INACTIVITY_TIMEOUT,
    ) -> None:
        """``inactivity_timeout``: seconds without activity before the session ends by
        itself, unless the signed policy sets its own (:class:`AppletController`)."""
        self.broker = broker
        self._report = report
        self._capturer_factory = capturer_factory
        self._injector_factory = injector_factory
        self._cursor_factory = cursor_factory
        self.inactivity_timeout = inactivity_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._controller: AppletController | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._end_requested = False

    # ---- from the window thread ----------------------------------------------------

    def start(self, code: SessionCode) -> None:
        """Connects with ``code`` on a new thread; returns at once."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("a session is already running")
        self._ready.clear()
        self._end_requested = False
        self._thread = threading.Thread(
            target=self._run_loop, args=(code,), name="lifeline-session", daemon=True
        )
        self._thread.start()
        self._ready.wait()

    def _run_loop(self, code: SessionCode) -> None:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(self._run(code))

    def join(self, timeout: float | None = None) -> bool:
        """Waits for the session thread to finish; True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def answer(self, question_id: int, allow: bool) -> None:
        self._with_controller(lambda c: c.answer(question_id, allow))

    def revoke(self, action: Action) -> None:
        self._with_controller(lambda c: c.revoke(action))

    def take_back(self) -> None:
        """The take-back hotkey: remote control goes at once (the view stays)."""
        self.revoke(Action.REMOTE_CONTROL)

    def say(self, text: str) -> None:
        self._with_controller(lambda c: _sync(c.say, text))

    def share_clipboard(self, text: str) -> None:
        self._with_controller(lambda c: _sync(c.share_clipboard, text))

    def pause_input(self, paused: bool) -> None:
        """The person is using their own mouse or keyboard: remote input waits."""
        self._with_controller(lambda c: _sync(c.pause_input, paused))

    def end(self) -> None:
        """Ends the session, or stops connecting; ``report`` still gets the last event."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has just closed: nothing to end
            loop.call_soon_threadsafe(self._end_now)

    # ---- on the session thread -----------------------------------------------------

    def _with_controller(
        self, make: Callable[[AppletController], Coroutine[Any, Any, None]]
    ) -> None:
        loop = self._loop
        if loop is None:
            return

        def call() -> None:
            controller = self._controller
            if controller is not None:
                loop.create_task(_logged(make(controller)))

        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(call)

    def _end_now(self) -> None:
        self._end_requested = True
        if self._controller is not None:
            asyncio.get_running_loop().create_task(_logged(self._controller.end()))
        elif self._main is not None:
            self._main.cancel()

    async def _run(self, code: SessionCode) -> None:
        self._loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self._ready.set()
        try:
            await self._session(code)
        except asyncio.CancelledError:
            self._report(Ended("local", "You ended the session."))
        except (WrongCode, CodeNotFound) as exc:
            self._report(CodeRejected(str(exc)))
        except LifelineError as exc:
            self._report(Failed(str(exc)))
        except Exception as exc:
            log.exception("the session failed")
            self._report(Failed(f"Something went wrong: {exc}"))
        finally:
            self._controller = None
            self._loop = None

    async def _session(self, code: SessionCode) -> None:
        self._report(Connecting())
        async with BrokerClient(self.broker) as client:
            session = await PeerSession.claim(client, code, _customer())
            try:
                self._report(Waiting())
                sas = await session.wait_open()
                await self._serve(session, sas)
            finally:
                if self._end_requested:
                    await session.end()  # the technician is told, not left waiting
                else:
                    await session.close()

    async def _serve(self, session: PeerSession, sas: str) -> None:
        capturer = await asyncio.to_thread(self._capturer_factory)
        injector = None
        try:
            injector = await asyncio.to_thread(self._injector_factory)
        except (LifelineError, NotImplementedError, OSError) as exc:
            # The session still helps without control (chat, view): say why, go on.
            log.warning("remote control is not available here: %s", exc)
        cursor = None
        try:
            cursor = await asyncio.to_thread(self._cursor_factory)
        except OSError as exc:
            log.warning("the pointer will not be shown to the technician: %s", exc)
        damage = None
        if sys.platform.startswith("linux"):
            try:
                from applet.damage_x11 import X11DamageWatch

                damage = await asyncio.to_thread(X11DamageWatch)
            except OSError as exc:
                log.info("no damage reports: the screen is grabbed 30 times a second: %s", exc)
        controller = AppletController(
            session,
            capturer,
            injector,
            cursor,
            damage,
            inactivity_timeout=self.inactivity_timeout,
        )
        try:
            controller.start()
            self._controller = controller
            self._report(Joined(controller.consent.technician, sas, recorded_by_policy(session)))
            while True:
                event = await controller.events.get()
                self._report(event)
                if isinstance(event, Ended):
                    return
        finally:
            self._controller = None
            await controller.stop()
            if injector is not None:
                injector.close()
            if cursor is not None:
                cursor.close()
            if damage is not None:
                damage.close()
            capturer.close()


async def _sync(method: Callable[[str], None] | Callable[[bool], None], arg: Any) -> None:
    method(arg)


async def _logged(coro: Coroutine[Any, Any, None]) -> None:
    try:
        await coro
    except LifelineError as exc:
        log.info("could not do that: %s", exc)
    except Exception:
        log.exception("an action of the person failed")
