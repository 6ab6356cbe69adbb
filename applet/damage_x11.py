"""X11: the DAMAGE extension tells when anything on the screen was drawn, so an idle
screen costs no grabs (x11vnc waits the same way)."""

from __future__ import annotations

import select
from typing import Any


class X11DamageWatch:
    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display
        from Xlib.ext import damage

        self._display: Any = display.Display(display_name)
        if not self._display.has_extension("DAMAGE"):
            self._display.close()
            raise OSError("the X server has no DAMAGE extension")
        self._display.damage_query_version()
        self._damage = self._display.screen().root.damage_create(damage.DamageReportNonEmpty)
        self._event = self._display.extension_event.DamageNotify
        self._display.sync()

    def wait_for_change(self, timeout: float) -> bool:
        """Blocks until something was drawn since the last call, or ``timeout``
        seconds; True when something was."""
        changed = self._drain()
        if not changed:
            readable, _, _ = select.select([self._display.fileno()], [], [], timeout)
            changed = bool(readable) and self._drain()
        if changed:
            # Re-arm: NonEmpty reports again only once the damage has been subtracted.
            self._display.damage_subtract(self._damage)
            self._display.sync()
        return changed

    def _drain(self) -> bool:
        changed = False
        while self._display.pending_events():
            event = self._display.next_event()
            changed = changed or event.type == self._event
        return changed

    def close(self) -> None:
        self._display.close()
