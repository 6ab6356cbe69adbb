"""``lifeline-console``: the technician's program. Not built yet (the console issue)."""

import sys


def main() -> int:
    print("lifeline-console is not built yet: see the console issue.", file=sys.stderr)
    return 2
