"""Drop-behind: the OS forgets the pages of a large file that a transfer has streamed
past, instead of keeping the whole file in its page cache.

A transfer reads or writes each byte once. Left alone, a multi-gigabyte file fills the
page cache as it goes and pushes out what the machine's own programs had there (the
customer's, on the applet's side), and the kernel pays for every fresh page it fills.
So once a file passes `DROP_FROM`, its pages are given back a `WINDOW` at a time:

* read: the window just read, right away (its pages are clean);
* written: the window just written is handed to writeback, and the window before it,
  written back by then, is dropped. After the final ``fsync`` the whole file is.

Smaller files stay cached as usual (the technician often opens a fetched log at once).
It is advice: the pages still in use elsewhere, or not yet written back, simply stay.
Where the OS has no ``posix_fadvise`` (Windows, macOS) nothing happens.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

#: A file is dropped behind once a transfer has passed this many bytes of it.
DROP_FROM = 64 * 1024 * 1024
#: How many bytes are given back at a time.
WINDOW = 8 * 1024 * 1024

Advise = Callable[[int, int, int], None]


def _fadvise(fd: int, offset: int, length: int) -> None:
    # POSIX_FADV_DONTNEED: clean pages are dropped; on Linux dirty ones start writeback.
    with contextlib.suppress(OSError):
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


_ADVISE: Advise | None = _fadvise if hasattr(os, "posix_fadvise") else None


class DropBehind:
    """Follows one pass over a file (`passed` after each read or write) and gives its
    pages back behind it. ``written`` says whether the pass writes (pages are dirty).
    Each call takes the file's descriptor as its owner has it then, so advice never
    outlives the file."""

    def __init__(
        self,
        *,
        written: bool,
        drop_from: int = DROP_FROM,
        window: int = WINDOW,
        advise: Advise | None = _ADVISE,
    ) -> None:
        self._written = written
        self._drop_from = drop_from
        self._window = window
        self._advise = advise
        #: Writeback was asked for below this offset (everything read, when reading).
        self._handed = 0
        #: Pages below this offset were dropped.
        self._dropped = 0

    def passed(self, fd: int, offset: int) -> None:
        """The pass over the file open as ``fd`` has reached ``offset``."""
        if offset < self._drop_from or offset - self._handed < self._window:
            return
        if self._written:
            self._give(fd, self._handed, offset)  # starts its writeback
            self._give(fd, self._dropped, self._handed)  # written back since: dropped
            self._dropped, self._handed = self._handed, offset
        else:
            self._give(fd, self._dropped, offset)
            self._dropped = self._handed = offset

    def done(self, fd: int, end: int) -> None:
        """The pass is over and, if written, synced: drops the whole file up to ``end``,
        if it was large enough to be dropped at all."""
        if self._handed:
            self._give(fd, 0, end)
            self._dropped = self._handed = end

    def restart(self) -> None:
        """The file was truncated: the pass starts again from 0."""
        self._dropped = self._handed = 0

    def _give(self, fd: int, start: int, end: int) -> None:
        # A length of 0 would mean "to the end of the file".
        if self._advise is not None and end > start:
            self._advise(fd, start, end - start)
