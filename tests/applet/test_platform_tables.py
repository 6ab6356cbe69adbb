"""The Windows and macOS backends cannot run here (no such desktop in CI); what can be
checked on Linux is checked: their tables and pure decisions."""

from __future__ import annotations

from applet.inject_pynput import PYNPUT_KEYS
from applet.inject_x11 import SPECIAL_KEYSYMS
from applet.local_input_windows import LLKHF_INJECTED, LLMHF_INJECTED, is_injected
from applet.macos_permissions import ACCESSIBILITY_HELP, SCREEN_RECORDING_HELP


def test_every_named_key_exists_on_every_backend() -> None:
    assert set(PYNPUT_KEYS) == set(SPECIAL_KEYSYMS)
    # pynput's Key members (documented names), without importing pynput here.
    documented = {"enter", "backspace", "tab", "esc", "delete", "home", "end", "page_up",
                  "page_down", "left", "up", "right", "down", "shift", "ctrl", "alt", "cmd",
                  "insert", "print_screen",
                  *(f"f{n}" for n in range(1, 13))}  # fmt: skip
    assert set(PYNPUT_KEYS.values()) <= documented


def test_windows_tells_injected_events_by_their_flag() -> None:
    assert is_injected(LLKHF_INJECTED, keyboard=True)
    assert not is_injected(0, keyboard=True)
    assert is_injected(LLMHF_INJECTED | 0x02, keyboard=False)
    assert not is_injected(0x02, keyboard=False)  # LLMHF_LOWER_IL_INJECTED alone


def test_macos_help_says_where_to_click() -> None:
    for text in (SCREEN_RECORDING_HELP, ACCESSIBILITY_HELP):
        assert "System Settings → Privacy & Security" in text and "Lifeline" in text
