from __future__ import annotations

import contextlib

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import MessageTooLarge, ProtocolError, UnsupportedVersion
from common.protocol import messages
from common.protocol.broker_messages import (
    MAX_FRAME,
    Frame,
    control_frame,
    decode_broker,
    decode_client,
    parse_frame,
    relay_frame,
)
from common.protocol.messages import Field, Schema


def test_encode_adds_the_version_and_decode_checks_it() -> None:
    data = messages.encode({"t": "chat", "text": "hi"})
    assert messages.decode(data) == {"v": 1, "t": "chat", "text": "hi"}
    with pytest.raises(UnsupportedVersion):
        messages.decode(msgpack.packb({"v": 2, "t": "chat"}))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xc1",
        msgpack.packb([1, 2]),
        msgpack.packb({"t": "x"}),
        msgpack.packb({"v": 1}),
        msgpack.packb({"v": True, "t": "x"}),
        msgpack.packb({"v": 1, "t": 5}),
    ],
)
def test_malformed_messages_are_refused(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        messages.decode(raw)


def test_size_is_bounded() -> None:
    with pytest.raises(MessageTooLarge):
        messages.decode(messages.encode({"t": "x", "b": b"0" * 100}), max_size=50)


def test_schema_checks_presence_type_and_length() -> None:
    schema = Schema("chat", {"text": Field(str, 5), "id": Field(int, optional=True)})
    assert schema.check({"v": 1, "t": "chat", "text": "hey"})
    with pytest.raises(ProtocolError):
        schema.check({"v": 1, "t": "chat"})
    with pytest.raises(ProtocolError):
        schema.check({"v": 1, "t": "chat", "text": 5})
    with pytest.raises(ProtocolError):
        schema.check({"v": 1, "t": "chat", "text": "x", "id": True})
    with pytest.raises(MessageTooLarge):
        schema.check({"v": 1, "t": "chat", "text": "toolong"})


def test_broker_frames_round_trip_and_reject_unknown() -> None:
    kind, payload = parse_frame(control_frame({"t": "ping"}))
    assert kind is Frame.CONTROL and decode_client(payload)["t"] == "ping"
    assert parse_frame(relay_frame(b"abc")) == (Frame.RELAY, b"abc")
    for bad in (b"", b"\x07abc"):
        with pytest.raises(ProtocolError):
            parse_frame(bad)
    with pytest.raises(MessageTooLarge):
        parse_frame(b"\x01" + bytes(MAX_FRAME))


def test_unknown_client_messages_are_refused() -> None:
    with pytest.raises(ProtocolError):
        decode_client(messages.encode({"t": "make_me_admin"}))
    with pytest.raises(ProtocolError):
        decode_broker(messages.encode({"t": "welcome", "broker": "x"}))


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash_decoding(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client(data)
