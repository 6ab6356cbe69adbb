"""Ed25519 signatures: the broker's session policies, and peers' resume proofs.

Every signed message starts with a purpose label, so a signature made for one use can
never be replayed as another.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from common.errors import BadSignature

SIGNATURE_SIZE = 64
_POLICY_LABEL = b"lifeline/v1/policy\x00"
_RESUME_LABEL = b"lifeline/v1/resume\x00"


class SigningKey:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        return cls(Ed25519PrivateKey.from_private_bytes(seed[:32]))

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return cls(key)

    def to_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_bytes(self) -> bytes:
        return self._key.public_key().public_bytes_raw()

    def sign_raw(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def sign_policy(self, payload: bytes) -> bytes:
        """Returns ``signature || payload``, checked by :func:`verify_signed`."""
        return self._key.sign(_POLICY_LABEL + payload) + payload


def _public(key: bytes) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(key)
    except ValueError:
        raise BadSignature("The broker's public key is malformed.") from None


def verify_signed(public_key: bytes, blob: bytes) -> bytes:
    """Checks a ``signature || payload`` policy blob; returns the payload."""
    if len(blob) < SIGNATURE_SIZE:
        raise BadSignature("The session policy is truncated.")
    sig, payload = blob[:SIGNATURE_SIZE], blob[SIGNATURE_SIZE:]
    try:
        _public(public_key).verify(sig, _POLICY_LABEL + payload)
    except InvalidSignature:
        raise BadSignature("The session policy is not signed by this broker.") from None
    return payload


def resume_message(session_id: str, role: str, challenge: bytes) -> bytes:
    return _RESUME_LABEL + f"{session_id}\x00{role}\x00".encode() + challenge


def verify_resume_proof(
    public_key: bytes, session_id: str, role: str, challenge: bytes, proof: bytes
) -> bool:
    try:
        _public(public_key).verify(proof, resume_message(session_id, role, challenge))
    except (InvalidSignature, BadSignature):
        return False
    return True
