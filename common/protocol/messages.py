"""Message encoding (msgpack maps) with bounds and light schema checks.

Every message is a map with ``v`` (protocol version) and ``t`` (type). A
:class:`Schema` names the fields a message type must carry, their types, and for
strings and bytes their maximum length, so hostile input is refused before use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack

from common.errors import MessageTooLarge, ProtocolError, UnsupportedVersion
from common.protocol.version import MAX_RECORD, PROTOCOL_VERSION

Message = dict[str, Any]


def encode(message: Mapping[str, Any]) -> bytes:
    if "v" not in message:
        message = {"v": PROTOCOL_VERSION, **message}
    data: bytes = msgpack.packb(message, use_bin_type=True)
    return data


def decode(data: bytes, *, max_size: int = MAX_RECORD) -> Message:
    """Decodes one message; raises :class:`ProtocolError` on anything malformed."""
    if len(data) > max_size:
        raise MessageTooLarge()
    try:
        message = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except (ValueError, msgpack.UnpackException, TypeError) as exc:
        raise ProtocolError("A message could not be decoded.") from exc
    if not isinstance(message, dict):
        raise ProtocolError("A message must be a map.")
    version = message.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProtocolError("A message has no protocol version.")
    if version != PROTOCOL_VERSION:
        raise UnsupportedVersion()
    if not isinstance(message.get("t"), str):
        raise ProtocolError("A message has no type.")
    return message


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    max_len: int | None = None
    optional: bool = False


@dataclass(frozen=True)
class Schema:
    """The fields of one message type. Unknown extra fields are ignored (forward
    compatibility); missing or mistyped ones are refused."""

    type: str
    fields: dict[str, Field] = field(default_factory=dict)

    def check(self, message: Message) -> Message:
        for name, spec in self.fields.items():
            if name not in message or message[name] is None:
                if spec.optional:
                    continue
                raise ProtocolError(f"The message {self.type!r} lacks the field {name!r}.")
            value = message[name]
            kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
            if isinstance(value, bool) and bool not in kinds:
                raise ProtocolError(f"The field {name!r} of {self.type!r} has the wrong type.")
            if not isinstance(value, kinds):
                raise ProtocolError(f"The field {name!r} of {self.type!r} has the wrong type.")
            if (
                spec.max_len is not None
                and isinstance(value, str | bytes | list | dict)
                and len(value) > spec.max_len
            ):
                raise MessageTooLarge(f"The field {name!r} of {self.type!r} is too long.")
        return message


class SchemaRegistry:
    def __init__(self, *schemas: Schema) -> None:
        self._by_type = {s.type: s for s in schemas}

    def __contains__(self, message_type: str) -> bool:
        return message_type in self._by_type

    def check(self, message: Message) -> Message:
        schema = self._by_type.get(message["t"])
        if schema is None:
            raise ProtocolError(f"Unknown message type {message['t'][:40]!r}.")
        return schema.check(message)
