"""``python -m benchmarks [NAME] [--quick] [--json]``: run and print the benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import sys

from benchmarks import BENCHMARKS, load
from benchmarks.processes import BenchmarkError, machine, raise_open_file_limit
from benchmarks.report import Result, format_json, format_result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure the broker as real processes on 127.0.0.1.",
    )
    parser.add_argument(
        "name",
        nargs="?",
        choices=list(BENCHMARKS),
        help="one benchmark (default: all, in this order)",
    )
    parser.add_argument("--quick", action="store_true", help="less data, fewer repetitions")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    raise_open_file_limit()
    names = [args.name] if args.name else list(BENCHMARKS)
    facts = machine()
    results: dict[str, Result] = {}
    if not args.json:
        print(
            f"{facts['cpus']} CPUs ({facts['cpu']}), {facts['memory_gib']} GiB, "
            f"Python {facts['python']}, {facts['os']}, {facts['event_loop']}"
            + (", --quick" if args.quick else ""),
            flush=True,
        )
        print(flush=True)
    for name in names:
        try:
            result: Result = load(name).run(args.quick)
        except BenchmarkError as exc:
            print(f"benchmark {name} failed: {exc}", file=sys.stderr)
            return 1
        except (KeyboardInterrupt, asyncio.CancelledError):
            print(f"benchmark {name} interrupted; its processes are stopped", file=sys.stderr)
            return 130
        results[name] = result
        if not args.json:
            print(format_result(name, result), flush=True)
    if args.json:
        facts["quick"] = args.quick
        print(format_json(results, facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
