"""RCREC v1: round trips, a file cut at every byte, damage, hostile lengths, the index,
encryption at rest, and a writer killed mid-recording."""

from __future__ import annotations

import io
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.codec import ScreenDecoder, ScreenEncoder
from common.errors import NotARecording, RecordingError, RecordingKeyError
from common.recording import Kind, Record, RecordingReader, RecordingWriter
from common.recording.format import RECORD_HEADER

KEY = bytes(range(32))
META = {"technician": "Ann", "customer": {"name": "Ben", "host": "ben-pc"}}


def frames() -> list[np.ndarray[Any, Any]]:
    out = []
    for i in range(4):
        frame = np.full((48, 64, 4), 30, np.uint8)
        frame[8 * i : 8 * i + 8, 4:60, :3] = (200, 100 + i * 30, 50)
        out.append(frame)
    return out


def record_session(file: io.BufferedIOBase | io.BytesIO, key: bytes | None = None) -> list[bytes]:
    """A small session: a keyframe, deltas, a second keyframe, cursor and events."""
    clock = iter(i * 0.04 for i in range(1000))
    writer = RecordingWriter(file, META, key=key, clock=lambda: next(clock))  # type: ignore[arg-type]
    encoder = ScreenEncoder(video=False)
    sent: list[bytes] = []
    for i, frame in enumerate(frames()):
        for data in encoder.encode(frame, force_keyframe=(i == 2)):
            writer.screen_update(0, data)
            sent.append(data)
        writer.write(Kind.CURSOR, {"x": i, "y": 2 * i})
    writer.event("chat", by="customer", text="the printer says PC LOAD LETTER")
    writer.event("permission", action="remote_control", state="granted")
    writer.close()
    return sent


def read_all(data: bytes, key: bytes | None = None) -> tuple[list[Record], RecordingReader]:
    reader = RecordingReader(io.BytesIO(data), key)
    return list(reader.records()), reader


def test_a_session_reads_back_exactly_with_its_index() -> None:
    buffer = io.BytesIO()
    sent = record_session(buffer)
    records, reader = read_all(buffer.getvalue())
    assert reader.complete and reader.stopped is None and not reader.encrypted
    assert reader.meta["technician"] == "Ann" and reader.meta["started"] > 1e9
    screens = [r.payload["data"] for r in records if r.kind == Kind.SCREEN]
    assert screens == sent
    assert [r.kind for r in records][-2:] == [Kind.INDEX, Kind.END]
    times = [r.time_ms for r in records]
    assert times == sorted(times) and times[0] > 0  # the clock ticks 40 ms per call
    events = [r.payload for r in records if r.kind == Kind.EVENT]
    assert events[0] == {
        "kind": "chat",
        "by": "customer",
        "text": "the printer says PC LOAD LETTER",
    }
    # Replaying the updates gives the last frame, pixel for pixel.
    decoder = ScreenDecoder()
    for data in screens:
        decoder.decode(data)
    assert np.array_equal(decoder.framebuffer, frames()[-1][..., :3])
    # The index points at the two keyframes; playback can start at either.
    index = records[-2].payload["keyframes"]
    assert len(index) == 2
    for time_ms, offset in index:
        first = next(reader.records(start=offset))
        assert first.kind == Kind.SCREEN and first.time_ms == time_ms and first.offset == offset
        fresh = ScreenDecoder()
        fresh.decode(first.payload["data"])  # a keyframe decodes on its own


def test_a_file_cut_at_any_byte_reads_up_to_its_last_whole_record() -> None:
    buffer = io.BytesIO()
    record_session(buffer)
    whole = buffer.getvalue()
    complete, reader = read_all(whole)
    header_size = complete[0].offset
    ends = [r.offset for r in complete[1:]] + [len(whole)]
    for cut in range(len(whole)):
        data = whole[:cut]
        if cut < header_size:
            with pytest.raises(RecordingError if cut >= 8 else NotARecording):
                RecordingReader(io.BytesIO(data))
            continue
        records, reader = read_all(data)
        whole_records = sum(end <= cut for end in ends)
        assert records == complete[:whole_records], cut
        assert not reader.complete and reader.stopped


def test_damage_stops_reading_there_and_says_so() -> None:
    buffer = io.BytesIO()
    record_session(buffer)
    whole = bytearray(buffer.getvalue())
    complete, _ = read_all(bytes(whole))
    third = complete[2]
    whole[third.offset + RECORD_HEADER.size + 3] ^= 0x40
    records, reader = read_all(bytes(whole))
    assert records == complete[:2] and "damaged" in (reader.stopped or "")

    # A length of 4 GiB is refused before anything is allocated.
    hostile = bytearray(buffer.getvalue())
    struct.pack_into(">I", hostile, third.offset, 0xFFFFFFFF)
    records, reader = read_all(bytes(hostile))
    assert records == complete[:2] and "impossible" in (reader.stopped or "")

    # A damaged header is refused outright.
    header = bytearray(buffer.getvalue())
    header[20] ^= 1
    with pytest.raises(RecordingError, match="header is damaged"):
        RecordingReader(io.BytesIO(bytes(header)))


def test_foreign_files_get_a_clear_error() -> None:
    with pytest.raises(NotARecording, match="not a Lifeline recording"):
        RecordingReader(io.BytesIO(b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(100)))
    buffer = io.BytesIO()
    record_session(buffer)
    newer = bytearray(buffer.getvalue())
    newer[8:10] = (2).to_bytes(2, "big")
    with pytest.raises(RecordingError, match="version 2"):
        RecordingReader(io.BytesIO(bytes(newer)))


