"""``lifeline-applet``: the end user's program. Not built yet (the applet issue)."""

import sys


def main() -> int:
    print("lifeline-applet is not built yet: see the applet issue.", file=sys.stderr)
    return 2
