"""A session tab shows the applet's answers live and reports the technician's intents."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from common.transport import Ended, PeerState
from console.rights import RightChanged, RightState
from console.screen_view import ScreenView
from console.technician_session import ChatLine, Monitor, MonitorsChanged, RecordingChanged
from console.ui.session_tab import SessionTab


def tab(qtbot: QtBot, customer: str = "Bob") -> SessionTab:
    widget = SessionTab(customer, "482193", ScreenView())
    qtbot.addWidget(widget)
    return widget


def test_a_right_button_follows_the_applets_answers(qtbot: QtBot) -> None:
    t = tab(qtbot)
    button = t.buttons["remote_control"]
    with qtbot.waitSignal(t.request_right) as asked:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert asked.args == ["remote_control"]
    states = []
    for state in (RightState.PENDING, RightState.GRANTED, RightState.REVOKED):
        t.show_event(RightChanged("remote_control", state))
        states.append((button.property("rightState"), button.isEnabled()))
    t.show_event(RightChanged("remote_control", RightState.DENIED, "person"))
    states.append((button.property("rightState"), button.isEnabled()))
    assert states == [
        ("pending", False),
        ("granted", False),
        ("revoked", True),
        ("denied", True),
    ]
    assert "person" in button.toolTip()


def test_chat_and_the_end(qtbot: QtBot) -> None:
    t = tab(qtbot)
    with qtbot.waitSignal(t.say) as said:
        qtbot.keyClicks(t.entry, "Restart please")
        qtbot.keyClick(t.entry, Qt.Key.Key_Return)
    assert said.args == ["Restart please"] and t.entry.text() == ""
    t.show_event(ChatLine(0.0, "customer", "<b>ok</b>"))
    assert "Bob: <b>ok</b>" in t.transcript.toPlainText()
    t.show_event(Ended("peer", "The customer ended the session."))
    assert "ended the session" in t.state.text()
    assert not any(b.isEnabled() for b in t.buttons.values()) and not t.entry.isEnabled()


def test_two_tabs_keep_their_customers_apart(qtbot: QtBot) -> None:
    alice, bob = tab(qtbot, "Alice"), tab(qtbot, "Bob")
    alice.show_event(ChatLine(0.0, "customer", "alice's secret"))
    alice.show_event(RightChanged("clipboard_sync", RightState.GRANTED))
    assert "alice's secret" not in bob.transcript.toPlainText()
    assert bob.buttons["clipboard_sync"].property("rightState") == "none"
    assert alice.remote.view is not bob.remote.view


def test_rights_are_asked_in_the_order_clicked(qtbot: QtBot) -> None:
    t = tab(qtbot)
    wanted = ["view_screen", "remote_control", "system_info"]
    with qtbot.waitSignals(
        [t.request_right] * 3,
        order="strict",
        check_params_cbs=[lambda a, w=w: a == w for w in wanted],  # type: ignore[misc]
    ):
        for action in wanted:
            qtbot.mouseClick(t.buttons[action], Qt.MouseButton.LeftButton)


def test_the_screen_picker_appears_with_a_second_screen(qtbot: QtBot) -> None:
    t = tab(qtbot)
    t.show()
    one = (Monitor(0, 0, 0, 1920, 1080, True),)
    t.show_event(MonitorsChanged(one, 0))
    assert t.monitor_picker.isHidden()
    two = (
        Monitor(1, 0, 0, 1920, 1080, True),
        Monitor(0, 1920, 0, 1280, 1024, False),
        Monitor(-1, 0, 0, 3200, 1080, False),
    )
    t.show_event(MonitorsChanged(two, 1))
    picker = t.monitor_picker
    assert not picker.isHidden()
    assert [picker.itemText(i) for i in range(picker.count())] == [
        "Screen 1 (1920×1080, main)",
        "Screen 2 (1280×1024)",
        "All screens (3200×1080)",
    ]
    assert picker.currentIndex() == 0
    with qtbot.waitSignal(t.select_monitor) as chosen:
        picker.activated.emit(2)
    assert chosen.args == [-1]


def test_recording_follows_the_view(qtbot: QtBot, tmp_path: Path) -> None:
    t = tab(qtbot)
    assert not t.record.isEnabled()
    t.show_event(RightChanged("view_screen", RightState.GRANTED))
    with qtbot.waitSignal(t.recording_toggled) as toggled:
        qtbot.mouseClick(t.record, Qt.MouseButton.LeftButton)
    assert toggled.args == [True]
    t.show_event(RecordingChanged(tmp_path / "s.rcrec"))
    assert t.record.isChecked() and t.record.text() == "● Recording"
    assert "Recording to" in t.transcript.toPlainText()
    # The customer takes the view back: the recording is stopped.
    with qtbot.waitSignal(t.recording_toggled) as toggled:
        t.show_event(RightChanged("view_screen", RightState.REVOKED))
    assert toggled.args == [False]
    t.show_event(RecordingChanged(None, "The recording stopped: No space left on device."))
    assert not t.record.isChecked() and "No space left" in t.transcript.toPlainText()
    assert not t.record.isEnabled()


def test_a_forced_recording_is_not_the_technicians_to_stop(qtbot: QtBot, tmp_path: Path) -> None:
    t = tab(qtbot)
    t.set_recording_policy(allowed=True, forced=True)
    t.show_event(RightChanged("view_screen", RightState.GRANTED))
    t.show_event(RecordingChanged(tmp_path / "s.rcrec"))
    assert t.record.isChecked() and t.record.text() == "● Recording (required)"
    assert not t.record.isEnabled() and "records every session" in t.record.toolTip()
    with qtbot.assertNotEmitted(t.recording_toggled):
        t.show_event(RightChanged("view_screen", RightState.REVOKED))  # Lifeline stops it
    other = tab(qtbot)
    other.set_recording_policy(allowed=False, forced=False)
    other.show_event(RightChanged("view_screen", RightState.GRANTED))
    assert not other.record.isEnabled() and "does not allow" in other.record.toolTip()


def test_the_header_says_when_a_link_drops(qtbot: QtBot) -> None:
    t = tab(qtbot)
    assert t.state.text() == "Connected"
    t.show_event(PeerState("peer_reconnecting"))
    assert t.state.text() == "Bob's connection dropped: waiting…"
    t.show_event(PeerState("peer_connected"))
    assert t.state.text() == "Connected"
    t.show_event(PeerState("reconnecting"))
    assert t.state.text() == "Reconnecting…"
    t.show_event(PeerState("reconnected"))
    assert t.state.text() == "Connected"
    t.show_event(Ended("peer", "The customer ended the session."))
    t.show_event(PeerState("reconnecting"))  # too late to matter
    assert "ended the session" in t.state.text()