def test_a_record_kind_from_a_later_version_is_skipped() -> None:
    buffer = io.BytesIO()
    writer = RecordingWriter(buffer, META)
    writer.write(99, {"future": True})  # type: ignore[arg-type]
    writer.event("note", text="after it")
    writer.close()
    records, reader = read_all(buffer.getvalue())
    assert [r.kind for r in records] == [Kind.EVENT, Kind.INDEX, Kind.END] and reader.complete


def test_encrypted_at_rest() -> None:
    buffer = io.BytesIO()
    sent = record_session(buffer, key=KEY)
    data = buffer.getvalue()
    assert b"PC LOAD LETTER" not in data and sent[1] not in data
    records, reader = read_all(data, KEY)
    assert reader.encrypted and reader.complete
    assert [r.payload["data"] for r in records if r.kind == Kind.SCREEN] == sent
    with pytest.raises(RecordingKeyError, match="its key is needed"):
        RecordingReader(io.BytesIO(data))
    with pytest.raises(RecordingKeyError, match="another key"):
        RecordingReader(io.BytesIO(data), bytes(32))
    # Seeking through the index works encrypted too (the nonce is the record's number).
    for _, offset in records[-2].payload["keyframes"]:
        assert next(reader.records(start=offset)).kind == Kind.SCREEN
    # Two records swapped (each with a valid checksum) fail authentication.
    a, b = records[1], records[2]
    swapped = data[: a.offset] + data[b.offset : records[3].offset]
    swapped += data[a.offset : b.offset] + data[records[3].offset :]
    got, reader = read_all(swapped, KEY)
    assert got == records[:1] and "altered" in (reader.stopped or "")


WRITER = """
import sys, time
from common.recording import Kind, RecordingWriter
with open(sys.argv[1], "wb") as f:
    w = RecordingWriter(f, {"technician": "Ann"})
    for i in range(1_000_000):
        w.write(Kind.CURSOR, {"x": i, "y": i})
        if i == 500:
            print("ready", flush=True)
        time.sleep(0.0002)
"""


def test_a_writer_killed_mid_recording_leaves_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.rcrec"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    time.sleep(0.2)
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    with path.open("rb") as f:
        reader = RecordingReader(f)
        records = list(reader.records())
    assert len(records) > 500 and not reader.complete
    assert [r.payload["x"] for r in records] == list(range(len(records)))


def test_a_file_cut_at_random_offsets_converts_up_to_its_last_whole_record(
    tmp_path: Path,
) -> None:
    from common.recording.export import export

    buffer = io.BytesIO()
    record_session(buffer)
    whole = buffer.getvalue()
    complete, _ = read_all(whole)
    ends = [r.offset for r in complete[1:]] + [len(whole)]
    assert complete[0].kind == Kind.SCREEN  # the first picture: whole once cut ≥ ends[0]
    rng = random.Random(7)
    cuts = sorted(rng.choices(range(complete[0].offset, len(whole)), k=1000))
    converted = 0
    for cut in cuts:
        reader = RecordingReader(io.BytesIO(whole[:cut]))
        records = list(reader.records())
        assert records == complete[: sum(end <= cut for end in ends)]
        if cut >= ends[0] and cut % 20 == 0:  # converting every one would take a minute
            result = export(RecordingReader(io.BytesIO(whole[:cut])), tmp_path / "cut.avi")
            assert not result.complete and result.frames >= 1
            converted += 1
        elif cut < ends[0]:
            with pytest.raises(ValueError, match="no picture"):
                export(RecordingReader(io.BytesIO(whole[:cut])), tmp_path / "none.avi")
    assert converted >= 10


def test_an_export_stopped_by_an_error_says_so_and_leaves_no_encoder_running(
    tmp_path: Path,
) -> None:
    from common.recording.export import export

    buffer = io.BytesIO()
    record_session(buffer)

    def progress(done: float) -> None:
        if done > 0:  # after the first picture went to the encoder's thread
            raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError, match="disk went away"):
        export(
            RecordingReader(io.BytesIO(buffer.getvalue())), tmp_path / "x.avi", progress=progress
        )
    assert not [t for t in threading.enumerate() if t.name == "export-encoder"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096), st.integers(min_value=0, max_value=4096))
def test_the_reader_survives_anything(garbage: bytes, at: int) -> None:
    """Random bytes after a valid header, and a valid file overwritten anywhere with
    random bytes: only RecordingError, never another exception, never a hang, and never
    a read beyond the bounds (the file object counts what is asked of it)."""
    buffer = io.BytesIO()
    record_session(buffer)
    whole = buffer.getvalue()
    header_end = RecordingReader(io.BytesIO(whole))._start
    for data in (
        whole[:header_end] + garbage,
        whole[:at] + garbage + whole[at + len(garbage) :],
    ):
        file = BoundedReads(data)
        try:
            reader = RecordingReader(file)
            for _ in reader.records():
                pass
        except RecordingError:
            pass
        assert file.largest <= 5 * 1024 * 1024


class BoundedReads(io.BytesIO):
    """Remembers the largest read asked for: a reader must bound lengths first."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 0)
        return super().read(size)
