"""``lifeline-converter``: RCREC to AVI. Not built yet (the recording issue)."""

import sys


def main() -> int:
    print("lifeline-converter is not built yet: see the recording issue.", file=sys.stderr)
    return 2
