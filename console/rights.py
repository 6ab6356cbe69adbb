"""What the technician may do in one session, as the applet last said.

Pure logic: the console's buttons show :meth:`Rights.state` for each action, and the
control path asks :meth:`Rights.granted` before sending any input. The applet is the
authority; this only mirrors its ``permission`` messages (docs/protocol.md §5.12).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

ACTIONS = ("view_screen", "remote_control", "file_manager", "system_info", "clipboard_sync")


class RightState(enum.StrEnum):
    NONE = "none"  # never asked
    PENDING = "pending"  # asked, no answer yet
    GRANTED = "granted"
    DENIED = "denied"
    REVOKED = "revoked"


@dataclass(frozen=True)
class RightChanged:
    action: str
    state: RightState
    #: With DENIED: "policy", "person", "timeout" or "recently_refused".
    reason: str = ""


class Rights:
    def __init__(self) -> None:
        self._states = dict.fromkeys(ACTIONS, RightState.NONE)

    def state(self, action: str) -> RightState:
        return self._states[action]

    def granted(self, action: str) -> bool:
        return self._states.get(action) == RightState.GRANTED

    def asking(self, action: str) -> RightChanged | None:
        """The technician asks; None when it is already granted or pending."""
        if action not in self._states:
            raise ValueError(f"unknown action {action!r}")
        if self._states[action] in (RightState.GRANTED, RightState.PENDING):
            return None
        self._states[action] = RightState.PENDING
        return RightChanged(action, RightState.PENDING)

    def answered(self, action: str, state: str, reason: str = "") -> RightChanged | None:
        """The applet's ``permission`` message; None for one that names nothing we know."""
        if action not in self._states:
            return None
        try:
            new = RightState(state)
        except ValueError:
            return None
        if new not in (RightState.GRANTED, RightState.DENIED, RightState.REVOKED):
            return None
        self._states[action] = new
        return RightChanged(action, new, reason if new == RightState.DENIED else "")

    def end(self) -> list[RightChanged]:
        """The session ended: whatever was granted is gone."""
        changes = [
            RightChanged(a, RightState.REVOKED)
            for a, s in self._states.items()
            if s in (RightState.GRANTED, RightState.PENDING)
        ]
        for change in changes:
            self._states[change.action] = RightState.REVOKED
        return changes
