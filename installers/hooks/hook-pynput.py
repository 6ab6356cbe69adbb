"""pynput picks its backend by name at run time (``pynput._util.backend``); the
contributed hook finds them with collect_submodules, which imports every backend and so
needs a display (X11) at build time. These are the backends each platform's applet
uses, listed without importing anything."""

import sys

if sys.platform == "win32":
    hiddenimports = [
        "pynput.keyboard._win32",
        "pynput.mouse._win32",
        "pynput._util.win32",
        "pynput._util.win32_vks",
    ]
elif sys.platform == "darwin":
    hiddenimports = [
        "pynput.keyboard._darwin",
        "pynput.mouse._darwin",
        "pynput._util.darwin",
        "pynput._util.darwin_vks",
    ]
else:
    hiddenimports = [
        "pynput.keyboard._xorg",
        "pynput.mouse._xorg",
        "pynput._util.xorg",
        "pynput._util.xorg_keysyms",
    ]
