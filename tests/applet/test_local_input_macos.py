"""The macOS backend cannot run here (no Quartz); its decisions can: what one tapped
event means, given the numbers Quartz would give for it."""

from __future__ import annotations

import sys

import pytest

from applet import local_input
from applet.local_input_macos import (
    EVENT_MASK,
    FLAG_CONTROL,
    FLAG_OPTION,
    FLAGS_CHANGED,
    HID_SYSTEM_STATE,
    KEY_DOWN,
    KEY_UP,
    KEYCODE_ESCAPE,
    LEFT_MOUSE_DOWN,
    MOUSE_MOVED,
    SCROLL_WHEEL,
    TAP_DISABLED_BY_TIMEOUT,
    TAP_DISABLED_BY_USER_INPUT,
    MacLocalInput,
    Seen,
    classify,
)

US = 4242
COMBINED_SESSION_STATE, PRIVATE_STATE = 0, -1
FLAG_SHIFT, FLAG_COMMAND = 0x00020000, 0x00100000
KEYCODE_A = 0x00


def test_the_persons_hardware_is_local_and_our_injection_is_not() -> None:
    for event_type in (KEY_DOWN, KEY_UP, FLAGS_CHANGED, MOUSE_MOVED, LEFT_MOUSE_DOWN, SCROLL_WHEEL):
        # The keyboard and mouse: the HID system, posted by no process of ours.
        assert classify(event_type, KEYCODE_A, 0, 0, HID_SYSTEM_STATE, US) is Seen.LOCAL
        # pynput in this process: our pid, whatever state table its source used.
        for state in (HID_SYSTEM_STATE, COMBINED_SESSION_STATE, PRIVATE_STATE, 7):
            assert classify(event_type, KEYCODE_A, 0, US, state, US) is None
        # Another program's synthetic events are not the person's hands either.
        assert classify(event_type, KEYCODE_A, 0, 999, COMBINED_SESSION_STATE, US) is None
        assert classify(event_type, KEYCODE_A, 0, 999, PRIVATE_STATE, US) is None


def test_control_option_esc_takes_back_whatever_else_is_held() -> None:
    both = FLAG_CONTROL | FLAG_OPTION
    for extra in (0, FLAG_SHIFT, FLAG_COMMAND, FLAG_SHIFT | FLAG_COMMAND):
        for pid, state in ((0, HID_SYSTEM_STATE), (US, HID_SYSTEM_STATE)):
            assert classify(KEY_DOWN, KEYCODE_ESCAPE, both | extra, pid, state, US) is Seen.HOTKEY
    # Not without both modifiers, not on release, not another key.
    for flags in (0, FLAG_CONTROL, FLAG_OPTION, FLAG_CONTROL | FLAG_COMMAND):
        assert classify(KEY_DOWN, KEYCODE_ESCAPE, flags, 0, HID_SYSTEM_STATE, US) is Seen.LOCAL
    assert classify(KEY_UP, KEYCODE_ESCAPE, both, 0, HID_SYSTEM_STATE, US) is Seen.LOCAL
    assert classify(KEY_DOWN, KEYCODE_A, both, 0, HID_SYSTEM_STATE, US) is Seen.LOCAL


def test_a_switched_off_tap_is_noticed() -> None:
    for event_type in (TAP_DISABLED_BY_TIMEOUT, TAP_DISABLED_BY_USER_INPUT):
        assert classify(event_type, 0, 0, 0, 0, US) is Seen.TAP_DISABLED


def test_the_tap_listens_to_every_kind_of_input() -> None:
    for event_type in (KEY_DOWN, KEY_UP, FLAGS_CHANGED, MOUSE_MOVED, LEFT_MOUSE_DOWN, SCROLL_WHEEL):
        assert EVENT_MASK & (1 << event_type)


def test_without_quartz_the_backend_says_so_and_the_session_goes_on() -> None:
    if sys.platform == "darwin":
        pytest.skip("Quartz is there on macOS")
    with pytest.raises(OSError, match="Quartz"):
        MacLocalInput()


def test_the_factory_picks_the_macos_backend_on_darwin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_input.sys, "platform", "darwin")
    with pytest.raises(OSError, match="Quartz"):  # the macOS backend, failing here
        local_input.open_local_input()
