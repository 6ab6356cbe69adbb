"""Technician password hashes: scrypt with a random salt per password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# 2**15 × 8 × 128 bytes = 32 MiB per hash, ~60–100 ms on one core.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
MAX_PASSWORD_BYTES = 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    data = password.encode()[:MAX_PASSWORD_BYTES]
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def dummy_verify(password: str) -> None:
    """Spends the same time as a real check, so unknown emails are not distinguishable."""
    _scrypt(password, b"\x00" * 16, _N, _R, _P)
