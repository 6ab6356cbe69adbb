"""How far a file's sender may run ahead of its receiver.

The session acknowledges records as soon as they are decrypted, so its window bounds
only the bytes in flight, not the chunks waiting for the receiver's disk. Without more,
a fast sender fills the receiver's memory with chunks and every other message (input,
chat) waits behind them. So the receiver acknowledges each chunk once it is written
(``file_ack``, with the length it now holds) and the sender keeps at most
:data:`WINDOW` bytes of a file beyond the last acknowledgement.

While the technician controls the computer, transfers give way to their input: for
:data:`INTERACTIVE_FOR` seconds after each input message, a sender keeps at most
:data:`INTERACTIVE_WINDOW` ahead (:class:`Pace`). Less file data then waits on the wire
and in the relay ahead of each input message, and the transfer, slower for the moment,
leaves the processor to the programs that carry the input.

The receiver checks each chunk as it arrives, before it waits for the disk
(:class:`ReceiveWindow`), so a sender that ignores the window is stopped, not queued for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from common.errors import ProtocolError, TransferError

#: Bytes a sender may have sent beyond the receiver's last ``file_ack`` (8 chunks).
WINDOW = 2 * 1024 * 1024
#: The same while input flows (2 chunks).
INTERACTIVE_WINDOW = 512 * 1024
#: Seconds after the last input message that transfers keep the smaller window.
INTERACTIVE_FOR = 1.0
#: Bytes a receiver accepts beyond what it has written, whatever the sender's window.
RECEIVE_LIMIT = 2 * WINDOW
#: The shortest chunk a receiver accepts, but for a file's last.
MIN_CHUNK = 1024


class Pace:
    """Whether the technician is controlling the computer right now, as the file
    senders of one session see it: the console marks each input message it sends, the
    applet each one it carries out."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        #: When the last input message went (or came), on ``clock``.
        self.last_input = -math.inf

    def input(self) -> None:
        self.last_input = self._clock()

    @property
    def window(self) -> int:
        """How far a file's sender may run ahead of its receiver now."""
        if self._clock() - self.last_input < INTERACTIVE_FOR:
            return INTERACTIVE_WINDOW
        return WINDOW


class SendWindow:
    """The sender's account of one transfer: what it sent, what was acknowledged."""

    def __init__(self, start: int = 0, pace: Pace | None = None) -> None:
        self.sent = self.acked = start
        self.pace = pace or Pace()

    @property
    def open(self) -> bool:
        """Whether another chunk may go now."""
        return self.sent - self.acked < self.pace.window

    def sent_to(self, offset: int) -> None:
        self.sent = offset

    def ack(self, offset: int) -> None:
        """The receiver holds ``offset`` bytes; an acknowledgement of bytes never sent,
        or one that goes backwards, is a protocol error."""
        if not self.acked <= offset <= self.sent:
            raise ProtocolError("A file acknowledgement does not match what was sent.")
        self.acked = offset


class ReceiveWindow:
    """The receiver's account of one transfer: each chunk is checked as it arrives,
    before it waits for the disk, so that a sender that does not wait for ``file_ack``
    is stopped instead of queued for. Chunks shorter than :data:`MIN_CHUNK` are refused
    unless they end the file, so the chunks waiting stay few as well as small."""

    def __init__(self, sender: str) -> None:
        #: Who sends, as an error names it ("The customer's computer").
        self.sender = sender
        self.received = self.size = 0
        #: The end arrived: nothing may follow it.
        self.ended = False

    def begin(self, offset: int, size: int) -> None:
        """The transfer starts (or resumes) at ``offset`` of ``size`` bytes."""
        self.received, self.size = offset, size

    def arrived(self, name: str, offset: int, length: int, written: int) -> None:
        """``length`` bytes of file ``name`` arrived at ``offset`` while the receiver has
        ``written`` bytes on its disk; raises :class:`TransferError` when they do not
        follow what came before, go past the size announced, are a crumb, or go past
        :data:`RECEIVE_LIMIT` beyond ``written``."""
        end = self.received + length
        if self.ended or end > self.size:
            raise TransferError("More data arrived than announced.", reason="out_of_order")
        if offset != self.received:
            raise TransferError(f"{name}: a chunk arrived out of order.", reason="out_of_order")
        if length < MIN_CHUNK and end != self.size:
            raise TransferError(f"{name}: a chunk arrived too short.", reason="out_of_order")
        if end - written > RECEIVE_LIMIT:
            raise TransferError(
                f"{self.sender} sent more than it may before this one acknowledged it.",
                reason="out_of_order",
            )
        self.received = end

    def end_arrived(self) -> None:
        """The sender's ``file_end``: once only."""
        if self.ended:
            raise TransferError("The transfer ended twice.", reason="out_of_order")
        self.ended = True
