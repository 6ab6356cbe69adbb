"""``lifeline-broker admin`` commands: password policy, and where technicians sign in from.

lifeline-broker admin password-policy [--min-score N] [--max-age-days N]
lifeline-broker admin allow-networks (EMAIL | --group G) [CIDR …] [--clear]
lifeline-broker admin force-password-change EMAIL
"""

from __future__ import annotations

import argparse
from typing import Any

from broker.accounts import Accounts
from broker.networks import group_networks
from broker.password_policy import DEFAULT_MIN_SCORE
from broker.records import Storage
from common.password_strength import LABELS, MAX_SCORE, MIN_LENGTH

COMMANDS = ("password-policy", "allow-networks", "force-password-change")


def _score(text: str) -> int:
    try:
        score = int(text)
    except ValueError:
        score = -1
    if not 0 <= score <= MAX_SCORE:
        raise argparse.ArgumentTypeError(f"a whole number from 0 to {MAX_SCORE}, not {text!r}")
    return score


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = -1
    if not 0 <= days <= 36_500:
        raise argparse.ArgumentTypeError(f"a number of days from 0 to 36500, not {text!r}")
    return days


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps paragraphs to the terminal; keeps an example block's lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = []
        for block in text.split("\n\n"):
            kept = "\n" in block
            blocks.append(block if kept else super()._fill_text(block, width, indent))
        return "\n\n".join(blocks)


def add_commands(sub: Any) -> None:
    """Adds this module's commands to ``admin``'s subparsers."""
    scores = ", ".join(f"{n} {label}" for n, label in enumerate(LABELS))
    p = sub.add_parser(
        "password-policy",
        help="show or set how strong and how recent passwords must be",
        description="Show the organisation's password policy, or change the settings "
        "given. Every password must also clear the floor: at least "
        f"{MIN_LENGTH} characters, with letters and digits. The policy applies when a "
        "password is set (new technician, reset, change); an expired password must be "
        "changed at the next sign-in.",
        formatter_class=_HelpFormatter,
        epilog="examples:\n"
        "  lifeline-broker admin password-policy\n"
        "  lifeline-broker admin password-policy --min-score 3 --max-age-days 90",
    )
    p.add_argument(
        "--min-score",
        type=_score,
        metavar="N",
        help=f"minimum strength from the zxcvbn estimator, 0 to {MAX_SCORE} ({scores}); "
        f"0 is the floor only; a new broker asks for {DEFAULT_MIN_SCORE}",
    )
    p.add_argument(
        "--max-age-days",
        type=_days,
        metavar="N",
        help="days a password may be used before it must be changed; 0 (a new broker's): no limit",
    )

    n = sub.add_parser(
        "allow-networks",
        help="limit where a technician or a group may sign in from",
        usage="%(prog)s (EMAIL | --group GROUP) [CIDR ...] [--clear]",
        description="Set the networks a technician, or every technician of a group, may "
        "sign in from (CIDR, IPv4 or IPv6; a single address is a /32 or /128). The list "
        "replaces the one before. With no networks, show the list. A sign-in from "
        "elsewhere is refused with the address it came from. When a technician and their "
        "group both have a list, the address must be in both. Behind a reverse proxy the "
        "broker sees the proxy's address: list the proxy's, or do not use allow-lists.",
        formatter_class=_HelpFormatter,
        epilog="examples:\n"
        "  lifeline-broker admin allow-networks ann@example.com 203.0.113.0/24 2001:db8::/32\n"
        "  lifeline-broker admin allow-networks --group Support 198.51.100.0/24\n"
        "  lifeline-broker admin allow-networks ann@example.com --clear",
    )
    n.add_argument(
        "--group", metavar="GROUP", help="set the group's list instead of a technician's"
    )
    n.add_argument(
        "--clear", action="store_true", help="remove the list: sign-ins from anywhere again"
    )
    n.add_argument(
        "targets",
        nargs="*",
        metavar="EMAIL | CIDR",
        help="the technician's e-mail address (without --group), then the networks",
    )

    f = sub.add_parser(
        "force-password-change",
        help="make a technician choose a new password at their next sign-in",
        description="The technician must choose a new password the next time they sign "
        "in (the console asks for it). Their current sign-ins stay valid until then; "
        "reset-password or disable end them at once.",
        formatter_class=_HelpFormatter,
    )
    f.add_argument("email", metavar="EMAIL", help="the technician's e-mail address")


def run(args: argparse.Namespace, storage: Storage, accounts: Accounts) -> int | None:
    """Runs ``args.action`` if it is one of this module's commands."""
    if args.action == "password-policy":
        if args.min_score is None and args.max_age_days is None:
            policy = accounts.password_policy
        else:
            policy = accounts.set_password_policy(
                min_score=args.min_score, max_age_days=args.max_age_days
            )
        print("\n".join(policy.describe()))
        return 0
    if args.action == "allow-networks":
        return _allow_networks(args, storage, accounts)
    if args.action == "force-password-change":
        accounts.force_password_change(args.email)
        print(f"{args.email} must choose a new password at the next sign-in")
        return 0
    return None


def _allow_networks(args: argparse.Namespace, storage: Storage, accounts: Accounts) -> int:
    targets: list[str] = list(args.targets)
    if args.group is None:
        if not targets:
            raise ValueError("name a technician (EMAIL) or a group (--group GROUP)")
        email, networks = targets[0], targets[1:]
        subject = email
    else:
        networks, subject = targets, f"group {args.group}"
    if args.clear and networks:
        raise ValueError("--clear takes no networks")
    if args.clear or networks:
        if args.group is None:
            result = accounts.set_allowed_networks(email, networks)
        else:
            result = accounts.set_group_networks(args.group, networks)
    elif args.group is None:
        tech = storage.get_technician(email.strip().lower())
        if tech is None:
            raise ValueError(f"there is no technician {email!r}")
        result = tech.allowed_networks
    else:
        group = storage.get_group(args.group)
        if group is None:
            raise ValueError(f"there is no group named {args.group!r}")
        result = group_networks(group)
    print(f"{subject} may sign in from: {', '.join(result) or 'anywhere'}")
    if args.group is None:
        tech = storage.get_technician(email.strip().lower())
        group = storage.get_group(tech.group_name) if tech is not None else None
        if group is not None and group_networks(group):
            print(f"and only from group {group.name}'s: {', '.join(group_networks(group))}")
    return 0
