"""Every error Lifeline raises on purpose, in one tree.

The ``str()`` of each error is written for the person in front of the screen;
``code`` is a stable machine-readable name that travels on the wire.

LifelineError
├── ProtocolError              the peer or the broker sent something we do not accept
│   ├── InvalidState           a legal message at an illegal moment
│   ├── MessageTooLarge        a length over its bound (checked before allocating)
│   ├── UnsupportedVersion     a protocol version we do not speak
│   └── CodecError             a screen update that cannot be decoded
├── CryptoError
│   ├── WrongCode              key confirmation failed: wrong code, or someone in the middle
│   ├── TamperedRecord         a record failed authentication
│   └── BadSignature           a broker signature (policy, resume proof) does not verify
├── BrokerError                the broker refused a request (carries the broker's code)
│   ├── AuthenticationError    wrong password, locked account, TOTP needed or wrong
│   ├── CodeNotFound           that code is wrong or has expired
│   └── RateLimited            too many attempts from this address
├── RecordingError             an RCREC file that cannot be read
│   ├── NotARecording          not an RCREC file at all
│   └── RecordingKeyError      encrypted: no key, or not the key it was sealed with
├── FileError                  a file could not be named, read or written safely
│   ├── FileNameError          a name from the other side that is unsafe or unportable
│   └── TransferError          a transfer failed (hash mismatch, denied, disk full, …)
├── SessionEnded               the session is over (ended, expired, peer gone for good)
└── ConnectionFailed           the broker could not be reached (OSError, TLS, timeouts)
    └── CertificateMismatch    the broker's certificate is not the one we pinned
"""

from __future__ import annotations


class LifelineError(Exception):
    """Base of every error Lifeline raises on purpose."""

    code = "error"
    default_message = "Something went wrong."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self)


class ProtocolError(LifelineError):
    code = "protocol_error"
    default_message = "The other side sent something Lifeline does not understand."


class InvalidState(ProtocolError):
    code = "invalid_state"
    default_message = "A message arrived at a moment it is not allowed."


class MessageTooLarge(ProtocolError):
    code = "too_large"
    default_message = "A message was larger than Lifeline allows."


class UnsupportedVersion(ProtocolError):
    code = "unsupported_version"
    default_message = (
        "The other side runs an incompatible version of Lifeline. Update both programs."
    )


class CodecError(ProtocolError):
    """A screen update that cannot be decoded: damaged, out of order, or hostile.

    The decoder's picture is unchanged and it now waits for a keyframe: ask the sender for
    one, or close the session if the peer cannot be trusted to send sane data.
    """

    code = "codec_error"
    default_message = "The screen picture from the other computer could not be shown."


class CryptoError(LifelineError):
    code = "crypto_error"
    default_message = "The secure connection could not be established."


class WrongCode(CryptoError):
    code = "bad_code"
    default_message = "That code is wrong or has expired."

    @classmethod
    def for_role(cls, role: str, *, queue_flow: bool = False) -> WrongCode:
        """The same failure, worded for the person who reads it."""
        if queue_flow:
            return cls(
                "The secure connection could not be set up: the two sides did not agree "
                "on a key. Someone may be interfering with the connection. Start again."
            )
        if role == "console":
            return cls(
                "That code is wrong or has expired: the customer's code did not match. "
                "Create a new session and read them the new code."
            )
        return cls("That code is wrong or has expired. Ask your technician for a new one.")


class TamperedRecord(CryptoError):
    code = "tampered"
    default_message = (
        "Data on the secure connection was altered in transit. The session was closed."
    )


class BadSignature(CryptoError):
    code = "bad_signature"
    default_message = "A signature from the broker did not verify."


class BrokerError(LifelineError):
    """The broker refused a request; ``code`` is the broker's own error code."""

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class AuthenticationError(BrokerError):
    code = "auth_failed"
    default_message = "The email or password is wrong."


class CodeNotFound(BrokerError):
    code = "bad_code"
    default_message = "That code is wrong or has expired. Ask your technician for a new one."


class RateLimited(BrokerError):
    code = "rate_limited"
    default_message = "Too many attempts from this computer. Wait a minute and try again."


class SessionEnded(LifelineError):
    code = "session_ended"
    default_message = "The session has ended."

    def __init__(self, message: str | None = None, *, reason: str = "ended") -> None:
        super().__init__(message)
        self.reason = reason


class ConnectionFailed(LifelineError):
    code = "connection_failed"
    default_message = "Lifeline could not reach the server. Check your internet connection."


class CertificateMismatch(ConnectionFailed):
    code = "certificate_mismatch"
    default_message = (
        "The server's security certificate is not the one this program trusts. "
        "Someone may be intercepting the connection; do not continue."
    )


class RecordingError(LifelineError):
    code = "recording_error"
    default_message = "The recording could not be read."


class NotARecording(RecordingError):
    code = "not_a_recording"
    default_message = "This file is not a Lifeline recording (RCREC)."


class RecordingKeyError(RecordingError):
    code = "recording_key"
    default_message = "This recording is encrypted: its key is needed to read it."


class FileError(LifelineError):
    code = "file_error"
    default_message = "The file could not be read or written."


class FileNameError(FileError):
    """A name from the other side that could escape the chosen folder, or that this or
    another system could not store. Nothing was written."""

    code = "file_name"
    default_message = "That file name is not allowed."


class TransferError(FileError):
    """A transfer failed; ``reason`` says why in one stable word (``hash_mismatch``,
    ``permission_denied``, ``disk_full``, ``path_too_long``, ``in_use``, ``not_found``,
    ``io_error``, ``cancelled``, ``refused``). The partial file is already removed."""

    code = "transfer_failed"
    default_message = "The file transfer failed."

    def __init__(self, message: str | None = None, *, reason: str = "io_error") -> None:
        super().__init__(message)
        self.reason = reason
