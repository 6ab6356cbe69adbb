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

from benchmarks.allowing_applet import full_applet
from benchmarks.files_console import run_on


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.files_applet")
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    # SIGTERM (the benchmark stopping us) cancels the coroutine, which closes the session.
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        run_on(args.loop, full_applet(args.url, args.ca, args.code))


if __name__ == "__main__":
    main()
