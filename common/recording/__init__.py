"""RCREC v1: a session's screen stream as received, its cursor and its events, in a
crash-safe append-only file (spec: docs/rcrec.md). Qt-free and I/O only through the
file object the caller opens."""

from common.recording.format import Kind
from common.recording.reader import Record, RecordingReader
from common.recording.writer import RecordingWriter

__all__ = ["Kind", "Record", "RecordingReader", "RecordingWriter"]
