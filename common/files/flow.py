"""How far a file's sender may run ahead of its receiver.

The session acknowledges records as soon as they are decrypted, so its window bounds
only the bytes in flight, not the chunks waiting for the receiver's disk. Without more,
a fast sender fills the receiver's memory with chunks and every other message (input,
chat) waits behind them. So the receiver acknowledges each chunk once it is written
(``file_ack``, with the length it now holds) and the sender keeps at most
:data:`WINDOW` bytes of a file beyond the last acknowledgement.
"""

from __future__ import annotations

from common.errors import ProtocolError

#: Bytes a sender may have sent beyond the receiver's last ``file_ack`` (8 chunks).
WINDOW = 2 * 1024 * 1024


class SendWindow:
    """The sender's account of one transfer: what it sent, what was acknowledged."""

    def __init__(self, start: int = 0, window: int = WINDOW) -> None:
        self.sent = self.acked = start
        self.window = window

    @property
    def open(self) -> bool:
        """Whether another chunk may go now."""
        return self.sent - self.acked < self.window

    def sent_to(self, offset: int) -> None:
        self.sent = offset

    def ack(self, offset: int) -> None:
        """The receiver holds ``offset`` bytes; an acknowledgement of bytes never sent,
        or one that goes backwards, is a protocol error."""
        if not self.acked <= offset <= self.sent:
            raise ProtocolError("A file acknowledgement does not match what was sent.")
        self.acked = offset
