"""The console's recorder: safe file names, never over an existing file, and a write
that fails ends the recording with a reason while what was written stays readable."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from common.recording import Kind, RecordingReader
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
