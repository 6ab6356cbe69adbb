from __future__ import annotations

import pytest

from common.errors import MessageTooLarge, ProtocolError
from common.protocol.channels import FLAG_FINAL, Channel, Reassembler, parse_channel


def test_priorities_and_flow_control() -> None:
    assert sorted(Channel) == [Channel.CONTROL, Channel.CHAT, Channel.VIDEO, Channel.FILE]
    assert not Channel.CONTROL.flow_controlled and not Channel.CHAT.flow_controlled
    assert Channel.VIDEO.flow_controlled and Channel.FILE.flow_controlled


def test_reassembly_per_channel() -> None:
    r = Reassembler()
    assert r.add(Channel.VIDEO, 0, b"ab") is None
    assert r.add(Channel.CONTROL, FLAG_FINAL, b"ctl") == b"ctl"
    assert r.add(Channel.VIDEO, FLAG_FINAL, b"cd") == b"abcd"


def test_reassembly_is_bounded() -> None:
    r = Reassembler()
    chunk = bytes(64 * 1024)
    for _ in range(Channel.CONTROL.max_message // len(chunk)):
        r.add(Channel.CONTROL, 0, chunk)
    with pytest.raises(MessageTooLarge):
        r.add(Channel.CONTROL, 0, b"x")


def test_unknown_channel() -> None:
    with pytest.raises(ProtocolError):
        parse_channel(9)
