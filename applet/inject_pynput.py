"""Input injection on Windows and macOS through pynput (SendInput / CGEvent).

Written to pynput's documented API; it cannot run on this project's Linux CI, so only
its tables are tested there (tests/applet/test_platform_tables.py). On Windows, text
goes as Unicode key events (layout-independent); shortcuts as virtual keys looked up in
the current layout by pynput. pynput is imported lazily: it needs a desktop session.
"""

from __future__ import annotations

from typing import Any

from applet.inject_x11 import BUTTONS, MAX_SCROLL_STEPS, SPECIAL_KEYSYMS

#: The console's key names (W3C) → pynput ``Key`` members.
PYNPUT_KEYS = {
    "Enter": "enter",
    "Backspace": "backspace",
    "Tab": "tab",
    "Escape": "esc",
    "Delete": "delete",
    "Home": "home",
    "End": "end",
    "PageUp": "page_up",
    "PageDown": "page_down",
    "ArrowLeft": "left",
    "ArrowUp": "up",
    "ArrowRight": "right",
    "ArrowDown": "down",
    "Shift": "shift",
    "Control": "ctrl",
    "Alt": "alt",
    "Meta": "cmd",
    "Insert": "insert",
    "PrintScreen": "print_screen",
    **{f"F{n}": f"f{n}" for n in range(1, 13)},
}
assert set(PYNPUT_KEYS) == set(SPECIAL_KEYSYMS)


class PynputInjector:
    def __init__(self, width: int, height: int) -> None:
        from pynput import keyboard, mouse

        self._keyboard_module: Any = keyboard
        self._mouse_module: Any = mouse
        self._keyboard: Any = keyboard.Controller()
        self._mouse: Any = mouse.Controller()
        self._size = (width, height)
        self._held_keys: set[Any] = set()
        self._held_buttons: set[Any] = set()

    def move(self, x: int, y: int) -> None:
        x = min(max(int(x), 0), self._size[0] - 1)
        y = min(max(int(y), 0), self._size[1] - 1)
        self._mouse.position = (x, y)

    def button(self, name: str, down: bool) -> None:
        if name not in BUTTONS:
            raise ValueError(f"unknown mouse button {name[:20]!r}")
        button = getattr(self._mouse_module.Button, name)
        if down:
            self._mouse.press(button)
            self._held_buttons.add(button)
        else:
            self._mouse.release(button)
            self._held_buttons.discard(button)

    def scroll(self, steps: int) -> None:
        steps = max(-MAX_SCROLL_STEPS, min(MAX_SCROLL_STEPS, int(steps)))
        self._mouse.scroll(0, steps)

    def press_key(self, name: str, down: bool) -> bool:
        if name in PYNPUT_KEYS:
            # macOS keyboards have no Insert or Print Screen: pynput has no such Key there.
            key: Any = getattr(self._keyboard_module.Key, PYNPUT_KEYS[name], None)
            if key is None:
                raise ValueError(f"this computer has no {name} key")
        elif len(name) == 1 and name.isprintable():
            key = self._keyboard_module.KeyCode.from_char(name)
        else:
            raise ValueError(f"unknown key {name[:20]!r}")
        if down:
            self._keyboard.press(key)
            self._held_keys.add(key)
        else:
            self._keyboard.release(key)
            self._held_keys.discard(key)
        return True

    def type_text(self, text: str) -> int:
        self._keyboard.type(text)
        return len(text)

    def release_all(self) -> None:
        for key in list(self._held_keys):
            self._keyboard.release(key)
        for button in list(self._held_buttons):
            self._mouse.release(button)
        self._held_keys.clear()
        self._held_buttons.clear()

    def close(self) -> None:
        self.release_all()
