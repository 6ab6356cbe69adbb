"""Real XTEST injection on a real X display: the pointer moves, text arrives in xterm,
on a US and on a French AZERTY desktop."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from applet.inject_x11 import X11Injector, keysym_for_text
from tests.x11 import pointer, running


def typed_into_xterm(display: str, tmp_path: Path, text: str) -> str:
    target = tmp_path / "typed.txt"
    terminal = ["xterm", "-geometry", "80x24+0+0", "-e", "bash", "-c", f"cat > {target}"]
    with running(terminal, display, settle=1.0):
        injector = X11Injector(display)
        injector.move(40, 40)  # no window manager: the keyboard follows the pointer
        assert injector.type_text(text) == len(text)
        time.sleep(0.5)
        injector.close()
    return target.read_text()


def test_the_pointer_moves_and_clicks(display: str) -> None:
    injector = X11Injector(display)
    injector.move(321, 123)
    assert pointer(display) == (321, 123)
    injector.button("left", True)
    injector.button("left", False)
    injector.scroll(-2)
    injector.close()


def test_text_arrives_in_a_real_terminal(display: str, tmp_path: Path) -> None:
    text = "Hello, World! 42 <ok> ~/path_#1\n"
    assert typed_into_xterm(display, tmp_path, text) == text


def test_text_means_the_same_on_an_azerty_desktop(display: str, tmp_path: Path) -> None:
    # What a technician on QWERTY types: on AZERTY, a/q and 1/& swap places and @ needs
    # AltGr; the injector looks each character up in the layout in force.
    subprocess.run(["setxkbmap", "-display", display, "fr"], check=True)
    keymap = subprocess.run(
        ["xmodmap", "-display", display, "-pke"], capture_output=True, text=True, check=True
    ).stdout
    assert "keycode  24 = a A" in keymap  # the key a US keyboard calls Q
    text = "aqzw 1&2 é@€ Où?\n"
    assert typed_into_xterm(display, tmp_path, text) == text


def test_keysyms_for_text() -> None:
    assert keysym_for_text("a") == 0x61 and keysym_for_text("é") == 0xE9
    assert keysym_for_text("€") == 0x01000000 + 0x20AC
    assert keysym_for_text("\n") == 0xFF0D


def pointer_buttons(display: str) -> int:
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    mask = d.screen().root.query_pointer().mask & (X.Button1Mask | X.Button2Mask | X.Button3Mask)
    d.close()
    return int(mask)


def test_release_all_lets_go_of_held_buttons(display: str) -> None:
    injector = X11Injector(display)
    injector.move(10, 10)
    injector.button("left", True)
    assert pointer_buttons(display) != 0  # really held on the X server
    injector.release_all()
    assert pointer_buttons(display) == 0
    injector.close()


def test_hostile_values_are_bounded(display: str) -> None:
    injector = X11Injector(display)
    injector.move(10**9, -(10**9))
    assert pointer(display) == (1279, 0)  # clamped to the screen
    with pytest.raises(ValueError):
        injector.button("self_destruct", True)
    injector.scroll(10**9)  # returns at once: at most MAX_SCROLL_STEPS
    injector.close()
