"""Running the signing programs, and the one error this package raises."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


class SigningError(Exception):
    """Signing or a check failed, or a tool is missing; the message says which and why."""


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def require(tool: str, package: str) -> str:
    """The path of ``tool``; :class:`SigningError` naming the package that has it."""
    path = shutil.which(tool)
    if path is None:
        raise SigningError(f"{tool} is not installed (Debian: apt install {package})")
    return path


def run(command: list[str], *, stdin: str | None = None, timeout: float = 300) -> Ran:
    """Runs a signing program; never raises on its exit status (callers decide)."""
    try:
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except OSError as exc:
        raise SigningError(f"could not run {command[0]}: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise SigningError(f"{Path(command[0]).name} did not finish in {timeout:.0f} s") from None
    return Ran(done.returncode, done.stdout, done.stderr)


def last_lines(text: str, n: int = 6) -> str:
    """The end of a tool's output, for an error message."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-n:])
