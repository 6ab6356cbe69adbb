"""AES-256-GCM for session records, with counter nonces.

A nonce is 4 bytes of record kind and 8 bytes of counter. Each direction has its own
key, and each (kind, counter) pair is used once per key: the caller (the peer protocol)
owns the counters and never reuses one.
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.errors import TamperedRecord

TAG_SIZE = 16
_NONCE = struct.Struct(">IQ")


class RecordCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("AES-256 needs a 32-byte key")
        self._aead = AESGCM(key)

    def seal(self, kind: int, counter: int, header: bytes, plaintext: bytes) -> bytes:
        return self._aead.encrypt(_NONCE.pack(kind, counter), plaintext, header)

    def open(self, kind: int, counter: int, header: bytes, ciphertext: bytes) -> bytes:
        try:
            return self._aead.decrypt(_NONCE.pack(kind, counter), ciphertext, header)
        except InvalidTag:
            raise TamperedRecord() from None
