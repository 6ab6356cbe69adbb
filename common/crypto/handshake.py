"""The two ways peers agree on a session key through a broker that must not learn it.

* :class:`PakeExchange` — SPAKE2 on the code's secret. A broker (or anyone) in the
  middle gets one online guess at a six-digit secret; a failed key confirmation burns
  the code, so that guess is all it gets.
* :class:`CommittedExchange` — for queue sessions, where nobody typed a secret:
  ephemeral X25519 with a hash commitment (applet commits first, reveals after seeing
  the console's key), so a broker in the middle cannot grind keys to make the short
  authentication strings match. Only comparing that string protects this flow.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from hashlib import sha256

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from spake2 import SPAKE2_A, SPAKE2_B
from spake2.ed25519_basic import NotOnCurve
from spake2.spake2 import SPAKEError

from common.crypto.code import SessionCode
from common.crypto.keys import Role
from common.errors import ProtocolError, WrongCode

_ID_CONSOLE = b"lifeline-console"
_ID_APPLET = b"lifeline-applet"
MAX_HANDSHAKE_MESSAGE = 256


@dataclass(frozen=True)
class SharedSecret:
    key: bytes
    transcript: bytes


def _transcript(label: bytes, session_id: str, *parts: bytes) -> bytes:
    out = bytearray(label)
    for p in (session_id.encode(), *parts):
        out += len(p).to_bytes(2, "big") + p
    return bytes(out)


class PakeExchange:
    """SPAKE2 with the console as side A and the applet as side B."""

    def __init__(self, role: Role, session_id: str, code: SessionCode) -> None:
        self.role = role
        self.session_id = session_id
        side = SPAKE2_A if role == "console" else SPAKE2_B
        self._pake = side(code.pake_password(session_id), idA=_ID_CONSOLE, idB=_ID_APPLET)
        self.outbound: bytes = self._pake.start()

    def finish(self, inbound: bytes) -> SharedSecret:
        if len(inbound) > MAX_HANDSHAKE_MESSAGE:
            raise ProtocolError("The handshake message is too long.")
        try:
            key = self._pake.finish(inbound)
        except (SPAKEError, NotOnCurve, ValueError, IndexError) as exc:
            # A malformed point is indistinguishable, for the person, from a wrong code.
            raise WrongCode() from exc
        mine, theirs = self.outbound, inbound
        console_msg, applet_msg = (mine, theirs) if self.role == "console" else (theirs, mine)
        return SharedSecret(
            key, _transcript(b"lifeline-pake-v1", self.session_id, console_msg, applet_msg)
        )


class CommittedExchange:
    """Ephemeral X25519 with the applet's key committed before the console's is seen.

    Applet: send :attr:`commitment`, wait for the console's public key, then send
    :attr:`public_key` and call :meth:`finish`. Console: send :attr:`public_key` once
    the commitment arrived, then call :meth:`finish` with the applet's revealed key.
    """

    def __init__(self, role: Role, session_id: str) -> None:
        self.role = role
        self.session_id = session_id
        self._private = X25519PrivateKey.generate()
        self.public_key: bytes = self._private.public_key().public_bytes_raw()
        self.commitment: bytes = sha256(b"lifeline-commit-v1" + self.public_key).digest()

    def finish(self, peer_public: bytes, peer_commitment: bytes | None = None) -> SharedSecret:
        if len(peer_public) != 32:
            raise ProtocolError("The peer's key has the wrong length.")
        if self.role == "console":
            if peer_commitment is None:
                raise ProtocolError("The applet's key commitment is missing.")
            expected = sha256(b"lifeline-commit-v1" + peer_public).digest()
            if not hmac.compare_digest(expected, peer_commitment):
                raise WrongCode("The other side's key does not match what it promised.")
        try:
            key = self._private.exchange(X25519PublicKey.from_public_bytes(peer_public))
        except ValueError as exc:  # all-zero shared secret: a low-order point
            raise WrongCode() from exc
        console_pub, applet_pub = (
            (self.public_key, peer_public)
            if self.role == "console"
            else (peer_public, self.public_key)
        )
        return SharedSecret(
            key, _transcript(b"lifeline-queue-v1", self.session_id, console_pub, applet_pub)
        )
