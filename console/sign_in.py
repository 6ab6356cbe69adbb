"""Signing a technician in: the form's fields in, a broker client and a sign-in out, or a
:class:`SignInFailed` that says what went wrong in words a technician can act on, and
which field the login window should bring forward (the authenticator code, a new
password)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from common.errors import (
    AuthenticationError,
    BrokerError,
    CertificateMismatch,
    ConnectionFailed,
    LifelineError,
    RateLimited,
)
from common.transport import BrokerAddress, BrokerClient, Login


class Problem(enum.StrEnum):
    BAD_ADDRESS = "bad_address"
    UNREACHABLE = "unreachable"
    CERTIFICATE = "certificate"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a problem's name, not a password
    LOCKED = "locked"
    TOTP_REQUIRED = "totp_required"
    TOTP_WRONG = "totp_wrong"
    PASSWORD_CHANGE = "password_change"  # noqa: S105
    WEAK_PASSWORD = "weak_password"  # noqa: S105
    NETWORK_NOT_ALLOWED = "network_not_allowed"
    RATE_LIMITED = "rate_limited"
    OTHER = "other"


class SignInFailed(Exception):
    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True)
class SignInForm:
    broker_url: str
    email: str
    password: str
    totp: str = ""
    #: Filled in when the broker asked for a password change.
    new_password: str = ""
    ca_fingerprint: str = ""


def broker_address(url: str, ca_fingerprint: str = "") -> BrokerAddress:
    """The address a technician typed, made whole (``broker.example.com:8443`` becomes
    ``https://broker.example.com:8443``); :class:`SignInFailed` when it cannot be one."""
    url = url.strip()
    if url and "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SignInFailed(
            Problem.BAD_ADDRESS,
            "Enter the Lifeline server's address, for example https://support.example.com:8443.",
        )
    try:
        return BrokerAddress(url.rstrip("/"), ca_fingerprint=ca_fingerprint.strip() or None)
    except ValueError as exc:
        raise SignInFailed(
            Problem.BAD_ADDRESS, "The certificate fingerprint is not a SHA-256 fingerprint."
        ) from exc


_AUTH_PROBLEMS = {
    "auth_failed": Problem.WRONG_PASSWORD,
    "locked": Problem.LOCKED,
    "totp_required": Problem.TOTP_REQUIRED,
    "totp_wrong": Problem.TOTP_WRONG,
    "password_change_required": Problem.PASSWORD_CHANGE,
    "weak_password": Problem.WEAK_PASSWORD,
    "network_not_allowed": Problem.NETWORK_NOT_ALLOWED,
}


def explain(error: LifelineError, url: str) -> SignInFailed:
    """What the login window shows for ``error``."""
    if isinstance(error, CertificateMismatch):
        return SignInFailed(Problem.CERTIFICATE, error.message)
    if isinstance(error, ConnectionFailed):
        return SignInFailed(
            Problem.UNREACHABLE,
            f"Lifeline could not reach the server at {url}. "
            "Check the address and your network connection.",
        )
    if isinstance(error, RateLimited):
        return SignInFailed(Problem.RATE_LIMITED, error.message)
    if isinstance(error, AuthenticationError | BrokerError):
        problem = _AUTH_PROBLEMS.get(error.code or "", Problem.OTHER)
        if problem == Problem.WRONG_PASSWORD:
            return SignInFailed(problem, "The e-mail address or the password is wrong.")
        # The broker's own words are written for people (the lockout names the time left).
        return SignInFailed(problem, error.message)
    return SignInFailed(Problem.OTHER, error.message)


async def sign_in(form: SignInForm) -> tuple[BrokerClient, Login]:
    """Signs in (changing the password first when ``form.new_password`` is set). The
    caller owns the returned client and closes it when the technician signs out."""
    address = broker_address(form.broker_url, form.ca_fingerprint)
    if not form.email.strip() or not form.password:
        raise SignInFailed(Problem.WRONG_PASSWORD, "Enter your e-mail address and password.")
    client = BrokerClient(address)
    totp = form.totp.strip() or None
    try:
        if form.new_password:
            login = await client.change_password(
                form.email.strip(), form.password, form.new_password, totp
            )
        else:
            login = await client.login(form.email.strip(), form.password, totp)
    except LifelineError as exc:
        await client.close()
        raise explain(exc, address.url) from exc
    except BaseException:
        await client.close()
        raise
    return client, login
