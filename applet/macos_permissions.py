"""macOS: the applet needs Screen Recording (to see the screen) and Accessibility (to
control it); without them capture returns only the wallpaper and input is ignored
silently. This finds out which is missing and says exactly what to click.

Uses CoreGraphics' ``CGPreflightScreenCaptureAccess`` / ``CGRequestScreenCaptureAccess``
(macOS 10.15+) and ApplicationServices' ``AXIsProcessTrusted`` through ctypes, written to
Apple's documentation; not run on this project's Linux CI.
"""

from __future__ import annotations

import ctypes
import ctypes.util

SCREEN_RECORDING_HELP = (
    "To let your technician see your screen, open System Settings → Privacy & Security → "
    "Screen Recording, turn on Lifeline, then quit Lifeline and open it again."
)
ACCESSIBILITY_HELP = (
    "To let your technician use your mouse and keyboard, open System Settings → Privacy & "
    "Security → Accessibility, turn on Lifeline, then quit Lifeline and open it again."
)


def missing_permissions() -> list[str]:
    """The help texts for the permissions not granted yet (empty when all are)."""
    missing = []
    graphics = ctypes.cdll.LoadLibrary(ctypes.util.find_library("CoreGraphics") or "")
    if hasattr(graphics, "CGPreflightScreenCaptureAccess"):
        graphics.CGPreflightScreenCaptureAccess.restype = ctypes.c_bool
        if not graphics.CGPreflightScreenCaptureAccess():
            graphics.CGRequestScreenCaptureAccess()  # adds Lifeline to the list, unticked
            missing.append(SCREEN_RECORDING_HELP)
    services = ctypes.cdll.LoadLibrary(ctypes.util.find_library("ApplicationServices") or "")
    services.AXIsProcessTrusted.restype = ctypes.c_bool
    if not services.AXIsProcessTrusted():
        missing.append(ACCESSIBILITY_HELP)
    return missing
