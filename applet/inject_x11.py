"""Input injection on X11 through XTEST, with keycodes and modifiers pressed by hand.

pynput's ``type()`` and character ``press()`` go out as XSendEvent, which xterm and
many other programs ignore; XTEST events look like a real keyboard to every client.
Text is typed by keysym: the keycode and shift level that produce it are looked up in
the layout the desktop uses *now* (so a technician on QWERTY types what they mean on
an AZERTY desktop), and Shift or AltGr are pressed around it as that level needs.
python-xlib is what pynput's own X11 backend uses; it is imported lazily, because
importing it needs nothing but connecting needs an X server.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable
from typing import Any, cast

#: Names of keys that are not text, as the console sends them (W3C ``key`` values).
SPECIAL_KEYSYMS = {
    "Enter": 0xFF0D,
    "Backspace": 0xFF08,
    "Tab": 0xFF09,
    "Escape": 0xFF1B,
    "Delete": 0xFFFF,
    "Home": 0xFF50,
    "End": 0xFF57,
    "PageUp": 0xFF55,
    "PageDown": 0xFF56,
    "ArrowLeft": 0xFF51,
    "ArrowUp": 0xFF52,
    "ArrowRight": 0xFF53,
    "ArrowDown": 0xFF54,
    "Shift": 0xFFE1,
    "Control": 0xFFE3,
    "Alt": 0xFFE9,
    "Meta": 0xFFEB,
    "Insert": 0xFF63,
    "PrintScreen": 0xFF61,
    **{f"F{n}": 0xFFBE + n - 1 for n in range(1, 13)},
}
_SHIFT, _ALTGR = 0xFFE1, 0xFE03  # Shift_L, ISO_Level3_Shift
BUTTONS = {"left": 1, "middle": 2, "right": 3}
#: Wheel steps in one call at most: a hostile "scroll a million times" stays short.
MAX_SCROLL_STEPS = 20


def keysym_for_text(char: str) -> int:
    """X keysym of one character: Latin-1 maps to itself, the rest to 0x01000000 + code."""
    code = ord(char)
    if char == "\n":
        return SPECIAL_KEYSYMS["Enter"]
    return code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x01000000 + code


@functools.cache
def _keysym_to_utf32() -> Callable[[int], int] | None:
    """libxkbcommon's table of every keysym's character (Qt's xcb plugin needs the
    library anyway), or None when it is missing."""
    name = ctypes.util.find_library("xkbcommon")
    if name is None:
        return None
    function = ctypes.CDLL(name).xkb_keysym_to_utf32
    function.restype, function.argtypes = ctypes.c_uint32, [ctypes.c_uint32]
    return cast(Callable[[int], int], function)


class X11Injector:
    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import X, display
        from Xlib.ext import xtest

        self._X: Any = X
        self._xtest: Any = xtest
        self._display: Any = display.Display(display_name)
        self._keymap: dict[int, tuple[int, int]] = {}
        screen = self._display.screen()
        self._size = (screen.width_in_pixels, screen.height_in_pixels)
        # What we hold down, so a revoke or the session's end can let go of it all:
        # a Ctrl or a mouse button must never stay pressed on the person's machine.
        self._held_keys: set[int] = set()
        self._held_buttons: set[int] = set()

    def close(self) -> None:
        self._display.close()

    def _fake(self, event: int, detail: int, **kw: int) -> None:
        self._xtest.fake_input(self._display, event, detail, **kw)

    # ---- pointer -------------------------------------------------------------------

    def move(self, x: int, y: int) -> None:
        """Moves the pointer; coordinates are clamped to the screen."""
        x = min(max(int(x), 0), self._size[0] - 1)
        y = min(max(int(y), 0), self._size[1] - 1)
        self._fake(self._X.MotionNotify, 0, x=x, y=y)
        self._display.sync()

    def button(self, name: str, down: bool) -> None:
        if name not in BUTTONS:
            raise ValueError(f"unknown mouse button {name[:20]!r}")
        number = BUTTONS[name]
        self._fake(self._X.ButtonPress if down else self._X.ButtonRelease, number)
        (self._held_buttons.add if down else self._held_buttons.discard)(number)
        self._display.sync()

    def scroll(self, steps: int) -> None:
        """Positive: away from the person (up), as wheel button 4; negative: button 5."""
        button = 4 if steps > 0 else 5
        for _ in range(min(abs(int(steps)), MAX_SCROLL_STEPS)):
            self._fake(self._X.ButtonPress, button)
            self._fake(self._X.ButtonRelease, button)
        self._display.sync()

    # ---- keyboard ------------------------------------------------------------------

    def _read_keymap(self) -> None:
        """keysym → (keycode, level) for the layout in force, lowest level first."""
        first = self._display.display.info.min_keycode
        count = self._display.display.info.max_keycode - first + 1
        keymap: dict[int, tuple[int, int]] = {}
        for offset, keysyms in enumerate(self._display.get_keyboard_mapping(first, count)):
            # Levels 0–1 are group 1 (plain, Shift); 4–5 are AltGr and AltGr+Shift.
            for level, column in ((0, 0), (1, 1), (2, 4), (3, 5)):
                if column < len(keysyms) and keysyms[column] and keysyms[column] not in keymap:
                    keymap[keysyms[column]] = (first + offset, level)
        # Layouts name many characters by legacy keysyms (EuroSign is 0x20AC, not the
        # Unicode keysym 0x10020AC we look for): index those by their character too.
        to_utf32 = _keysym_to_utf32()
        if to_utf32 is not None:
            for keysym, where in list(keymap.items()):
                if 0xFF < keysym < 0x01000000 and (char := to_utf32(keysym)):
                    keymap.setdefault(0x01000000 + char, where)
        self._keymap = keymap

    def _keycode_and_level(self, keysym: int) -> tuple[int, int] | None:
        if keysym not in self._keymap:
            self._read_keymap()  # the layout may have changed since the last look
        return self._keymap.get(keysym)

    def key(self, keysym: int, down: bool) -> bool:
        """Presses or releases the key that makes ``keysym`` (no modifiers added)."""
        found = self._keycode_and_level(keysym)
        if found is None:
            return False
        self._fake(self._X.KeyPress if down else self._X.KeyRelease, found[0])
        (self._held_keys.add if down else self._held_keys.discard)(found[0])
        self._display.sync()
        return True

    def press_key(self, name: str, down: bool) -> bool:
        """A named key (:data:`SPECIAL_KEYSYMS`: Enter, Control, F5…) or the key that
        makes one character, pressed or released as is: the console sends these for
        shortcuts (Ctrl+C is Control down, c down, c up, Control up). The character
        is looked up in the desktop's layout, so Ctrl+Z means "undo" on AZERTY too."""
        if name in SPECIAL_KEYSYMS:
            keysym = SPECIAL_KEYSYMS[name]
        elif len(name) == 1 and name.isprintable():
            keysym = keysym_for_text(name)
        else:
            raise ValueError(f"unknown key {name[:20]!r}")
        return self.key(keysym, down)

    def release_all(self) -> None:
        """Lets go of every key and button we hold: call it on revoke, on a prompt
        appearing, and at the session's end."""
        for keycode in self._held_keys:
            self._fake(self._X.KeyRelease, keycode)
        for button in self._held_buttons:
            self._fake(self._X.ButtonRelease, button)
        self._held_keys.clear()
        self._held_buttons.clear()
        self._display.sync()

    def type_text(self, text: str) -> int:
        """Types ``text`` in the desktop's current layout; returns characters typed.
        Characters no key of the layout produces are skipped."""
        typed = 0
        for char in text:
            found = self._keycode_and_level(keysym_for_text(char))
            if found is None:
                continue
            keycode, level = found
            modifiers = [
                m for m, needed in ((_SHIFT, level % 2 == 1), (_ALTGR, level >= 2)) if needed
            ]
            if any(m not in self._keymap for m in modifiers):
                continue  # this layout cannot make it: better nothing than a wrong key
            mod_codes = [self._keymap[m][0] for m in modifiers]
            for code in mod_codes:
                self._fake(self._X.KeyPress, code)
            self._fake(self._X.KeyPress, keycode)
            self._fake(self._X.KeyRelease, keycode)
            for code in reversed(mod_codes):
                self._fake(self._X.KeyRelease, code)
            typed += 1
        self._display.sync()
        return typed
