"""``lifeline-converter``: recordings to AVI and MP4 that ffprobe and FFmpeg read, the
right duration and size, pictures that match, the cursor drawn in, still screens that
cost nothing, and clear failures that leave nothing behind."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from common.codec import ScreenEncoder
from common.recording import Kind, RecordingWriter
from console.converter import main

RED = (0, 0, 255, 255)  # the cursor: a 12×12 red square (premultiplied BGRA)
CURSOR_AT = (200, 60)


def picture(step: int) -> np.ndarray[Any, Any]:
    frame = np.full((240, 320, 4), 235, np.uint8)
    frame[20:60, 20 + step * 20 : 80 + step * 20, :3] = (180, 60, 20)
    for row in range(100, 220, 12):
        frame[row : row + 6, 30 : 30 + (row * 7) % 250, :3] = 20
    return frame


def write_recording(path: Path, *, still_seconds: float = 0, key: bytes | None = None) -> None:
    """Four pictures 0.5 s apart, then the screen stands still; 2 s + still_seconds."""
    now = [0.0]
    encoder = ScreenEncoder(video=False)
    with path.open("wb") as file:
        writer = RecordingWriter(file, {"technician": "Ann"}, key=key, clock=lambda: now[0])
        writer.write(Kind.CURSOR_SHAPE, {"width": 12, "height": 12, "hot_x": 0, "hot_y": 0,
                                         "bgra": bytes(RED) * 144})  # fmt: skip
        writer.write(Kind.CURSOR, {"x": CURSOR_AT[0], "y": CURSOR_AT[1]})
        for step in range(4):
            now[0] = step * 0.5
            for data in encoder.encode(picture(step)):
                writer.screen_update(0, data)
        now[0] = 2.0 + still_seconds
        writer.close()


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "format=duration,format_name:stream=codec_name,width,height,avg_frame_rate,time_base",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)  # type: ignore[no-any-return]


def decoded(path: Path) -> Iterator[tuple[float, np.ndarray[Any, Any]]]:
    """Each picture with its time: the packet's dts, as ffprobe's best_effort_timestamp
    (AVI stores no pts, and PyAV's guess at one is off by a frame interval)."""
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        for packet in video.demux(stream):
            for frame in packet.decode():
                at = packet.dts if packet.dts is not None else frame.pts
                yield float(at * stream.time_base), frame.to_ndarray(format="bgr24")


def psnr(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


@pytest.fixture(autouse=True)
def _ffprobe() -> None:
    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe is missing: ./scripts/check installs ffmpeg")


def test_an_avi_of_the_right_length_size_and_pictures(tmp_path: Path) -> None:
    source = tmp_path / "session.rcrec"
    write_recording(source)
    assert main([str(source), "--fps", "10"]) == 0
    video = tmp_path / "session.avi"
    info = probe(video)
    stream = info["streams"][0]
    assert info["format"]["format_name"] == "avi" and stream["codec_name"] == "h264"
    assert (stream["width"], stream["height"]) == (320, 240)
    assert (stream["avg_frame_rate"], stream["time_base"]) == ("10/1", "1/10")  # constant
    assert abs(float(info["format"]["duration"]) - 2.0) <= 0.1 + 1e-6  # ± one frame
    shown = list(decoded(video))
    for step in range(4):
        # The last frame decoded at or before this picture's time, plus a little.
        at = [f for t, f in shown if t <= step * 0.5 + 0.05][-1]
        expected = picture(step)[..., :3].copy()
        x, y = CURSOR_AT
        expected[y : y + 12, x : x + 12] = RED[:3]
        assert psnr(at, expected) >= 35, step
        # The cursor is drawn where it was.
        assert np.abs(at[y + 2 : y + 10, x + 2 : x + 10].astype(int) - RED[:3]).max() < 40


def test_a_still_screen_costs_almost_nothing(tmp_path: Path) -> None:
    short, long = tmp_path / "short.rcrec", tmp_path / "long.rcrec"
    write_recording(short)
    write_recording(long, still_seconds=60)
    assert main([str(short), str(long), "-d", str(tmp_path / "out")]) == 0
    a, b = tmp_path / "out/short.avi", tmp_path / "out/long.avi"
    assert abs(float(probe(b)["format"]["duration"]) - 62.0) <= 0.1 + 1e-6
    # 600 more frames of a still screen: a keyframe every 10 s and empty chunks.
    assert b.stat().st_size - a.stat().st_size < 60_000
    assert len(list(decoded(b))) < 30


def test_mp4_and_mjpeg(tmp_path: Path) -> None:
    source = tmp_path / "s.rcrec"
    write_recording(source)
    assert main([str(source), "--to", "mp4", "-o", str(tmp_path / "s.mp4")]) == 0
    info = probe(tmp_path / "s.mp4")
    assert "mp4" in info["format"]["format_name"] and info["streams"][0]["codec_name"] == "h264"
    assert main([str(source), "--codec", "mjpeg"]) == 0
    assert probe(tmp_path / "s.avi")["streams"][0]["codec_name"] == "mjpeg"
    last = list(decoded(tmp_path / "s.avi"))[-1][1]
    assert psnr(last[100:220], picture(3)[100:220, :, :3]) >= 30


def test_encrypted_recordings_need_their_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = bytes(range(32))
    source = tmp_path / "sealed.rcrec"
    write_recording(source, key=key)
    assert main([str(source)]) == 1
    assert "encrypted" in capsys.readouterr().err and not (tmp_path / "sealed.avi").exists()
    (tmp_path / "key").write_bytes(key)
    assert main([str(source), "--key-file", str(tmp_path / "key")]) == 0
    assert (tmp_path / "sealed.avi").exists()


def test_bad_files_fail_clearly_and_leave_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.rcrec"
    write_recording(good)
    foreign = tmp_path / "holiday.rcrec"
    foreign.write_bytes(b"RIFF" + bytes(400))
    cut = tmp_path / "cut.rcrec"
    cut.write_bytes(good.read_bytes()[:-40])  # the index and end records are gone
    out = tmp_path / "out"
    code = main([str(tmp_path / "*.rcrec"), str(tmp_path / "missing.rcrec"), "-d", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "holiday.rcrec: This file is not a Lifeline recording (RCREC)." in err
    assert "missing.rcrec: no such file" in err
    lines = {line.split(":")[0].strip(): line for line in err.splitlines()}
    assert "stops early" in lines["cut.rcrec"]  # converted up to where it stops
    assert "good.avi" in lines["good.rcrec"] and "stops early" not in lines["good.rcrec"]
    assert sorted(p.name for p in out.iterdir()) == ["cut.avi", "good.avi"]
