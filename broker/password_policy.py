"""The organisation's password policy: how hard to guess a password must be, and how
old it may get.

One policy per broker, kept as JSON in the ``meta`` table (``password_policy``). Under
it is a floor no setting lowers: GoToAssist's rule, at least 8 characters with letters
and digits (``common/password_strength.py``). The policy is checked wherever a password
is set: a new technician, an administrator's reset, a technician's change. An expired
password is not refused at sign-in: the broker asks for a new one
(``PasswordChangeRequired``), as for a forced change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from broker.records import Storage, Technician
from common.password_strength import (
    LABELS,
    MAX_SCORE,
    MIN_LENGTH,
    Strength,
    estimate,
    personal_words,
)

POLICY_KEY = "password_policy"
#: zxcvbn's 1: refuses the passwords at the top of every guessing list ("password1",
#: "Passw0rd") that clear the floor. Online guessing is slowed by the lockout; an
#: organisation that fears a stolen database raises it (3 resists offline guessing).
DEFAULT_MIN_SCORE = 1
DAY = 86_400.0


@dataclass(frozen=True)
class PasswordPolicy:
    #: zxcvbn's score, 0 (the floor only) to 4.
    min_score: int = DEFAULT_MIN_SCORE
    #: Days a password may be used before it must be changed; 0: no limit.
    max_age_days: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.min_score <= MAX_SCORE:
            raise ValueError(f"the minimum strength is 0 to {MAX_SCORE}, not {self.min_score}")
        if not 0 <= self.max_age_days <= 36_500:
            raise ValueError(f"the maximum age is 0 to 36500 days, not {self.max_age_days}")

    def strength(self, password: str, *personal: str) -> Strength:
        """The estimate the policy judges, ``personal`` being the technician's e-mail
        address and name (a password made of them is easy to guess)."""
        return estimate(password, personal_words(*personal))

    def problem(self, password: str, *personal: str) -> str | None:
        """Why ``password`` is refused, in words for the person who chose it; ``None``
        when it is allowed."""
        return self.strength(password, *personal).problem(self.min_score)

    def expired(self, tech: Technician, now: float) -> bool:
        """The technician's password is older than the maximum age. A password set
        before its date was recorded counts from the account's creation."""
        if not self.max_age_days:
            return False
        changed = tech.password_changed_at or tech.created_at
        return now - changed > self.max_age_days * DAY

    def describe(self) -> list[str]:
        """The policy in lines for an administrator."""
        score = self.min_score
        return [
            f"minimum strength: {score} of {MAX_SCORE} ({LABELS[score]} or better"
            f"{', the floor only' if score == 0 else ''})",
            "maximum age: " + (f"{self.max_age_days} days" if self.max_age_days else "none (0)"),
            f"floor: at least {MIN_LENGTH} characters, with letters and digits",
        ]


def load_policy(storage: Storage) -> PasswordPolicy:
    """The stored policy, or the default one."""
    text = storage.get_meta(POLICY_KEY)
    if not text:
        return PasswordPolicy()
    data = json.loads(text)
    return PasswordPolicy(
        min_score=int(data.get("min_score", DEFAULT_MIN_SCORE)),
        max_age_days=int(data.get("max_age_days", 0)),
    )


def save_policy(storage: Storage, policy: PasswordPolicy) -> None:
    storage.set_meta(POLICY_KEY, json.dumps(asdict(policy), sort_keys=True))
