"""Logical channels multiplexed on one end-to-end connection, in priority order."""

from __future__ import annotations

import enum

from common.errors import MessageTooLarge, ProtocolError


class Channel(enum.IntEnum):
    """Lower value = higher priority. Control (and input) always goes first."""

    CONTROL = 0
    CHAT = 1
    VIDEO = 2
    FILE = 3

    @property
    def flow_controlled(self) -> bool:
        """Bulk channels wait for the window; control and chat never do."""
        return self >= Channel.VIDEO

    @property
    def max_message(self) -> int:
        return _MAX_MESSAGE[self]


_MAX_MESSAGE = {
    Channel.CONTROL: 256 * 1024,
    Channel.CHAT: 256 * 1024,
    Channel.VIDEO: 16 * 1024 * 1024,
    Channel.FILE: 4 * 1024 * 1024,
}

FLAG_FINAL = 0x01


def parse_channel(value: int) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise ProtocolError(f"Unknown channel {value}.") from None


class Reassembler:
    """Joins fragments per channel, bounding each message before it grows."""

    def __init__(self) -> None:
        self._parts: dict[Channel, list[bytes]] = {}
        self._sizes: dict[Channel, int] = {}

    def add(self, channel: Channel, flags: int, chunk: bytes) -> bytes | None:
        size = self._sizes.get(channel, 0) + len(chunk)
        if size > channel.max_message:
            raise MessageTooLarge(f"A {channel.name.lower()} message is over its size limit.")
        if flags & FLAG_FINAL:
            parts = self._parts.pop(channel, [])
            self._sizes.pop(channel, None)
            if not parts:
                return chunk
            parts.append(chunk)
            return b"".join(parts)
        self._parts.setdefault(channel, []).append(chunk)
        self._sizes[channel] = size
        return None
