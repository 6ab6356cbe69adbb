"""The frozen console's entry point."""

import sys

if __name__ == "__main__":
    from console.main import main

    sys.exit(main())
