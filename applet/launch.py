"""Where the applet's code, broker and language come from, before any window opens.

* The **code**: ``--code``; else the applet's own file name, so a per-session download
  (``Lifeline-482193076.exe``, ``Lifeline-482-193-076 (1).exe``) needs no rebuild; else
  the person types it in the entry window, which starts with the nameplate when the
  name carries only that (``Lifeline-482.exe``: the default, docs/threat-model.md §6).
* The **broker**: ``--broker`` (with ``--ca-file`` or ``--ca-fingerprint`` to pin it);
  else ``lifeline-broker.json`` next to the applet (``{"url": …, "ca_fingerprint": …}``,
  written by whoever deploys it); else the default the build baked into
  :mod:`applet.build_defaults`.
* The **language**: ``--lang``; else the system locale (:mod:`applet.ui.translation`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from applet import build_defaults
from common.crypto.code import SessionCode
from common.errors import LifelineError, WrongCode
from common.transport import BrokerAddress

BROKER_FILE = "lifeline-broker.json"
#: A deployment file is a few lines; anything bigger is not one.
MAX_BROKER_FILE = 16 * 1024
LANGUAGES = ("en", "fr")

# What a session code in a file name looks like: 9 to 15 digits in one run, or as the
# code is printed, in groups of three (the last group may be shorter).
_CODE_IN_NAME = re.compile(
    r"(?<![0-9])([0-9]{9,15}|[0-9]{3}(?:[-_.][0-9]{3})+(?:[-_.][0-9]{1,2})?)(?![0-9])"
)


class LaunchError(LifelineError):
    """The applet cannot start as asked; the message is shown to the person."""


@dataclass(frozen=True)
class LaunchSettings:
    code: SessionCode | None
    broker: BrokerAddress
    lang: str | None
    #: Digits the entry window starts with: the nameplate a download's name carries
    #: when the technician kept the six secret digits out of it (the default).
    prefill: str = ""


def code_from_file_name(path: str | Path) -> SessionCode | None:
    """The session code a download's file name carries, or None."""
    match = _CODE_IN_NAME.search(Path(path).name)
    if match is None:
        return None
    try:
        return SessionCode.parse(re.sub(r"[-_.]", "", match.group(1)))
    except WrongCode:
        return None


_NAMEPLATE_IN_NAME = re.compile(r"(?<![0-9])([0-9]{3,9})(?![0-9])")


def nameplate_from_file_name(path: str | Path) -> str:
    """``Lifeline-482.exe`` → ``482``: the session's nameplate without its secret."""
    match = _NAMEPLATE_IN_NAME.search(Path(path).name)
    return match.group(1) if match else ""


def program_path() -> Path:
    """The file the person double-clicked: the one-file binary when frozen."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable)
    return Path(sys.argv[0])


def broker_from_file(folder: Path) -> BrokerAddress | None:
    path = folder / BROKER_FILE
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BROKER_FILE + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LaunchError(f"Could not read {path}: {exc.strerror}.") from None
    if len(raw) > MAX_BROKER_FILE:
        raise LaunchError(f"{path} is too large to be a Lifeline server setting.")
    try:
        data = json.loads(raw)
        url = data["url"]
        fingerprint = data.get("ca_fingerprint")
        if not isinstance(url, str) or not (fingerprint is None or isinstance(fingerprint, str)):
            raise TypeError
        return BrokerAddress(url, ca_fingerprint=fingerprint)
    except (ValueError, KeyError, TypeError, AttributeError, LifelineError):
        raise LaunchError(
            f"{path} is not a valid Lifeline server setting. "
            'It should look like {"url": "https://support.example.com"}.'
        ) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lifeline-applet",
        description="Lets a technician help you on this computer, with your permission.",
    )
    p.add_argument("--code", help="the session code your technician gave you")
    p.add_argument("--broker", metavar="URL", help="the Lifeline server, https://host:port")
    pin = p.add_mutually_exclusive_group()
    pin.add_argument("--ca-file", type=Path, help="CA certificate that signed the server's")
    pin.add_argument("--ca-fingerprint", help="SHA-256 fingerprint of the server's CA")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the windows")
    return p


def settings(argv: list[str] | None = None, program: Path | None = None) -> LaunchSettings:
    """Reads the command line, the program's name and its folder. Raises
    :class:`LaunchError` with a message for the person when something is wrong."""
    args = parser().parse_args(argv)
    program = program or program_path()
    if args.code is not None:
        code: SessionCode | None = SessionCode.parse(args.code)
    else:
        code = code_from_file_name(program)
    if args.broker:
        try:
            broker = BrokerAddress(
                args.broker, ca_file=args.ca_file, ca_fingerprint=args.ca_fingerprint
            )
        except LifelineError as exc:
            raise LaunchError(str(exc)) from None
    else:
        found = broker_from_file(program.resolve().parent)
        if found is None and build_defaults.BROKER_URL:
            found = BrokerAddress(
                build_defaults.BROKER_URL, ca_fingerprint=build_defaults.CA_FINGERPRINT
            )
        if found is None:
            raise LaunchError(
                "This copy of Lifeline does not say which support server to use. "
                "Ask your technician for a new download link."
            )
        broker = found
    prefill = "" if code else nameplate_from_file_name(program)
    return LaunchSettings(code, broker, args.lang, prefill)
