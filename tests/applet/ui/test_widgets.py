"""The applet's windows: what they show and the intents they report."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from applet.consent import Action, Question
from applet.ui.chat_window import ChatWindow
from applet.ui.code_window import CodeWindow
from applet.ui.indicator import ScreenIndicator
from applet.ui.prompt import PermissionPrompt
from applet.ui.session_window import SessionWindow


def question(*actions: Action, qid: int = 7) -> Question:
    return Question(qid, "Alice Martin", actions, time.monotonic() + 60)


def test_digits_are_grouped_as_they_are_typed(qtbot: QtBot) -> None:
    window = CodeWindow()
    qtbot.addWidget(window)
    qtbot.keyClicks(window.code, "48219x3-07")
    assert window.code.text() == "482 193 07"
    assert not window.connect_button.isEnabled()
    qtbot.keyClicks(window.code, "6")
    assert window.connect_button.isEnabled()
    with qtbot.waitSignal(window.submitted) as signal:
        qtbot.keyClick(window.code, Qt.Key.Key_Return)
    assert signal.args == ["482193076"]


def test_the_nameplate_from_the_download_is_already_there(qtbot: QtBot) -> None:
    window = CodeWindow()
    qtbot.addWidget(window)
    window.prefill("482")
    qtbot.keyClicks(window.code, "193076")
    assert window.code.text() == "482 193 076" and window.connect_button.isEnabled()


def test_a_refused_code_is_shown_again_with_the_reason(qtbot: QtBot) -> None:
    window = CodeWindow()
    qtbot.addWidget(window)
    window.show_error("That code has expired.", "482193076")
    assert not window.error.isHidden() and "expired" in window.error.text()
    assert window.code.text() == "482 193 076" and window.connect_button.isEnabled()


def test_the_prompt_names_the_technician_and_the_action(qtbot: QtBot) -> None:
    prompt = PermissionPrompt(question(Action.VIEW_SCREEN), 60)
    qtbot.addWidget(prompt)
    text = " ".join(label.text() for label in prompt.findChildren(type(prompt.countdown)))
    assert "Alice Martin wants to see your screen." in text


def test_a_single_prompt_lists_every_action(qtbot: QtBot) -> None:
    prompt = PermissionPrompt(question(Action.VIEW_SCREEN, Action.FILE_MANAGER), 60)
    qtbot.addWidget(prompt)
    text = " ".join(label.text() for label in prompt.findChildren(type(prompt.countdown)))
    assert "rest of the session" in text and "browse and transfer your files" in text


@pytest.mark.parametrize("how", ["allow", "deny", "enter", "escape", "close"])
def test_the_prompt_reports_one_answer(qtbot: QtBot, how: str) -> None:
    prompt = PermissionPrompt(question(Action.REMOTE_CONTROL), 60)
    qtbot.addWidget(prompt)
    prompt.show()
    answers: list[tuple[int, bool]] = []
    prompt.answered.connect(lambda qid, allow: answers.append((qid, allow)))
    if how == "allow":
        qtbot.mouseClick(prompt.allow_button, Qt.MouseButton.LeftButton)
    elif how == "deny":
        qtbot.mouseClick(prompt.deny_button, Qt.MouseButton.LeftButton)
    elif how == "enter":  # Enter is never a "yes"
        qtbot.keyClick(prompt, Qt.Key.Key_Return)
    elif how == "escape":
        qtbot.keyClick(prompt, Qt.Key.Key_Escape)
    else:
        prompt.close()
    prompt.close()  # a second close adds nothing
    assert answers == [(7, how == "allow")]


def test_the_prompt_says_no_when_time_runs_out(qtbot: QtBot) -> None:
    prompt = PermissionPrompt(question(Action.VIEW_SCREEN), 0.6)
    qtbot.addWidget(prompt)
    with qtbot.waitSignal(prompt.answered, timeout=3000) as signal:
        prompt.show()
    assert signal.args == [7, False]


def test_a_dismissed_prompt_answers_nothing(qtbot: QtBot) -> None:
    prompt = PermissionPrompt(question(Action.VIEW_SCREEN), 60)
    qtbot.addWidget(prompt)
    with qtbot.assertNotEmitted(prompt.answered):
        prompt.dismiss()


def test_the_status_panel_lists_rights_each_with_its_revoke(qtbot: QtBot) -> None:
    window = SessionWindow("Ctrl+Alt+Pause")
    qtbot.addWidget(window)
    window.joined("Alice Martin", "482193")
    assert window.sas.text() == "Security code 482 193"
    assert window.hotkey_hint.isHidden()
    window.set_granted([Action.VIEW_SCREEN, Action.REMOTE_CONTROL])
    assert not window.hotkey_hint.isHidden() and "Ctrl+Alt+Pause" in window.hotkey_hint.text()
    assert window.nothing.isHidden()
    revoke = window._rows[Action.REMOTE_CONTROL].findChild(type(window.end_button))
    with qtbot.waitSignal(window.revoke_requested) as signal:
        qtbot.mouseClick(revoke, Qt.MouseButton.LeftButton)
    assert signal.args == ["remote_control"]
    window.set_granted([])
    assert window._rows == {} and not window.nothing.isHidden()


def test_closing_the_main_window_ends_the_session(qtbot: QtBot) -> None:
    window = SessionWindow("Ctrl+Alt+Pause")
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.end_requested):
        window.close()
    assert window.isVisible()  # it stays until the session has really ended


def test_chat_shows_the_technicians_words_as_text_not_markup(qtbot: QtBot) -> None:
    chat = ChatWindow("Alice Martin")
    qtbot.addWidget(chat)
    chat.received('<a href="file:///etc/passwd">click</a> <img src=x>')
    plain = chat.transcript.toPlainText()
    assert '<a href="file:///etc/passwd">click</a> <img src=x>' in plain
    with qtbot.waitSignal(chat.sent) as signal:
        qtbot.keyClicks(chat.entry, "thanks")
        qtbot.keyClick(chat.entry, Qt.Key.Key_Return)
    assert signal.args == ["thanks"] and "You: thanks" in chat.transcript.toPlainText()


def test_the_chat_window_opens_ready_for_a_reply(qtbot: QtBot) -> None:
    chat = ChatWindow("Alice Martin")
    qtbot.addWidget(chat)
    chat.show()
    qtbot.waitExposed(chat)
    chat.activateWindow()
    qtbot.waitUntil(lambda: chat.focusWidget() is chat.entry)


def test_the_indicator_follows_view_and_control(qtbot: QtBot) -> None:
    indicator = ScreenIndicator()
    qtbot.addWidget(indicator)
    indicator.show_state("Alice", viewing=True, controlling=False)
    assert indicator.isVisible() and "can see your screen" in indicator.label.text()
    indicator.show_state("Alice", viewing=True, controlling=True)
    assert "controlling" in indicator.label.text()
    assert indicator.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert indicator.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    indicator.show_state("Alice", viewing=False, controlling=False)
    assert not indicator.isVisible()


def test_a_recorded_session_says_so(qtbot: QtBot) -> None:
    window = SessionWindow("Ctrl+Alt+Pause")
    qtbot.addWidget(window)
    window.joined("Alice Martin", "482193")
    assert window.recorded.isHidden()
    window.joined("Alice Martin", "482193", recorded=True)
    assert not window.recorded.isHidden()
    assert "This session is recorded" in window.recorded.text()
    assert "Alice Martin" in window.recorded.text()
