"""The asyncio broker client shared by applet and console (never Qt), and the
event loop and disk threads it runs with.

:class:`BrokerClient` signs in and opens links; :class:`PeerSession` runs an end-to-end
session over a link, reconnecting and resuming when the link drops.
"""

from common.transport.client import BrokerAddress, BrokerClient, ControlLink, Login
from common.transport.session import Ended, PeerSession, PeerState

__all__ = [
    "BrokerAddress",
    "BrokerClient",
    "ControlLink",
    "Ended",
    "Login",
    "PeerSession",
    "PeerState",
]
