"""Records one session to an RCREC file without slowing the viewer: records are taken
with the time they arrived and written by a thread of their own, so a slow disk or a
network share never holds up decoding. A write that fails (disk full, share gone) ends
the recording; what was written stays readable (docs/rcrec.md §6)."""

from __future__ import annotations

import concurrent.futures
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import platformdirs

from common.codec.wire_format import read_update_header
from common.errors import CodecError
from common.recording import Kind, RecordingWriter

log = logging.getLogger("lifeline.console")
#: Bytes of the stream waiting for the recording's disk before the recording stops
#: (about a minute of a busy screen).
MAX_PENDING = 64 * 1024 * 1024

_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def default_folder() -> Path:
    """The user's Videos/Lifeline."""
    return Path(platformdirs.user_videos_dir()) / "Lifeline"


def file_name(technician: str, customer: str, when: float | None = None) -> str:
    """``2026-11-23 091502 Ann - Ben (ben-pc).rcrec``: sortable, readable, and safe on
    every file system (the customer's name comes from their computer)."""
    stamp = time.strftime("%Y-%m-%d %H%M%S", time.localtime(when))
    parts = [_UNSAFE.sub("_", p).strip(" .")[:60] or "unknown" for p in (technician, customer)]
    return f"{stamp} {parts[0]} - {parts[1]}.rcrec"


class SessionRecorder:
    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        *,
        key: bytes | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = path.open("xb")  # never over someone's file
        self._writer = RecordingWriter(self._file, meta, key=key)
        self._pool = concurrent.futures.ThreadPoolExecutor(1, "lifeline-record")
        self._on_failure = on_failure
        #: Why the recording stopped early (a write failed), or None.
        self.failed: str | None = None
        self.closed = False
        #: Updates before the first keyframe are not recorded (a player starts there).
        self._keyframe_seen = False
        #: Bytes handed to the writer thread and not yet written.
        self._pending = 0
        self._pending_lock = threading.Lock()

    def screen_update(self, monitor: int, data: bytes) -> None:
        """Records one update as received; those before the first keyframe (already on
        their way when recording started) are left out, so the file starts cleanly."""
        if not self._keyframe_seen:
            try:
                self._keyframe_seen = read_update_header(data).keyframe
            except CodecError:
                return  # the viewer refuses it too
            if not self._keyframe_seen:
                return
        at = self._writer.elapsed_ms
        self._submit(self._writer.screen_update, monitor, data, at, size=len(data))

    def write(self, kind: Kind, payload: dict[str, Any]) -> None:
        self._submit(self._write, kind, payload, self._writer.elapsed_ms)

    def event(self, kind: str, **detail: Any) -> None:
        self.write(Kind.EVENT, {"kind": kind, **detail})

    def close(self, reason: str = "finished") -> None:
        """Writes the end of the file and waits for every record to be on disk."""
        if self.closed:
            return
        self.closed = True
        if self.failed is None:
            self._pool.submit(self._finish, reason)
        self._pool.shutdown(wait=True)
        self._file.close()

    def _write(self, kind: Kind, payload: dict[str, Any], at: int) -> None:
        self._writer.write(kind, payload, time_ms=at)

    def _finish(self, reason: str) -> None:
        try:
            self._writer.close(reason)
        except OSError as exc:
            self._failed(exc)

    def _submit(self, function: Callable[..., None], *args: Any, size: int = 0) -> None:
        if self.failed is not None or self.closed:
            return
        with self._pending_lock:
            self._pending += size
            behind = self._pending
        if behind > MAX_PENDING:
            # The folder (a network share, a slow disk) is not keeping up: stop cleanly
            # rather than hold the stream in memory.
            self._failed(OSError(0, "the recording folder is not keeping up with the session"))
            return
        self._pool.submit(self._run, function, *args, size=size)

    def _run(self, function: Callable[..., None], *args: Any, size: int = 0) -> None:
        try:
            if self.failed is None:
                function(*args)
        except (OSError, ValueError) as exc:
            self._failed(exc)
        finally:
            with self._pending_lock:
                self._pending -= size

    def _failed(self, exc: Exception) -> None:
        if self.failed is not None:
            return
        reason = getattr(exc, "strerror", None) or str(exc)
        self.failed = f"The recording stopped: {reason}."
        log.warning("recording %s stopped: %s", self.path, reason)
        if self._on_failure is not None:
            self._on_failure(self.failed)
