"""How hard a password is to guess: the floor every password must clear, and zxcvbn's
estimate on top of it, with the reasons in words a person understands.

The broker decides (``broker/password_policy.py`` adds the organisation's minimum); the
console runs the same estimate as the person types, to show a meter. Pure: no I/O.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

#: GoToAssist's rule, the floor under any organisation's policy.
MIN_LENGTH = 8
MAX_SCORE = 4
#: zxcvbn refuses longer input (its matching is quadratic). A password's first 72
#: characters are what is estimated; more characters only make it harder to guess.
MAX_ESTIMATED = 72

#: zxcvbn's scores, 0 to 4: under 10³, 10⁶, 10⁸, 10¹⁰ guesses, and more.
LABELS = ("very weak", "weak", "fair", "strong", "very strong")

# zxcvbn keeps the user inputs of the call in a module-level dictionary, so two
# threads estimating at once would see each other's inputs.
_zxcvbn_lock = threading.Lock()


@dataclass(frozen=True)
class Strength:
    """One estimate. ``score`` is 0 (guessed at once) to 4 (very hard to guess)."""

    score: int
    #: Why the password is below the floor (``None`` when it clears it).
    floor_problem: str | None
    #: zxcvbn's warning, if any ("This is a very common password.").
    warning: str
    #: What would make it better ("Add another word or two.").
    suggestions: tuple[str, ...]
    #: The password contains the e-mail address, the name or the product's name.
    personal: bool

    @property
    def label(self) -> str:
        return LABELS[self.score]

    def problem(self, min_score: int) -> str | None:
        """Why the password is refused under ``min_score``, for a person; ``None`` if
        it is good enough."""
        if self.floor_problem:
            return self.floor_problem
        if self.score >= min_score:
            return None
        parts = ["That password is too easy to guess."]
        if self.personal:
            parts.append("It contains your name or e-mail address.")
        if self.warning:
            parts.append(self.warning)
        parts.extend(self.suggestions or ("Make it longer, for example with another word.",))
        return " ".join(parts)


def floor_problem(password: str) -> str | None:
    """The floor every password must clear (GoToAssist's rule), or None if it does."""
    if len(password) < MIN_LENGTH:
        return f"A password needs at least {MIN_LENGTH} characters."
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return "A password needs both letters and digits."
    return None


def personal_words(*texts: str) -> list[str]:
    """What a password should not be made of: an e-mail address and its parts, a
    person's name and its words, the product's name."""
    words = {"lifeline"}
    for text in texts:
        text = text.strip().lower()
        if text:
            words.add(text)
            words.update(re.split(r"[\W_]+", text))
    return sorted(w for w in words if len(w) >= 3)


def estimate(password: str, user_inputs: Iterable[str] = ()) -> Strength:
    """How hard ``password`` is to guess, for someone who also knows ``user_inputs``
    (the words of :func:`personal_words`)."""
    floor = floor_problem(password)
    if not password:
        return Strength(0, floor, "", (), personal=False)
    with _zxcvbn_lock:
        result: dict[str, Any] = zxcvbn(password[:MAX_ESTIMATED], user_inputs=list(user_inputs))
    feedback = result.get("feedback") or {}
    personal = any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"])
    return Strength(
        score=max(0, min(MAX_SCORE, int(result["score"]))),
        floor_problem=floor,
        warning=str(feedback.get("warning") or ""),
        suggestions=tuple(str(s) for s in feedback.get("suggestions") or ()),
        personal=personal,
    )
