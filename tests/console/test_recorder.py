"""The console's recorder: safe file names, never over an existing file, and a write
that fails ends the recording with a reason while what was written stays readable."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import numpy as np
import pytest

from common.codec import ScreenEncoder
from common.codec.wire_format import read_update_header
from common.recording import Kind, RecordingReader
from console import recorder as recorder_module
from console.recorder import SessionRecorder, file_name


def test_file_names_are_safe_and_sortable() -> None:
    name = file_name("Ann", 'Ben <evil>/../../"pc"\x00', when=0)
    assert name.startswith("1970-01-01 ") and name.endswith(" Ann - Ben _evil_.._.._pc_.rcrec")
    assert "/" not in name and "\x00" not in name
    assert file_name("", "...").endswith(" unknown - unknown.rcrec")


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "x.rcrec").write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        SessionRecorder(tmp_path / "x.rcrec", {})
    assert (tmp_path / "x.rcrec").read_bytes() == b"precious"


def test_a_full_disk_ends_the_recording_and_keeps_what_was_written(tmp_path: Path) -> None:
    failures: list[str] = []
    failed = threading.Event()

    def on_failure(why: str) -> None:
        failures.append(why)
        failed.set()

    recorder = SessionRecorder(tmp_path / "s.rcrec", {"technician": "Ann"}, on_failure=on_failure)
    for i in range(5):
        recorder.write(Kind.CURSOR, {"x": i, "y": i})
    real_write = recorder._file.write

    def full(data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    recorder._pool.submit(lambda: None).result()  # the first five are on disk
    recorder._file.write = full  # type: ignore[method-assign]
    recorder.write(Kind.CURSOR, {"x": 99, "y": 99})
    assert failed.wait(5)
    recorder.write(Kind.CURSOR, {"x": 100, "y": 100})  # ignored from now on
    recorder._file.write = real_write  # type: ignore[method-assign]
    recorder.close()
    assert failures == ["The recording stopped: No space left on device."]
    assert recorder.failed == failures[0]
    with (tmp_path / "s.rcrec").open("rb") as file:
        reader = RecordingReader(file)
        xs = [r.payload["x"] for r in reader.records()]
    assert xs == [0, 1, 2, 3, 4] and not reader.complete


def test_updates_before_the_first_keyframe_are_left_out(tmp_path: Path) -> None:
    """An update already on its way when recording starts is not a place playback can
    start: the file begins at the keyframe the console asked for."""
    encoder = ScreenEncoder(video=False)
    picture = np.zeros((64, 96, 4), np.uint8)
    first = encoder.encode(picture)
    picture[10:20, 10:40] = 200
    late = encoder.encode(picture)  # a change, not a keyframe
    picture[30:40, 10:40] = 90
    keyframe = encoder.encode(picture, force_keyframe=True)
    picture[50:60, 10:40] = 30
    after = encoder.encode(picture)
    assert read_update_header(first[0]).keyframe and not read_update_header(late[0]).keyframe
    recorder = SessionRecorder(tmp_path / "s.rcrec", {})
    for update in (*late, *keyframe, *after):
        recorder.screen_update(0, update)
    recorder.close()
    with (tmp_path / "s.rcrec").open("rb") as file:
        screens = [r for r in RecordingReader(file).records() if r.kind == Kind.SCREEN]
    assert [s.payload["data"] for s in screens] == [*keyframe, *after]


def test_a_folder_that_does_not_keep_up_stops_the_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "MAX_PENDING", 1_000_000)
    failures: list[str] = []
    recorder = SessionRecorder(tmp_path / "s.rcrec", {}, on_failure=failures.append)
    stuck = threading.Event()
    recorder._pool.submit(stuck.wait)  # the share hangs: nothing gets written
    encoder = ScreenEncoder(video=False)
    noise = np.random.default_rng(1).integers(0, 255, (256, 256, 4), np.uint8)
    for update in encoder.encode(noise, force_keyframe=True) * 8:
        recorder.screen_update(0, update)
    assert failures == [
        "The recording stopped: the recording folder is not keeping up with the session."
    ]
    stuck.set()
    recorder.close()
    with (tmp_path / "s.rcrec").open("rb") as file:  # still a recording, cut short
        reader = RecordingReader(file)
        list(reader.records())
        assert not reader.complete
