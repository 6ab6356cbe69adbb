"""The sign-in window and the home tab as widgets: what each problem brings forward,
the queue as it changes, and codes with their countdown."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.lobby import Abandoned, CodeReady, QueueChanged, QueueEntry, SessionReady
from console.settings import ConsoleSettings
from console.sign_in import Problem, SignInFailed, SignInForm
from console.ui.home import HomePage
from console.ui.login_window import LoginWindow
from console.ui.recording_settings import RecordingSettingsDialog


@pytest.fixture
def login(qtbot: QtBot) -> LoginWindow:
    window = LoginWindow(ConsoleSettings("https://help.example.test", "ann@example.test", ""))
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_form_carries_what_was_typed(qtbot: QtBot, login: LoginWindow) -> None:
    assert login.server.text() == "https://help.example.test" and login.password.text() == ""
    login.password.setText("pw-1")
    with qtbot.waitSignal(login.submitted) as sent:
        qtbot.keyClick(login.password, Qt.Key.Key_Return)
    form: SignInForm = sent.args[0]
    assert (form.email, form.password, form.totp, form.new_password) == (
        "ann@example.test", "pw-1", "", ""
    )  # fmt: skip
    assert not login.button.isEnabled() and login.button.text() == "Signing in…"
    with qtbot.assertNotEmitted(login.submitted):
        qtbot.keyClick(login.password, Qt.Key.Key_Return)  # once is enough


def test_a_two_step_code_is_asked_for_when_needed(qtbot: QtBot, login: LoginWindow) -> None:
    assert not login.form.isRowVisible(login.totp)
    login.password.setText("pw-1")
    login.button.click()
    login.show_failure(SignInFailed(Problem.TOTP_REQUIRED, "Enter the code from your app."))
    assert login.form.isRowVisible(login.totp) and login.button.isEnabled()
    assert login.error.text() == "Enter the code from your app." and login.error.isVisible()
    login.totp.setText("123456")
    with qtbot.waitSignal(login.submitted) as sent:
        login.button.click()
    assert sent.args[0].totp == "123456" and login.error.isHidden()


def test_a_forced_password_change_needs_the_same_new_password_twice(
    qtbot: QtBot, login: LoginWindow
) -> None:
    login.password.setText("old-pw-1")
    login.show_failure(SignInFailed(Problem.PASSWORD_CHANGE, "Choose a new password."))
    assert login.form.isRowVisible(login.new_password)
    assert login.form.isRowVisible(login.repeat_password)
    login.new_password.setText("new-pw-22")
    login.repeat_password.setText("new-pw-2")
    with qtbot.assertNotEmitted(login.submitted):
        login.button.click()
    assert login.error.text() == "The two new passwords are not the same."
    login.repeat_password.setText("new-pw-22")
    with qtbot.waitSignal(login.submitted) as sent:
        login.button.click()
    assert (sent.args[0].password, sent.args[0].new_password) == ("old-pw-1", "new-pw-22")


def entry(session: str, who: str, queue: str, waited: float) -> QueueEntry:
    return QueueEntry(session, {"name": who}, queue, time.time() - waited)


def test_the_home_shows_codes_and_the_queue_live(qtbot: QtBot) -> None:
    home = HomePage("Ann")
    qtbot.addWidget(home)
    with qtbot.waitSignal(home.new_session):
        home.start.click()
    assert not home.start.isEnabled()
    home.show_event(CodeReady(1, "482-193-076", time.time() + 600))
    card = home.cards[1]
    assert card.code.text() == "482-193-076" and home.start.isEnabled()
    assert "Lifeline-482193076" in card.invitation()
    home.show_event(QueueChanged((entry("s1", "Ben", "private", 75),
                                  entry("s2", "Cleo", "group", 5))))  # fmt: skip
    rows = [[home.table.item(r, c).text() for c in range(3)] for r in range(home.table.rowCount())]
    assert rows == [["Ben", "Mine", "1:15"], ["Cleo", "Group", "0:05"]]
    assert not home.take.isEnabled()
    home.table.selectRow(1)
    with qtbot.waitSignal(home.pickup) as picked:
        home.take.click()
    assert picked.args == ["s2"]
    home.show_event(QueueChanged((entry("s1", "Ben", "private", 80),)))
    assert home.table.rowCount() == 1
    with qtbot.waitSignal(home.withdraw) as withdrawn:
        card.cancel.click()
    assert withdrawn.args == [1]
    home.show_event(Abandoned(1, "The code was withdrawn."))
    assert not home.cards and home.status.text() == "The code was withdrawn."
    home.show_event(CodeReady(2, "111-222-333", time.time() + 600))
    home.show_event(SessionReady(2, None, "Dan", "123456"))  # type: ignore[arg-type]
    assert not home.cards and home.status.text() == "Dan joined."


def test_the_recording_settings_dialog(qtbot: QtBot, tmp_path: Path) -> None:
    settings = ConsoleSettings()
    dialog = RecordingSettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(tmp_path))
    dialog.format.setCurrentIndex(dialog.format.findData("avi"))
    dialog.key_file.setText(str(tmp_path / "missing.key"))
    dialog._save()
    assert dialog.error.isVisible() or not dialog.error.isHidden()
    assert "cannot be read" in dialog.error.text() and settings.recording_folder == ""
    (tmp_path / "k").write_bytes(bytes(32))
    dialog.key_file.setText(str(tmp_path / "k"))
    with qtbot.waitSignal(dialog.accepted):
        dialog._save()
    assert (settings.recording_folder, settings.recording_format) == (str(tmp_path), "avi")
    assert settings.recording_key_file == str(tmp_path / "k")
