"""The console's recording player: the right picture at every position, seeking both
ways, speeds, a file cut short, and an encrypted one without its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from common.errors import RecordingKeyError
from console.ui.player import PlayerWindow
from tests.console.test_converter import CURSOR_AT, RED, picture, write_recording


def expected(step: int) -> np.ndarray[Any, Any]:
    shown = picture(step)[..., :3].copy()
    x, y = CURSOR_AT
    shown[y : y + 12, x : x + 12] = RED[:3]
    return shown


def shown(player: PlayerWindow) -> np.ndarray[Any, Any]:
    assert player.view._pixels is not None
    return player.view._pixels


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "s.rcrec"
    write_recording(path)  # pictures at 0, 0.5, 1 and 1.5 s; it ends at 2 s
    return path


def test_seeking_shows_the_picture_of_that_moment(qtbot: QtBot, recording: Path) -> None:
    player = PlayerWindow(recording)
    qtbot.addWidget(player)
    assert player.duration_ms == 2000 and player.time.text() == "0:00:00 / 0:00:02"
    assert np.array_equal(shown(player), expected(0))
    for position, step in ((1200, 2), (300, 0), (1999, 3), (600, 1)):
        player.seek(position)
        assert np.array_equal(shown(player), expected(step)), position
        assert player.slider.value() == position
    player.advance(500)  # 1.1 s
    assert np.array_equal(shown(player), expected(2)) and player.position == 1100
    assert player.note.text() == ""


def test_playing_at_eight_times_reaches_the_end_and_stops(qtbot: QtBot, recording: Path) -> None:
    player = PlayerWindow(recording)
    qtbot.addWidget(player)
    player.speeds.setCurrentIndex(player.speeds.findData(8.0))
    player.toggle()
    assert player.playing and player.play.text() == "Pause"
    qtbot.waitUntil(lambda: not player.playing, timeout=3000)
    assert player.position == player.duration_ms and player.play.text() == "Play"
    assert np.array_equal(shown(player), expected(3))


def test_a_cut_recording_plays_what_it_has(qtbot: QtBot, recording: Path) -> None:
    recording.write_bytes(recording.read_bytes()[:-40])
    player = PlayerWindow(recording)
    qtbot.addWidget(player)
    assert "stops early" in player.note.text()
    player.seek(player.duration_ms)
    assert np.array_equal(shown(player), expected(3))


def test_an_encrypted_recording_needs_its_key(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "sealed.rcrec"
    write_recording(path, key=bytes(32))
    with pytest.raises(RecordingKeyError):
        PlayerWindow(path)
    player = PlayerWindow(path, bytes(32))
    qtbot.addWidget(player)
    assert np.array_equal(shown(player), expected(0))
