"""The remote screen widget: paints exactly what was decoded, maps the technician's
mouse and keys into the remote monitor's pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from common.codec import ScreenEncoder
from console.screen_view import ScreenView
from console.ui.viewer import RemoteScreen, key_message


def picture(width: int = 320, height: int = 200) -> np.ndarray:
    rng = np.random.default_rng(7)
    frame = np.zeros((height, width, 4), np.uint8)
    frame[:, :, :3] = rng.integers(0, 4, (height, width, 3), dtype=np.uint8) * 60
    frame[20:60, 30:200, :3] = (10, 200, 30)
    return frame


async def decoded(view: ScreenView, frame: np.ndarray) -> None:
    for update in ScreenEncoder().encode(frame, force_keyframe=True):
        assert await view.update(update) is not None


async def test_one_to_one_paints_exactly_the_decoded_pixels(qtbot: QtBot) -> None:
    view = ScreenView()
    frame = picture()
    await decoded(view, frame)
    screen = RemoteScreen(view)
    qtbot.addWidget(screen)
    screen.set_fit(False)
    screen.screen_changed()
    image = screen.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    painted = (
        np.frombuffer(image.constBits(), np.uint8)
        .reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
        .reshape(image.height(), image.width(), 3)
    )
    assert painted.shape[:2] == (200, 320)
    assert np.array_equal(painted[:, :, ::-1], frame[:, :, :3])  # RGB vs BGR
    view.close()


async def test_clicks_land_on_the_remote_pixels_they_show(qtbot: QtBot) -> None:
    view = ScreenView()
    await decoded(view, picture(320, 200))
    screen = RemoteScreen(view)
    qtbot.addWidget(screen)
    screen.resize(640, 500)  # fit: scaled ×2, centred vertically (50 px bands)
    screen.screen_changed()
    sent: list[dict] = []
    screen.input_event.connect(sent.append)
    qtbot.mouseClick(screen, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    assert sent == [
        {"kind": "move", "x": 100, "y": 50},
        {"kind": "button", "button": "left", "down": True},
        {"kind": "move", "x": 100, "y": 50},
        {"kind": "button", "button": "left", "down": False},
    ]
    assert screen.remote_point(10, 20) is None  # on the band, off the picture
    view.close()


def test_keys_become_text_named_keys_or_shortcuts() -> None:
    no = Qt.KeyboardModifier.NoModifier
    ctrl = Qt.KeyboardModifier.ControlModifier
    assert key_message(Qt.Key.Key_A, "a", no, True) == {"kind": "text", "text": "a"}
    assert key_message(Qt.Key.Key_A, "a", no, False) is None
    assert key_message(Qt.Key.Key_Eacute, "é", no, True) == {"kind": "text", "text": "é"}
    assert key_message(Qt.Key.Key_C, "\x03", ctrl, True) == {
        "kind": "key", "key": "c", "down": True,
    }  # fmt: skip
    assert key_message(Qt.Key.Key_Return, "\r", no, False) == {
        "kind": "key", "key": "Enter", "down": False,
    }  # fmt: skip
    assert key_message(Qt.Key.Key_Control, "", ctrl, True) == {
        "kind": "key", "key": "Control", "down": True,
    }  # fmt: skip


def test_no_picture_yet_says_so(qtbot: QtBot) -> None:
    screen = RemoteScreen(ScreenView())
    qtbot.addWidget(screen)
    screen.show()
    assert screen.remote_point(10, 10) is None
    screen.repaint()
    screen.view.close()
