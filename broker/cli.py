"""``lifeline-broker``: run the broker, or administer its accounts.

lifeline-broker serve [--host H] [--port P] [--data DIR]
lifeline-broker admin add-group NAME [--permissions a,b,…]
lifeline-broker admin add-technician EMAIL --name N --group G [--password P]
lifeline-broker admin list
lifeline-broker admin disable|enable EMAIL
lifeline-broker admin reset-password EMAIL [--password P] [--force-change]
lifeline-broker admin enroll-totp EMAIL
lifeline-broker admin set-permissions GROUP a,b,…
lifeline-broker admin password-policy | allow-networks | force-password-change …
lifeline-broker admin audit | group-settings | purge | set-webhook | webhooks | export |
                      forget | backup | restore | rotate-data-key …
(``lifeline-broker admin COMMAND --help`` explains each.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import importlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import platformdirs

from broker.accounts import Accounts
from broker.app import Broker, open_storage, start_broker
from broker.config import BrokerConfig
from broker.permissions import PERMISSIONS, check_permissions


def default_data_dir() -> Path:
    return platformdirs.user_data_path("lifeline") / "broker"


def _permissions(text: str) -> list[str]:
    try:
        return check_permissions([p.strip() for p in text.split(",") if p.strip()])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifeline-broker", description="The Lifeline broker: pairs and relays sessions."
    )
    parser.add_argument(
        "--data", type=Path, default=default_data_dir(), help="data folder (default: %(default)s)"
    )
    # --data is accepted before or after the command ("serve --data DIR").
    parser.add_argument(
        "--data-key-file",
        type=Path,
        help="the key file that seals stored text (default: data-key.json in the data "
        "folder, or LIFELINE_DATA_KEY)",
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", type=Path, default=argparse.SUPPRESS, help="data folder")
    data.add_argument(
        "--data-key-file", type=Path, default=argparse.SUPPRESS, help="the data key file"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the broker", parents=[data])
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=8443, help="TLS port (%(default)s)")
    serve.add_argument(
        "--public-url",
        action="append",
        default=[],
        help="URL clients use (repeat for a gateway list)",
    )
    serve.add_argument(
        "--hostname", action="append", default=[], help="extra name for the self-made certificate"
    )
    serve.add_argument(
        "--grace", type=float, default=60.0, help="seconds a dropped peer may take to resume"
    )
    serve.add_argument(
        "--code-ttl", type=float, default=600.0, help="seconds an unused code stays valid"
    )
    serve.add_argument("--cert", type=Path, help="certificate chain from a public CA (PEM)")
    serve.add_argument("--key", type=Path, help="its private key (PEM)")
    serve.add_argument(
        "--applet-downloads",
        type=Path,
        metavar="DIR",
        help="folder of signed applet builds, served per session at /download/applet/…",
    )
    serve.add_argument("-v", "--verbose", action="store_true")

    admin = sub.add_parser("admin", help="manage technicians and groups", parents=[data])
    asub = admin.add_subparsers(dest="action", required=True)
    g = asub.add_parser("add-group", help="create a technician group")
    g.add_argument("name")
    g.add_argument(
        "--permissions", type=_permissions, help=f"comma-separated, from: {', '.join(PERMISSIONS)}"
    )
    sp = asub.add_parser("set-permissions", help="replace a group's permissions")
    sp.add_argument("name")
    sp.add_argument("permissions", type=_permissions)
    t = asub.add_parser("add-technician", help="create a technician account")
    t.add_argument("email")
    t.add_argument("--name", required=True)
    t.add_argument("--group", required=True)
    t.add_argument("--password", help="prompted for when omitted")
    t.add_argument(
        "--force-change", action="store_true", help="must change the password at first sign-in"
    )
    asub.add_parser("list", help="list groups and technicians")
    for name, text in (("disable", "block a technician"), ("enable", "unblock a technician")):
        p = asub.add_parser(name, help=text)
        p.add_argument("email")
    r = asub.add_parser("reset-password", help="set a new password (signs the technician out)")
    r.add_argument("email")
    r.add_argument("--password", help="prompted for when omitted")
    r.add_argument("--force-change", action="store_true")
    e = asub.add_parser("enroll-totp", help="turn on two-step sign-in; prints the setup URI")
    e.add_argument("email")
    for module in _admin_modules():
        module.add_commands(asub)
    return parser


#: Modules that add admin commands of their own: each has ``add_commands(subparsers)``
#: and ``run(args, storage, accounts) -> int | None`` (None: not one of its commands).
ADMIN_MODULES = ("broker.cli_audit", "broker.cli_access")


def _admin_modules() -> list[Any]:
    return [importlib.import_module(name) for name in ADMIN_MODULES]


def _password(given: str | None) -> str:
    if given:
        return given
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the passwords differ")
    return first


def run_admin(args: argparse.Namespace) -> int:
    storage = open_storage(args.data, args.data_key_file)
    accounts = Accounts(storage, BrokerConfig(data_dir=args.data))
    try:
        if args.action == "add-group":
            group = accounts.add_group(args.name, args.permissions)
            print(f"group {group.name}: {', '.join(group.permissions)}")
        elif args.action == "set-permissions":
            if storage.get_group(args.name) is None:
                raise ValueError(f"there is no group named {args.name!r}")
            accounts.add_group(args.name, args.permissions)
            print(f"group {args.name}: {', '.join(args.permissions)} (applies to new sessions)")
        elif args.action == "add-technician":
            tech = accounts.add_technician(
                args.email,
                args.name,
                _password(args.password),
                args.group,
                must_change=args.force_change,
            )
            print(f"technician {tech.email} added to {tech.group_name}")
        elif args.action == "list":
            for group in storage.list_groups():
                print(f"group {group.name}: {', '.join(group.permissions)}")
            for t in storage.list_technicians():
                flags = [f for f, on in (("disabled", t.disabled), ("2fa", t.totp_secret)) if on]
                print(f"{t.email:32} {t.name:24} {t.group_name:16} {' '.join(flags)}")
        elif args.action in ("disable", "enable"):
            accounts.set_disabled(args.email, args.action == "disable")
            print(f"{args.email} {args.action}d")
        elif args.action == "reset-password":
            accounts.set_password(
                args.email, _password(args.password), must_change=args.force_change
            )
            print(f"password of {args.email} reset")
        elif args.action == "enroll-totp":
            print(accounts.enroll_totp(args.email))
        else:
            for module in _admin_modules():
                status = module.run(args, storage, accounts)
                if status is not None:
                    return int(status)
    except ValueError as exc:
        print(f"lifeline-broker: {exc}", file=sys.stderr)
        return 2
    finally:
        storage.close()
    return 0


async def start_or_explain(
    config: BrokerConfig, applet_downloads: Path | None = None
) -> Broker | None:
    """Starts the broker, or prints why it cannot (port taken, no permission)."""
    try:
        return await start_broker(config, applet_downloads=applet_downloads)
    except OSError as exc:
        print(
            f"lifeline-broker: cannot listen on {config.host}:{config.port}: "
            f"{exc.strerror or exc}. Is another broker running? Choose another port with --port.",
            file=sys.stderr,
        )
        return None


async def serve(config: BrokerConfig, applet_downloads: Path | None = None) -> int:
    broker = await start_or_explain(config, applet_downloads)
    if broker is None:
        return 1
    print(f"Lifeline broker listening on {broker.url}", flush=True)
    for label, value in broker.certs.describe():
        print(f"{label}: {value}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await broker.stop()
    return 0


def install_event_loop_policy() -> None:
    """uvloop where available: about a third of asyncio's memory per TLS connection."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "admin":
        return run_admin(args)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    config = BrokerConfig(
        data_dir=args.data,
        host=args.host,
        port=args.port,
        public_urls=args.public_url,
        hostnames=args.hostname,
        grace_period=args.grace,
        nameplate_ttl=args.code_ttl,
        cert_file=args.cert,
        key_file=args.key,
        data_key_file=args.data_key_file,
    )
    if (args.cert is None) != (args.key is None):
        print("lifeline-broker: --cert and --key go together", file=sys.stderr)
        return 2
    if args.applet_downloads is not None and not args.applet_downloads.is_dir():
        print(f"lifeline-broker: {args.applet_downloads} is not a folder", file=sys.stderr)
        return 2
    install_event_loop_policy()
    return asyncio.run(serve(config, args.applet_downloads))


if __name__ == "__main__":
    sys.exit(main())
