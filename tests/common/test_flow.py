"""A file sender's window: how far it may run ahead of its receiver, narrower while
the technician's input flows."""

from __future__ import annotations

import pytest

from common.errors import ProtocolError, TransferError
from common.files.flow import (
    INTERACTIVE_FOR,
    INTERACTIVE_WINDOW,
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
    window.begin(100, 100 + 3 * RECEIVE_LIMIT)
    window.arrived("f", 100, 10, written=100)
    assert window.received == 110
    cases = [
        (100, 10, 110, "out of order"),  # again: a replay or a gap
        (110, 3 * RECEIVE_LIMIT, 110, "More data arrived than announced"),
        (110, RECEIVE_LIMIT + 1, 110, "The customer's computer sent more than it may"),
    ]
    for offset, length, written, words in cases:
        with pytest.raises(TransferError, match=words):
            window.arrived("f", offset, length, written)
        assert window.received == 110  # nothing counted
    window.arrived("f", 110, RECEIVE_LIMIT, written=110)  # exactly the limit is fine
