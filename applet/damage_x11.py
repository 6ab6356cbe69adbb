"""X11: the DAMAGE extension tells when anything on the screen was drawn, and where, so
an idle screen costs no grabs (x11vnc waits the same way) and a busy one is compared only
where it was drawn on.

The server keeps the damage as a region. Each `changed_area` moves that region, in one
request, into an XFixes region (DamageSubtract's "parts") and reads its bounding box
back: whatever is drawn before the request is in it, whatever comes after stays for the
next call, so nothing falls between two grabs. python-xlib has no XFixes region
requests; the two used here are written out from the XFixes protocol (version 2).
"""

from __future__ import annotations

import select
from typing import Any

from Xlib.protocol import rq, structs

#: (x0, y0, x1, y1) in root window pixels, end-exclusive.
Box = tuple[int, int, int, int]


class _CreateRegion(rq.Request):  # type: ignore[misc]
    _request = rq.Struct(
        rq.Card8("opcode"),
        rq.Opcode(5),
        rq.RequestLength(),
        rq.Card32("region"),
        rq.List("rectangles", structs.Rectangle),
    )


class _FetchRegion(rq.ReplyRequest):  # type: ignore[misc]
    _request = rq.Struct(
        rq.Card8("opcode"),
        rq.Opcode(19),
        rq.RequestLength(),
        rq.Card32("region"),
    )
    _reply = rq.Struct(
        rq.ReplyCode(),
        rq.Pad(1),
        rq.Card16("sequence_number"),
        rq.ReplyLength(),
        rq.Object("extents", structs.Rectangle),
        rq.Pad(16),
        # The region's rectangles follow; only its bounding box is used, and parsing
        # them costs more than the rest (a terminal that scrolls leaves hundreds: 0.5 ms
        # against 0.1 with 300 of them).
    )


class X11DamageWatch:
    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display
        from Xlib.ext import damage

        self._display: Any = display.Display(display_name)
        for extension in ("DAMAGE", "XFIXES"):
            if not self._display.has_extension(extension):
                self._display.close()
                raise OSError(f"the X server has no {extension} extension")
        self._display.damage_query_version()
        self._display.xfixes_query_version()
        self._damage = self._display.screen().root.damage_create(damage.DamageReportNonEmpty)
        self._event = self._display.extension_event.DamageNotify
        protocol = self._display.display
        self._xfixes = protocol.get_extension_major("XFIXES")
        self._parts = protocol.allocate_resource_id()
        _CreateRegion(display=protocol, opcode=self._xfixes, region=self._parts, rectangles=[])
        self._display.sync()

    def wait_for_change(self, timeout: float) -> bool:
        """Blocks until something was drawn since the last `changed_area`, or `timeout`
        seconds; True when something was (or perhaps was: a report that came before
        that call may wake it once for nothing)."""
        changed = self._drain()
        if not changed:
            readable, _, _ = select.select([self._display.fileno()], [], [], timeout)
            changed = bool(readable) and self._drain()
        return changed

    def changed_area(self) -> Box | None:
        """The bounding box of everything drawn since the last call, or None when nothing
        was; the next call reports what is drawn from now on. Drawing reported here and
        grabbed after this call is on the grab."""
        display = self._display
        display.damage_subtract(self._damage, 0, self._parts)
        reply = _FetchRegion(display=display.display, opcode=self._xfixes, region=self._parts)
        extents = reply.extents
        if extents.width == 0 or extents.height == 0:
            return None
        return (
            extents.x,
            extents.y,
            extents.x + extents.width,
            extents.y + extents.height,
        )

    def _drain(self) -> bool:
        changed = False
        while self._display.pending_events():
            event = self._display.next_event()
            changed = changed or event.type == self._event
        return changed

    def close(self) -> None:
        self._display.close()
