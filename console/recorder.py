"""Records one session to an RCREC file without slowing the viewer: records are taken
with the time they arrived and written by a thread of their own, so a slow disk or a
network share never holds up decoding. A write that fails (disk full, share gone) ends
the recording; what was written stays readable (docs/rcrec.md §6)."""

from __future__ import annotations

import concurrent.futures
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import platformdirs

from common.recording import Kind, RecordingWriter

log = logging.getLogger("lifeline.console")

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

    def screen_update(self, monitor: int, data: bytes) -> None:
        at = self._writer.elapsed_ms
        self._submit(self._writer.screen_update, monitor, data, at)

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

    def _submit(self, function: Callable[..., None], *args: Any) -> None:
        if self.failed is None and not self.closed:
            self._pool.submit(self._run, function, *args)

    def _run(self, function: Callable[..., None], *args: Any) -> None:
        if self.failed is not None:
            return
        try:
            function(*args)
        except (OSError, ValueError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        reason = getattr(exc, "strerror", None) or str(exc)
        self.failed = f"The recording stopped: {reason}."
        log.warning("recording %s stopped: %s", self.path, reason)
        if self._on_failure is not None:
            self._on_failure(self.failed)
