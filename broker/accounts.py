"""Technician accounts: passwords (scrypt) and their policy, lockout, TOTP, the
networks a technician may sign in from, session tokens."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp

from broker import networks
from broker.config import BrokerConfig
from broker.password_policy import PasswordPolicy, load_policy, save_policy
from broker.permissions import DEFAULT_PERMISSIONS, check_permissions
from broker.records import AuthToken, Group, Storage, Technician
from common.crypto.passwords import dummy_verify, hash_password, verify_password
from common.errors import AuthenticationError
from common.password_strength import floor_problem


class AccountLocked(AuthenticationError):
    code = "locked"

    def __init__(self, seconds_left: float) -> None:
        minutes = max(1, math.ceil(seconds_left / 60))
        super().__init__(
            "Your account is locked after too many failed sign-ins. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        self.retry_after = seconds_left


class TotpRequired(AuthenticationError):
    code = "totp_required"
    default_message = "Enter the 6-digit code from your authenticator app."


class TotpWrong(AuthenticationError):
    code = "totp_wrong"
    default_message = "That authenticator code is wrong or was already used."


class PasswordChangeRequired(AuthenticationError):
    code = "password_change_required"
    default_message = "You must choose a new password before you can sign in."


class NetworkNotAllowed(AuthenticationError):
    """The right account, from an address outside its allowed networks (checked before
    the password, so from outside nobody can guess it or lock the account)."""

    code = "network_not_allowed"

    def __init__(self, peer: str | None) -> None:
        super().__init__(
            f"Your account may not sign in from this network ({peer or 'unknown address'}). "
            "Ask your administrator."
        )
        self.peer = peer


class TokenInvalid(AuthenticationError):
    code = "token_invalid"
    default_message = "Your sign-in has expired. Sign in again."


def password_problem(password: str) -> str | None:
    """The floor every password must clear (GoToAssist's rule), or None if it does. The
    organisation's policy asks for more (:meth:`Accounts.password_problem`)."""
    return floor_problem(password)


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: float
    technician: Technician


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(
        self, storage: Storage, config: BrokerConfig, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.storage = storage
        self.config = config
        self.clock = clock
        # Sign-ins to one account are checked one at a time, so parallel guesses are
        # counted one by one and the fifth failure locks out every later attempt.
        self._account_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _account_lock(self, email: str) -> threading.Lock:
        with self._locks_guard:
            return self._account_locks.setdefault(email, threading.Lock())

    # ---- administration ------------------------------------------------------------

    def add_group(self, name: str, permissions: list[str] | None = None) -> Group:
        """Creates a group, or sets an existing one's permissions (its settings stay)."""
        existing = self.storage.get_group(name)
        group = Group(name, check_permissions(list(permissions or DEFAULT_PERMISSIONS)))
        if existing is not None:
            group.settings = existing.settings
        self.storage.put_group(group)
        return group

    def add_technician(
        self, email: str, name: str, password: str, group: str, *, must_change: bool = False
    ) -> Technician:
        email = email.strip().lower()
        problem = self.password_problem(password, email, name)
        if problem:
            raise ValueError(problem)
        if self.storage.get_group(group) is None:
            raise ValueError(f"there is no group named {group!r}")
        tech = Technician(
            email=email,
            name=name,
            group_name=group,
            password_hash=hash_password(password),
            created_at=self.clock(),
            must_change_password=must_change,
        )
        self.storage.add_technician(tech)
        self.storage.update_technician(email, password_changed_at=tech.created_at)
        tech.password_changed_at = tech.created_at
        return tech

    def set_password(self, email: str, password: str, *, must_change: bool = False) -> None:
        """Sets a password that clears the policy (ValueError with the reason if not),
        and signs the technician out everywhere."""
        tech = self._require(email)
        problem = self.password_problem(password, tech.email, tech.name)
        if problem:
            raise ValueError(problem)
        self.storage.update_technician(
            tech.email,
            password_hash=hash_password(password),
            password_changed_at=self.clock(),
            must_change_password=int(must_change),
            failed_logins=0,
            locked_until=0.0,
        )
        self.storage.delete_tokens(tech.email)

    # ---- password policy and where technicians sign in from -----------------------

    @property
    def password_policy(self) -> PasswordPolicy:
        return load_policy(self.storage)

    def set_password_policy(
        self, *, min_score: int | None = None, max_age_days: int | None = None
    ) -> PasswordPolicy:
        """Changes the given settings. Passwords already set stay until they expire or
        are changed; a shorter maximum age applies at the next sign-in."""
        old = self.password_policy
        policy = PasswordPolicy(
            min_score=old.min_score if min_score is None else min_score,
            max_age_days=old.max_age_days if max_age_days is None else max_age_days,
        )
        save_policy(self.storage, policy)
        return policy

    def password_problem(self, password: str, *personal: str) -> str | None:
        """Why the policy refuses ``password`` (``personal``: the technician's e-mail
        address and name), for a person; None when it is allowed."""
        return self.password_policy.problem(password, *personal)

    def force_password_change(self, email: str) -> None:
        """The technician must choose a new password at their next sign-in."""
        tech = self._require(email)
        self.storage.update_technician(tech.email, must_change_password=1)

    def set_allowed_networks(self, email: str, allowed: list[str]) -> list[str]:
        """The networks (CIDR) the technician may sign in from; empty: anywhere their
        group allows. Returns them in normal form."""
        tech = self._require(email)
        parsed = networks.parse_networks(allowed)
        self.storage.update_technician(tech.email, allowed_networks=parsed)
        return parsed

    def set_group_networks(self, name: str, allowed: list[str]) -> list[str]:
        """The networks (CIDR) the group's technicians may sign in from; empty: any."""
        group = self.storage.get_group(name)
        if group is None:
            raise ValueError(f"there is no group named {name!r}")
        parsed = networks.parse_networks(allowed)
        if parsed:
            group.settings[networks.GROUP_SETTING] = parsed
        else:
            group.settings.pop(networks.GROUP_SETTING, None)
        self.storage.put_group(group)
        return parsed

    def enroll_totp(self, email: str) -> str:
        """Turns on two-step sign-in; returns the provisioning URI for the app."""
        self._require(email)
        secret = pyotp.random_base32()
        self.storage.update_technician(email, totp_secret=secret, totp_last_step=0)
        return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Lifeline")

    def set_disabled(self, email: str, disabled: bool) -> None:
        self._require(email)
        self.storage.update_technician(email, disabled=int(disabled))
        if disabled:
            self.storage.delete_tokens(email)

    def _require(self, email: str) -> Technician:
        tech = self.storage.get_technician(email)
        if tech is None:
            raise ValueError(f"there is no technician {email!r}")
        return tech

    # ---- sign-in -------------------------------------------------------------------

    def login(
        self, email: str, password: str, totp: str | None = None, *, peer: str | None = None
    ) -> LoginResult:
        """A token for a technician signing in from address ``peer``. A forced change or
        an expired password raise :class:`PasswordChangeRequired` once the password is
        right, before the TOTP code is checked, so the change that follows can use it."""
        tech = self.verify_credentials(email, password, totp, peer=peer, signing_in=True)
        return self._issue_token(tech)

    def _change_required(self, tech: Technician) -> PasswordChangeRequired | None:
        if tech.must_change_password:
            return PasswordChangeRequired()
        policy = self.password_policy
        if policy.expired(tech, self.clock()):
            networks.access_log.info("password of %s expired: change required", tech.email)
            return PasswordChangeRequired(
                f"Your password is more than {policy.max_age_days} days old. "
                "Choose a new one to sign in."
            )
        return None

    def verify_credentials(
        self,
        email: str,
        password: str,
        totp: str | None,
        *,
        peer: str | None = None,
        signing_in: bool = False,
    ) -> Technician:
        """Checks the address ``peer`` (None: unknown) against the allowed networks, then
        lockout, password and TOTP. Five wrong passwords in a row lock the account for
        five minutes; a wrong TOTP code counts as a failure too. ``signing_in``: a
        password that must be changed is refused after the password check."""
        email = email.strip().lower()
        if self.storage.get_technician(email) is None:
            dummy_verify(password)
            raise AuthenticationError()
        with self._account_lock(email):
            return self._verify_locked(email, password, totp, peer, signing_in)

    def _verify_locked(
        self, email: str, password: str, totp: str | None, peer: str | None, signing_in: bool
    ) -> Technician:
        now = self.clock()
        tech = self.storage.get_technician(email)
        if tech is None or tech.disabled:
            dummy_verify(password)
            raise AuthenticationError()
        group = self.storage.get_group(tech.group_name)
        refused_by = networks.refused_by(tech, group, peer)
        if refused_by is not None:
            networks.log_refused(tech, group, peer, refused_by)
            raise NetworkNotAllowed(peer)
        if tech.locked_until > now:
            raise AccountLocked(tech.locked_until - now)
        if not verify_password(password, tech.password_hash):
            self._failed(tech, now)
            raise AuthenticationError()
        # This tells no more than totp_required would: the password is right.
        change = self._change_required(tech) if signing_in else None
        if change is not None:
            raise change
        if tech.totp_secret:
            if not totp:
                raise TotpRequired()
            step = self._totp_step(tech.totp_secret, totp, now)
            if step is None or step <= tech.totp_last_step:
                self._failed(tech, now)
                raise TotpWrong()
            self.storage.update_technician(tech.email, totp_last_step=step)
        if tech.failed_logins:
            self.storage.update_technician(tech.email, failed_logins=0, locked_until=0.0)
        return tech

    @staticmethod
    def _totp_step(secret: str, code: str, now: float) -> int | None:
        totp = pyotp.TOTP(secret)
        code = code.strip().replace(" ", "")
        for offset in (0, -1, 1):
            at = now + offset * totp.interval
            if secrets.compare_digest(totp.at(at), code):
                return int(at // totp.interval)
        return None

    def _failed(self, tech: Technician, now: float) -> None:
        failures = tech.failed_logins + 1
        if failures >= self.config.lockout_failures:
            self.storage.update_technician(
                tech.email, failed_logins=0, locked_until=now + self.config.lockout_seconds
            )
        else:
            self.storage.update_technician(tech.email, failed_logins=failures)

    def change_password(
        self,
        email: str,
        old_password: str,
        new_password: str,
        totp: str | None = None,
        *,
        peer: str | None = None,
    ) -> LoginResult:
        # A password the policy refuses is refused before the sign-in is checked, so it
        # costs no authenticator code (set_password checks again, with the name).
        problem = self.password_problem(new_password, email.strip().lower())
        if problem:
            raise ValueError(problem)
        tech = self.verify_credentials(email, old_password, totp, peer=peer)
        if new_password == old_password:
            raise ValueError("The new password must differ from the old one.")
        self.set_password(tech.email, new_password)
        return self._issue_token(self._require(tech.email))

    def _issue_token(self, tech: Technician) -> LoginResult:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + self.config.token_lifetime
        self.storage.add_token(AuthToken(_token_hash(token), tech.email, now, expires, now))
        return LoginResult(token, expires, tech)

    def touch(self, token: str) -> None:
        """Records activity on a sign-in (resets the inactivity logoff)."""
        self.storage.touch_token(_token_hash(token), self.clock())

    def authenticate_token(self, token: str, *, activity: bool = True) -> Technician:
        """The technician a token belongs to. ``activity``: the technician did
        something, so the inactivity timer starts again."""
        now = self.clock()
        row = self.storage.get_token(_token_hash(token))
        if row is None or row.expires_at <= now:
            raise TokenInvalid()
        if now - row.last_used > self.config.inactivity_logoff:
            raise TokenInvalid(
                "You were signed out after a period without activity. Sign in again."
            )
        tech = self.storage.get_technician(row.email)
        if tech is None or tech.disabled:
            raise TokenInvalid()
        # Activity is written at most every few seconds: a console in a session sends
        # many messages, and each write is a commit of its own (fsync).
        if activity and now - row.last_used >= min(30.0, self.config.inactivity_logoff / 20):
            self.storage.touch_token(row.token_hash, now)
        return tech
