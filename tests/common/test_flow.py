"""A file sender's window: how far it may run ahead of its receiver, narrower while
the technician's input flows."""

from __future__ import annotations

import pytest

from common.errors import ProtocolError, TransferError
from common.files.flow import (
    INTERACTIVE_FOR,
    INTERACTIVE_WINDOW,
    MIN_CHUNK,
    RECEIVE_LIMIT,
    WINDOW,
    Pace,
    ReceiveWindow,
    SendWindow,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_sender_keeps_at_most_a_window_beyond_the_last_acknowledgement() -> None:
    window = SendWindow(1000)
    window.sent_to(1000 + WINDOW - 1)
    assert window.open
    window.sent_to(1000 + WINDOW)
    assert not window.open
    window.ack(1001)
    assert window.open


def test_acknowledgements_of_bytes_never_sent_or_going_back_are_refused() -> None:
    window = SendWindow()
    window.sent_to(500)
    window.ack(300)
    for bad in (501, 299):
        with pytest.raises(ProtocolError):
            window.ack(bad)
    assert window.acked == 300


def test_input_narrows_the_window_for_a_moment() -> None:
    clock = Clock()
    pace = Pace(clock)
    window = SendWindow(0, pace)
    window.sent_to(INTERACTIVE_WINDOW)
    assert pace.window == WINDOW and window.open  # nobody controls the computer
    pace.input()
    assert pace.window == INTERACTIVE_WINDOW and not window.open
    clock.now += INTERACTIVE_FOR * 0.9
    assert not window.open
    pace.input()  # each input message holds it longer
    clock.now += INTERACTIVE_FOR * 0.9
    assert not window.open
    clock.now += INTERACTIVE_FOR * 0.1
    assert pace.window == WINDOW and window.open  # quiet again: full speed


def test_the_narrow_window_still_carries_whole_chunks() -> None:
    from common.files.messages import CHUNK_SIZE

    assert CHUNK_SIZE < INTERACTIVE_WINDOW < WINDOW


def test_a_receiver_checks_each_chunk_as_it_arrives() -> None:
    window = ReceiveWindow("The customer's computer")
    size = 100 + MIN_CHUNK + RECEIVE_LIMIT + 10  # the last chunk: 10 bytes
    window.begin(100, size)
    window.arrived("f", 100, MIN_CHUNK, written=100)
    at = 100 + MIN_CHUNK
    cases = [
        (100, MIN_CHUNK, at, "out of order"),  # again: a replay or a gap
        (at, size, at, "More data arrived than announced"),
        (at, RECEIVE_LIMIT + 1, at, "The customer's computer sent more than it may"),
        (at, MIN_CHUNK - 1, at, "too short"),  # crumbs would make many small waits
        (at, 0, at, "too short"),
    ]
    for offset, length, written, words in cases:
        with pytest.raises(TransferError, match=words):
            window.arrived("f", offset, length, written)
        assert window.received == at  # nothing counted
    window.arrived("f", at, RECEIVE_LIMIT, written=at)  # exactly the limit is fine
    at += RECEIVE_LIMIT
    window.arrived("f", at, size - at, written=at)  # the file's last chunk may be short
    window.end_arrived()
    with pytest.raises(TransferError, match="ended twice"):
        window.end_arrived()
    with pytest.raises(TransferError, match="More data arrived"):
        window.arrived("f", size, MIN_CHUNK, written=size)


def test_what_waits_for_the_disk_is_only_what_the_writer_reads() -> None:
    """A peer's extra fields (a schema lets them through) are not kept while a chunk
    waits for the disk, so they cannot grow the receiver's memory past its limit."""
    from common.files.messages import APPLET_FILE_MESSAGES, kept

    padded = {"t": "file_chunk", "id": 1, "offset": 0, "data": b"x", "pad": b"\0" * 2**20}
    assert kept(APPLET_FILE_MESSAGES.check(padded)) == {
        "t": "file_chunk",
        "offset": 0,
        "data": b"x",
    }
    end = {"t": "file_end", "id": 1, "size": 1, "md5": "", "sha256": "0" * 64, "pad": "x"}
    assert kept(APPLET_FILE_MESSAGES.check(end)) == {
        "t": "file_end", "size": 1, "md5": "", "sha256": "0" * 64
    }  # fmt: skip
