"""Small secrets at rest: one value sealed with AES-256-GCM under a long-term data key.

Each value gets its own random 96-bit nonce (a data key seals far fewer than 2³² values
before it is rotated), and ``context`` is authenticated with it, so a sealed value moved
to another row or column no longer opens. The key itself is used only through
:func:`derive_key` with the purpose ``data-at-rest``.
"""

from __future__ import annotations

import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.crypto.keys import derive_key
from common.errors import LifelineError

_NONCE = 12
_VERSION = b"\x01"


class SealError(LifelineError):
    """A sealed value did not open: another key, another place, or damaged."""

    code = "sealed_value"
    default_message = "A stored value could not be decrypted with this data key."


def data_key_id(key: bytes) -> str:
    """A short public name for a data key (stored beside what it sealed)."""
    return derive_key(_check(key), "data-key-id", length=6).hex()


def seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """``plaintext`` sealed under ``key``, bound to ``context`` (e.g. table and kind)."""
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + _cipher(_check(key)).encrypt(nonce, plaintext, _VERSION + context)


def unseal(key: bytes, sealed: bytes, context: bytes) -> bytes:
    """The plaintext of :func:`seal`; raises :class:`SealError` if it does not open."""
    if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
        raise SealError("A stored value is damaged.")
    nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    try:
        return _cipher(_check(key)).decrypt(nonce, body, _VERSION + context)
    except InvalidTag:
        raise SealError() from None


@functools.lru_cache(maxsize=8)
def _cipher(key: bytes) -> AESGCM:
    """The AEAD of one data key (derived once: a broker seals many small values)."""
    return AESGCM(derive_key(key, "data-at-rest"))


def _check(key: bytes) -> bytes:
    if len(key) != 32:
        raise ValueError("a data key is 32 bytes")
    return key
