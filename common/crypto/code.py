"""Session codes: a nameplate the broker routes by, plus a secret it never sees.

A code reads ``482-193-076``: the leading digits are the nameplate (three or more, the
broker makes it longer when many sessions are live) and the last six are the secret.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from common.errors import WrongCode

SECRET_DIGITS = 6
MIN_NAMEPLATE_DIGITS = 3
MAX_NAMEPLATE_DIGITS = 9


@dataclass(frozen=True)
class SessionCode:
    nameplate: str
    secret: str

    @classmethod
    def with_new_secret(cls, nameplate: str) -> SessionCode:
        secret = "".join(secrets.choice("0123456789") for _ in range(SECRET_DIGITS))
        return cls(nameplate, secret)

    @classmethod
    def parse(cls, text: str) -> SessionCode:
        """Accepts what a person types: digits, with any spaces, dashes or dots."""
        digits = "".join(ch for ch in text if not ch.isspace() and ch not in "-.")
        if not digits.isascii() or not digits.isdigit():
            raise WrongCode("A code has only digits. Check the code your technician gave you.")
        n = len(digits) - SECRET_DIGITS
        if not MIN_NAMEPLATE_DIGITS <= n <= MAX_NAMEPLATE_DIGITS:
            raise WrongCode(
                "That code has the wrong number of digits. Check the code your technician gave you."
            )
        return cls(digits[:n], digits[n:])

    @property
    def digits(self) -> str:
        return self.nameplate + self.secret

    def __str__(self) -> str:
        d = self.digits
        return "-".join(d[i : i + 3] for i in range(0, len(d), 3))

    def pake_password(self, session_id: str) -> bytes:
        """The SPAKE2 password: the secret bound to this session and nameplate."""
        return f"lifeline-code-v1:{session_id}:{self.nameplate}:{self.secret}".encode()


def is_nameplate(text: str) -> bool:
    return (
        text.isascii()
        and text.isdigit()
        and MIN_NAMEPLATE_DIGITS <= len(text) <= MAX_NAMEPLATE_DIGITS
    )
