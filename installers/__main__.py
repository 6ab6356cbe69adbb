"""``python -m installers``: build Lifeline's programs for this platform, or report sizes.

    python -m installers build [applet|console|converter|all]…
        [--broker-url URL] [--ca-fingerprint FP] [--no-splash]
    python -m installers report PATH

``make dist`` runs ``build all``. ``--broker-url`` and ``--ca-fingerprint`` give the
applet its organisation's server, so a download needs nothing beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installers import sizes
from installers.build import BuildError, build
from installers.project import PROGRAMS


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m installers", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build programs into dist/")
    b.add_argument("programs", nargs="*", choices=[*PROGRAMS, "all"], default=["all"])
    b.add_argument("--broker-url", help="the applet's server, https://host:port")
    b.add_argument("--ca-fingerprint", help="SHA-256 fingerprint of the server's CA")
    b.add_argument("--no-splash", action="store_true", help="the applet without its splash")
    r = sub.add_parser("report", help="what each bundled component adds to a build")
    r.add_argument("path", type=Path)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "report":
        print(sizes.report(args.path).format())
        return 0
    programs = list(PROGRAMS) if "all" in args.programs else list(dict.fromkeys(args.programs))
    for program in programs:
        try:
            built = build(
                program,
                broker_url=args.broker_url,
                ca_fingerprint=args.ca_fingerprint,
                splash=not args.no_splash,
            )
        except BuildError as exc:
            print(f"installers: {exc}", file=sys.stderr)
            return 1
        print(f"{program}: {built.artifact} ({built.size / 1e6:.1f} MB, {built.seconds:.0f} s)")
        print(built.report.format(top=12), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
