"""Key derivation: one function, one purpose string per key."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from hashlib import sha256
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from common.crypto.aead import RecordCipher

Role = Literal["console", "applet"]
PURPOSE_PREFIX = b"lifeline/v1/"


def derive_key(
    secret: bytes, purpose: str, *, salt: bytes | None = None, length: int = 32
) -> bytes:
    """HKDF-SHA256 of ``secret`` bound to ``purpose`` (and optionally a transcript salt)."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=length,
        salt=salt,
        info=PURPOSE_PREFIX + purpose.encode(),
    )
    return hkdf.derive(secret)


def other_role(role: Role) -> Role:
    return "applet" if role == "console" else "console"


@dataclass(frozen=True)
class SessionKeys:
    """Everything one peer derives from the handshake's shared secret.

    ``send``/``recv`` are per-direction AES-256-GCM ciphers; ``confirmation`` is what
    this side sends to prove it holds the key, and :meth:`check_confirmation` checks the
    peer's. ``sas`` is the short authentication string both people can read aloud.
    """

    role: Role
    send: RecordCipher
    recv: RecordCipher
    confirmation: bytes
    _peer_confirmation: bytes
    sas: str
    resume_seed: bytes

    @classmethod
    def derive(cls, shared_key: bytes, transcript: bytes, role: Role) -> SessionKeys:
        peer = other_role(role)
        th = sha256(transcript).digest()

        def key(purpose: str) -> bytes:
            return derive_key(shared_key, purpose, salt=th)

        sas_number = int.from_bytes(key("sas")[:8], "big") % 1_000_000
        return cls(
            role=role,
            send=RecordCipher(key(f"record/{role}")),
            recv=RecordCipher(key(f"record/{peer}")),
            confirmation=hmac.new(key(f"confirm/{role}"), th, sha256).digest(),
            _peer_confirmation=hmac.new(key(f"confirm/{peer}"), th, sha256).digest(),
            sas=f"{sas_number:06d}",
            resume_seed=key(f"resume/{role}"),
        )

    def check_confirmation(self, received: bytes) -> bool:
        return hmac.compare_digest(received, self._peer_confirmation)

    def resume_public_key(self) -> bytes:
        """Ed25519 public key the broker stores to check this side's resume proofs."""
        from common.crypto.signing import SigningKey

        return SigningKey.from_seed(self.resume_seed).public_bytes()

    def resume_proof(self, session_id: str, challenge: bytes) -> bytes:
        """Signature over a fresh broker challenge: proves we hold the session key."""
        from common.crypto.signing import SigningKey, resume_message

        signer = SigningKey.from_seed(self.resume_seed)
        return signer.sign_raw(resume_message(session_id, self.role, challenge))


def format_sas(sas: str) -> str:
    """``'482193'`` → ``'482 193'`` for reading aloud."""
    return f"{sas[:3]} {sas[3:]}"


def recording_cipher(key: bytes, salt: bytes) -> RecordCipher:
    """The cipher of one recording file: its own key from the long-term recording key
    (group policy or key file) and the file's random salt, so no two files share a
    (key, nonce) pair even though each numbers its records from 0."""
    if len(key) != 32:
        raise ValueError("a recording key is 32 bytes")
    return RecordCipher(derive_key(key, "rcrec", salt=salt))


def key_id(key: bytes) -> str:
    """A short public name for a key (which key a file needs), never the key itself."""
    return derive_key(key, "rcrec-key-id", length=8).hex()
