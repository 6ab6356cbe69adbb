"""All cryptography in Lifeline: the only package that imports ``cryptography`` or
``spake2``. Every symmetric key comes from :func:`derive_key` with a purpose string, and
no parameter here is configurable.
"""

from common.crypto.aead import RecordCipher
from common.crypto.code import SessionCode
from common.crypto.handshake import CommittedExchange, PakeExchange, SharedSecret
from common.crypto.keys import SessionKeys, derive_key, key_id, recording_cipher
from common.crypto.sealing import SealError, data_key_id, seal, unseal
from common.crypto.signing import (
    SigningKey,
    verify_resume_proof,
    verify_signed,
)

__all__ = [
    "CommittedExchange",
    "PakeExchange",
    "RecordCipher",
    "SealError",
    "SessionCode",
    "SessionKeys",
    "SharedSecret",
    "SigningKey",
    "data_key_id",
    "derive_key",
    "key_id",
    "recording_cipher",
    "seal",
    "unseal",
    "verify_resume_proof",
    "verify_signed",
]
