"""The strength meter of the sign-in window's new password, as a person types, and how
the window shows the broker's refusals that come with the password policy and the
allow-lists."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from common.errors import BrokerError
from console.settings import ConsoleSettings
from console.sign_in import Problem, SignInFailed, explain
from console.ui.login_window import LoginWindow
from console.ui.password_meter import COLOURS, PasswordMeter


@pytest.fixture
def login(qtbot: QtBot) -> LoginWindow:
    window = LoginWindow(ConsoleSettings("https://help.example.test", "ann@example.test", ""))
    qtbot.addWidget(window)
    window.show()
    return window


def type_new_password(qtbot: QtBot, login: LoginWindow, text: str) -> None:
    login.new_password.clear()
    with qtbot.waitSignal(login.meter.estimated, timeout=3000):
        qtbot.keyClicks(login.new_password, text)


def asked_for_a_new_password(login: LoginWindow) -> None:
    login.show_failure(
        SignInFailed(
            Problem.PASSWORD_CHANGE,
            "Your password is more than 90 days old. Choose a new one to sign in.",
        )
    )


def test_the_meter_appears_with_the_new_password(login: LoginWindow) -> None:
    assert not login.form.isRowVisible(login.meter)
    asked_for_a_new_password(login)
    assert login.form.isRowVisible(login.meter) and login.meter.isVisible()
    assert login.error.text() == (
        "Your password is more than 90 days old. Choose a new one to sign in."
    )
    assert login.meter.bar.value() == 0
    assert login.meter.label.text() == "Use a few uncommon words, or a long random mix."


def test_the_meter_follows_the_typing(qtbot: QtBot, login: LoginWindow) -> None:
    asked_for_a_new_password(login)
    type_new_password(qtbot, login, "password1")
    assert login.meter.strength is not None and login.meter.strength.score == 0
    assert login.meter.bar.value() == 1
    assert login.meter.label.text() == (
        "Strength: very weak. This is a very common password. "
        "Add another word or two. Uncommon words are better."
    )
    assert COLOURS[0] in login.meter.bar.styleSheet()
    # The window grows to the wrapped advice instead of cutting it off.
    label = login.meter.label
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()), timeout=3000)
    assert label.heightForWidth(label.width()) > 2 * label.fontMetrics().lineSpacing()
    with qtbot.waitSignal(login.meter.estimated, timeout=3000):
        qtbot.keyClicks(login.new_password, "-quiet-lantern-orbit")
    assert login.meter.bar.value() == 5
    assert login.meter.label.text() == "Strength: very strong."
    assert COLOURS[4] in login.meter.bar.styleSheet()


def test_the_floor_and_personal_words_are_named(qtbot: QtBot, login: LoginWindow) -> None:
    asked_for_a_new_password(login)
    type_new_password(qtbot, login, "abc")
    assert login.meter.label.text() == "A password needs at least 8 characters."
    assert login.meter.bar.value() == 1
    type_new_password(qtbot, login, "nodigitsatallhere")  # strong, but below the floor
    assert login.meter.label.text() == "A password needs both letters and digits."
    assert login.meter.bar.value() == 1
    type_new_password(qtbot, login, "ann-example-1")
    assert "It contains your name or e-mail address." in login.meter.label.text()


def test_the_estimate_waits_for_a_pause_in_the_typing(qtbot: QtBot) -> None:
    meter = PasswordMeter()
    qtbot.addWidget(meter)
    shown: list[object] = []
    meter.estimated.connect(shown.append)
    for end in range(1, 20):
        meter.set_password("quiet-lantern-orbit-57"[:end])
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=3000)
    qtbot.wait(PasswordMeter.DELAY_MS * 2)
    assert len(shown) == 1 and meter.strength is not None and meter.strength.score == 4
    with qtbot.waitSignal(meter.estimated, timeout=3000) as cleared:
        meter.set_password("")
    assert cleared.args == [None] and meter.bar.value() == 0


def test_a_refused_network_is_shown_as_the_broker_words_it(login: LoginWindow) -> None:
    message = (
        "Your account may not sign in from this network (203.0.113.7). Ask your administrator."
    )
    failed = explain(BrokerError(message, code="network_not_allowed"), "https://help.example.test")
    assert failed.problem == Problem.NETWORK_NOT_ALLOWED
    login.set_busy(True)
    login.show_failure(failed)
    assert login.error.isVisible() and login.error.text() == message
    assert login.button.isEnabled() and not login.form.isRowVisible(login.new_password)


def test_a_weak_password_from_the_broker_keeps_the_meter(qtbot: QtBot, login: LoginWindow) -> None:
    asked_for_a_new_password(login)
    type_new_password(qtbot, login, "password1")
    login.repeat_password.setText("password1")
    with qtbot.waitSignal(login.submitted) as sent:
        qtbot.keyClick(login.repeat_password, Qt.Key.Key_Return)
    assert sent.args[0].new_password == "password1"  # the broker decides, not the meter
    weak = BrokerError("That password is too easy to guess.", code="weak_password")
    login.show_failure(explain(weak, "https://help.example.test"))
    assert login.form.isRowVisible(login.meter)
    assert login.error.text() == "That password is too easy to guess."
