"""``lifeline-broker admin`` commands: audit log, data keys, retention, exports, backups."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    """Adds this module's commands to ``admin``'s subparsers."""


def run(args: argparse.Namespace, storage: Any, accounts: Any) -> int | None:
    """Runs ``args.action`` if it is one of this module's commands."""
    return None
