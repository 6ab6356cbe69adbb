"""The broker protocol: what applet and console say to the broker, and its answers.

Each WebSocket binary message starts with one byte:

* ``0x00`` CONTROL — a msgpack message for (or from) the broker;
* ``0x01`` RELAY — end-to-end bytes the broker forwards unchanged to the other peer.

docs/protocol.md is the full specification.
"""

from __future__ import annotations

import enum
from typing import Any

from common.errors import MessageTooLarge, ProtocolError
from common.protocol import messages
from common.protocol.messages import Field, Message, Schema, SchemaRegistry
from common.protocol.version import MAX_RECORD

#: Largest WebSocket message either side accepts: one full record plus framing.
MAX_FRAME = MAX_RECORD + 1024
MAX_CONTROL = 64 * 1024


class Frame(enum.IntEnum):
    CONTROL = 0
    RELAY = 1


def control_frame(message: dict[str, Any]) -> bytes:
    return b"\x00" + messages.encode(message)


def relay_frame(data: bytes) -> bytes:
    return b"\x01" + data


def parse_frame(data: bytes) -> tuple[Frame, bytes]:
    if not data:
        raise ProtocolError("An empty frame arrived.")
    if len(data) > MAX_FRAME:
        raise MessageTooLarge()
    if data[0] == Frame.CONTROL:
        return Frame.CONTROL, data[1:]
    if data[0] == Frame.RELAY:
        return Frame.RELAY, data[1:]
    raise ProtocolError(f"Unknown frame type {data[0]}.")


_S = Field(str, 256)
_S_OPT = Field(str, 256, optional=True)
_ID = Field(str, 64)

_customer = Field(dict, 16, optional=True)

#: Messages a client may send to the broker.
CLIENT_MESSAGES = SchemaRegistry(
    Schema("hello", {"role": Field(str, 16), "token": Field(str, 128, optional=True)}),
    Schema("create_session", {"ttl": Field(int, optional=True)}),
    Schema("claim", {"nameplate": Field(str, 16), "customer": _customer}),
    Schema(
        "enqueue",
        {
            "technician": _S_OPT,
            "group": _S_OPT,
            "customer": _customer,
        },
    ),
    Schema("queue_list", {}),
    Schema("pickup", {"session_id": _ID}),
    Schema("register_resume", {"key": Field(bytes, 32)}),
    Schema("resume", {"session_id": _ID, "role": Field(str, 16)}),
    Schema("resume_proof", {"proof": Field(bytes, 64)}),
    Schema("handshake_failed", {}),
    Schema("end", {"reason": _S_OPT}),
    Schema("session_event", {"kind": Field(str, 32), "detail": Field(dict, 8)}),
    Schema("ping", {}),
)

#: Messages the broker sends.
BROKER_MESSAGES = SchemaRegistry(
    Schema("welcome", {"broker": _S, "policy_key": Field(bytes, 32)}),
    Schema(
        "session_created",
        {"session_id": _ID, "nameplate": Field(str, 16), "expires_at": Field((int, float))},
    ),
    Schema("claimed", {"session_id": _ID, "technician": Field(dict, 16)}),
    Schema("queued", {"session_id": _ID}),
    Schema("queue", {"entries": Field(list, 10_000)}),
    Schema(
        "paired",
        {
            "session_id": _ID,
            "policy": Field(bytes, 4096),
            "peer": Field(dict, 16),
            "queue_flow": Field(bool),
        },
    ),
    Schema("challenge", {"nonce": Field(bytes, 64)}),
    Schema("resumed", {"peer_present": Field(bool)}),
    Schema("peer_state", {"state": Field(str, 32)}),
    Schema("closed", {"reason": _S, "message": Field(str, 1024)}),
    Schema("error", {"code": _S, "message": Field(str, 1024)}),
    Schema("ok", {"ref": _S_OPT}),
    Schema("pong", {}),
)


def decode_client(data: bytes) -> Message:
    return CLIENT_MESSAGES.check(messages.decode(data, max_size=MAX_CONTROL))


def decode_broker(data: bytes) -> Message:
    return BROKER_MESSAGES.check(messages.decode(data, max_size=MAX_CONTROL))
