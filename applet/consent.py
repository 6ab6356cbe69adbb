"""What the technician may do right now, decided by the person at the computer.

Pure logic, no Qt and no clock: callers pass ``now``. The applet's prompt widget shows
each :class:`Question` and reports the person's answer; the services (screen, input,
files, …) ask :meth:`Consent.granted` before doing anything.

Rules:
* An action the signed group policy does not allow is refused without asking.
* Every other action needs a "yes" to a question naming the technician and the action;
  no answer before the deadline is a "no".
* With the policy's ``single_prompt``, one question covers every action the policy
  allows, for the rest of the session.
* While any question is on screen, remote input is suspended, so the technician can
  never click "Allow" on the person's behalf.
* Remote control includes seeing the screen; taking back the view takes back control.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass

DEFAULT_ANSWER_TIMEOUT = 60.0
#: After a "no" (or no answer) the same request is refused without asking for this
#: long, so a console cannot wear the person down with prompt after prompt.
REASK_DELAY = 30.0


class Action(enum.StrEnum):
    VIEW_SCREEN = "view_screen"
    REMOTE_CONTROL = "remote_control"
    FILE_MANAGER = "file_manager"
    SYSTEM_INFO = "system_info"
    CLIPBOARD_SYNC = "clipboard_sync"

    @property
    def policy_permission(self) -> str:
        """The group permission (broker/permissions.py) that must allow this action."""
        return _POLICY_PERMISSION[self]

    @property
    def wording(self) -> str:
        """How the question names the action: '<technician> wants to …'."""
        return _WORDING[self]


_POLICY_PERMISSION = {
    Action.VIEW_SCREEN: "desktop_view",
    Action.REMOTE_CONTROL: "remote_control",
    Action.FILE_MANAGER: "file_manager",
    Action.SYSTEM_INFO: "system_info",
    Action.CLIPBOARD_SYNC: "clipboard_sync",
}
_WORDING = {
    Action.VIEW_SCREEN: "see your screen",
    Action.REMOTE_CONTROL: "see your screen and control your mouse and keyboard",
    Action.FILE_MANAGER: "browse and transfer your files",
    Action.SYSTEM_INFO: "see information about this computer",
    Action.CLIPBOARD_SYNC: "share your clipboard",
}
#: Granting the key grants these too; revoking any of these revokes the key.
_INCLUDES = {Action.REMOTE_CONTROL: (Action.VIEW_SCREEN,)}


@dataclass(frozen=True)
class Question:
    id: int
    technician: str
    #: The actions a "yes" grants: one, or all the policy allows (single prompt).
    actions: tuple[Action, ...]
    deadline: float

    @property
    def text(self) -> str:
        if len(self.actions) == 1:
            return f"{self.technician} wants to {self.actions[0].wording}."
        return (
            f"{self.technician} asks for permission to work on this computer for the rest "
            "of the session: " + ", ".join(a.wording for a in self.actions) + "."
        )


@dataclass(frozen=True)
class Granted:
    action: Action


@dataclass(frozen=True)
class Denied:
    action: Action
    #: "policy" (the group may not), "person" (they said no), "timeout" (no answer).
    reason: str


@dataclass(frozen=True)
class Revoked:
    action: Action


Change = Granted | Denied | Revoked


class Consent:
    def __init__(
        self,
        technician: str,
        policy_permissions: set[str],
        *,
        answer_timeout: float = DEFAULT_ANSWER_TIMEOUT,
    ) -> None:
        self.technician = technician
        self.allowed = {a for a in Action if a.policy_permission in policy_permissions}
        self.single_prompt = "single_prompt" in policy_permissions
        self.answer_timeout = answer_timeout
        self._granted: set[Action] = set()
        self._open: dict[int, Question] = {}
        self._ids = itertools.count(1)
        self._refused_until: dict[Action, float] = {}

    # ---- asking --------------------------------------------------------------------

    def request(self, action: Action, now: float) -> Question | Change | None:
        """The technician asks for ``action``. Returns the question to show, a
        :class:`Denied` when the policy forbids it, or None when it is already granted
        or already being asked."""
        if action not in self.allowed:
            return Denied(action, "policy")
        if action in self._granted:
            return None
        if now < self._refused_until.get(action, 0.0):
            return Denied(action, "recently_refused")
        if any(action in q.actions for q in self._open.values()):
            return None
        actions = tuple(sorted(self.allowed)) if self.single_prompt else (action,)
        question = Question(next(self._ids), self.technician, actions, now + self.answer_timeout)
        self._open[question.id] = question
        return question

    def answer(self, question_id: int, allow: bool, now: float) -> list[Change]:
        """The person answered. A late or unknown answer changes nothing."""
        question = self._open.pop(question_id, None)
        if question is None:
            return []
        if now > question.deadline or not allow:
            self._refused_until.update(dict.fromkeys(question.actions, now + REASK_DELAY))
            reason = "timeout" if now > question.deadline else "person"
            return [Denied(a, reason) for a in question.actions]
        changes: list[Change] = []
        for action in question.actions:
            for a in (action, *_INCLUDES.get(action, ())):
                if a in self.allowed and a not in self._granted:
                    self._granted.add(a)
                    changes.append(Granted(a))
        return changes

    def expire(self, now: float) -> tuple[list[int], list[Change]]:
        """Questions past their deadline are answered "no"; call it from a timer.
        Returns the ids of the questions to take off the screen, and the changes."""
        late = [q for q in self._open.values() if now > q.deadline]
        for q in late:
            del self._open[q.id]
            self._refused_until.update(dict.fromkeys(q.actions, now + REASK_DELAY))
        return [q.id for q in late], [Denied(a, "timeout") for q in late for a in q.actions]

    @property
    def questions(self) -> list[Question]:
        return list(self._open.values())

    # ---- taking back ---------------------------------------------------------------

    def revoke(self, action: Action) -> list[Change]:
        """The person takes back ``action`` (and whatever includes it)."""
        gone = {action} | {key for key, parts in _INCLUDES.items() if action in parts}
        changes: list[Change] = [Revoked(a) for a in sorted(gone & self._granted)]
        self._granted -= gone
        return changes

    def revoke_all(self) -> list[Change]:
        """Session end or "take everything back": every right goes, every question closes."""
        changes: list[Change] = [Revoked(a) for a in sorted(self._granted)]
        self._granted.clear()
        self._open.clear()
        return changes

    # ---- checking ------------------------------------------------------------------

    def granted(self, action: Action) -> bool:
        return action in self._granted

    @property
    def prompting(self) -> bool:
        return bool(self._open)

    def input_allowed(self) -> bool:
        """Remote input may be injected now: control granted and no question showing."""
        return Action.REMOTE_CONTROL in self._granted and not self._open
