"""The frozen converter's entry point: a window without arguments, else the command."""

import sys

if __name__ == "__main__":
    from console.converter import main

    sys.exit(main())
