"""Sans-I/O protocols: bytes in with ``receive_data``, bytes out with ``data_to_send``,
events out with ``events_received``. Nothing here touches a socket or a clock.
"""

from common.protocol.channels import Channel
from common.protocol.peer import (
    HandshakeDone,
    MessageReceived,
    PeerConnection,
    PeerEvent,
    State,
    Writable,
)
from common.protocol.version import PROTOCOL_VERSION

__all__ = [
    "PROTOCOL_VERSION",
    "Channel",
    "HandshakeDone",
    "MessageReceived",
    "PeerConnection",
    "PeerEvent",
    "State",
    "Writable",
]
