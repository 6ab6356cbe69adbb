from __future__ import annotations

import pytest

from applet.consent import REASK_DELAY, Action, Consent, Denied, Granted, Question, Revoked
from broker.permissions import DEFAULT_PERMISSIONS

ALL = set(DEFAULT_PERMISSIONS)


def ask(consent: Consent, action: Action, now: float = 0.0) -> Question:
    question = consent.request(action, now)
    assert isinstance(question, Question)
    return question


def test_every_action_needs_a_yes_naming_the_technician() -> None:
    consent = Consent("Alice", ALL)
    question = ask(consent, Action.SYSTEM_INFO)
    assert question.text == "Alice wants to see information about this computer."
    assert not consent.granted(Action.SYSTEM_INFO)
    assert consent.answer(question.id, True, now=1.0) == [Granted(Action.SYSTEM_INFO)]
    assert consent.granted(Action.SYSTEM_INFO)
    assert consent.request(Action.SYSTEM_INFO, 2.0) is None  # nothing more to ask


def test_the_policy_refuses_without_asking() -> None:
    consent = Consent("Alice", ALL - {"remote_control"})
    assert consent.request(Action.REMOTE_CONTROL, 0.0) == Denied(Action.REMOTE_CONTROL, "policy")
    assert not consent.prompting


def test_no_answer_in_time_is_a_no() -> None:
    consent = Consent("Alice", ALL, answer_timeout=30)
    question = ask(consent, Action.VIEW_SCREEN)
    assert consent.expire(now=29.0) == ([], [])
    assert consent.expire(now=31.0) == ([question.id], [Denied(Action.VIEW_SCREEN, "timeout")])
    assert consent.answer(question.id, True, now=32.0) == []  # too late: changes nothing
    assert not consent.granted(Action.VIEW_SCREEN)


def test_a_no_is_a_no() -> None:
    consent = Consent("Alice", ALL)
    question = ask(consent, Action.FILE_MANAGER)
    assert consent.answer(question.id, False, now=1.0) == [Denied(Action.FILE_MANAGER, "person")]
    assert not consent.granted(Action.FILE_MANAGER)


def test_input_is_suspended_while_any_question_shows() -> None:
    consent = Consent("Alice", ALL)
    control = ask(consent, Action.REMOTE_CONTROL)
    consent.answer(control.id, True, now=1.0)
    assert consent.input_allowed()
    question = ask(consent, Action.FILE_MANAGER, now=2.0)
    assert not consent.input_allowed()  # the technician cannot click "Allow" themselves
    consent.answer(question.id, True, now=3.0)
    assert consent.input_allowed()


def test_control_includes_view_and_taking_back_view_takes_back_control() -> None:
    consent = Consent("Alice", ALL)
    control = ask(consent, Action.REMOTE_CONTROL)
    assert consent.answer(control.id, True, 1.0) == [
        Granted(Action.REMOTE_CONTROL),
        Granted(Action.VIEW_SCREEN),
    ]
    assert consent.revoke(Action.VIEW_SCREEN) == [
        Revoked(Action.REMOTE_CONTROL),
        Revoked(Action.VIEW_SCREEN),
    ]
    assert not consent.input_allowed()


def test_single_prompt_covers_what_the_policy_allows() -> None:
    consent = Consent("Alice", {"single_prompt", "desktop_view", "system_info"})
    question = ask(consent, Action.SYSTEM_INFO)
    assert set(question.actions) == {Action.SYSTEM_INFO, Action.VIEW_SCREEN}
    assert "rest of the session" in question.text
    consent.answer(question.id, True, 1.0)
    assert consent.granted(Action.VIEW_SCREEN) and consent.granted(Action.SYSTEM_INFO)
    assert consent.request(Action.REMOTE_CONTROL, 2.0) == Denied(Action.REMOTE_CONTROL, "policy")


def test_session_end_takes_everything_back() -> None:
    consent = Consent("Alice", ALL)
    for action in (Action.REMOTE_CONTROL, Action.CLIPBOARD_SYNC):
        consent.answer(ask(consent, action).id, True, 1.0)
    pending = ask(consent, Action.FILE_MANAGER)
    changes = consent.revoke_all()
    assert set(changes) == {
        Revoked(a) for a in (Action.REMOTE_CONTROL, Action.VIEW_SCREEN, Action.CLIPBOARD_SYNC)
    }
    assert not consent.prompting and not consent.input_allowed()
    assert consent.answer(pending.id, True, 2.0) == []


@pytest.mark.parametrize("action", list(Action))
def test_one_question_at_a_time_per_action(action: Action) -> None:
    consent = Consent("Alice", ALL)
    ask(consent, action)
    assert consent.request(action, 1.0) is None
    assert len(consent.questions) == 1


def test_a_refused_request_cannot_be_asked_again_at_once() -> None:
    consent = Consent("Alice", ALL)
    consent.answer(ask(consent, Action.FILE_MANAGER).id, False, now=1.0)
    assert consent.request(Action.FILE_MANAGER, 10.0) == Denied(
        Action.FILE_MANAGER, "recently_refused"
    )
    assert not consent.prompting  # no prompt after prompt to wear the person down
    assert isinstance(consent.request(Action.FILE_MANAGER, 1.0 + REASK_DELAY + 0.1), Question)


def test_the_control_question_says_it_shows_the_screen() -> None:
    assert "see your screen" in ask(Consent("Alice", ALL), Action.REMOTE_CONTROL).text
