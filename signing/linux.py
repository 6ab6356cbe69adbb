"""Detached signatures for the Linux builds, with minisign (Debian package ``minisign``).

Why minisign, rather than signify or Ed25519 through ``cryptography``:

* It is a packaged, audited tool on every platform people verify from (Debian, Fedora,
  Homebrew, Scoop, a static binary), so a customer or an admin can check a download
  with one command and no Lifeline code; a format of our own would need our program to
  check our program.
* Its signatures are Ed25519 over a BLAKE2b-512 hash of the file (prehashed), so
  signing and checking a 60 MB applet is quick, and they carry a *trusted comment*,
  signed too, naming the build (program, version) to whoever verifies: an older build
  signed with the same key cannot pass for this one unnoticed.
* signify (OpenBSD) has no trusted comment and no prehashing, and keeps the whole file
  in memory; ``cryptography`` belongs to ``common/crypto`` alone (the project's rule:
  crypto in one place), and build signing is not session cryptography.

The secret key may be protected by a password, given on minisign's standard input
(never on a command line). The signature goes beside the file (``FILE.minisig``) and
stays valid under any file name: the broker's per-session names included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from signing.tools import SigningError, last_lines, require, run


def signature_path(file: Path) -> Path:
    return file.with_name(file.name + ".minisig")


def generate_key(secret_key: Path, public_key: Path, *, password: str | None = None) -> str:
    """Makes a key pair (for a new signing key, and for tests); returns the public key
    as the one-line base64 text ``minisign -P`` takes. No password: an unencrypted key."""
    minisign = require("minisign", "minisign")
    command = [minisign, "-G", "-f", "-p", str(public_key), "-s", str(secret_key)]
    if password is None:
        command.append("-W")
    done = run(command, stdin=None if password is None else f"{password}\n{password}\n")
    if done.returncode != 0:
        raise SigningError(f"minisign could not make a key pair:\n{last_lines(done.output)}")
    return public_key.read_text().splitlines()[-1].strip()


def sign(
    file: Path,
    secret_key: Path,
    *,
    trusted_comment: str,
    password: str | None = None,
    signature: Path | None = None,
) -> Path:
    """Signs ``file``; returns the signature file (``FILE.minisig`` by default).
    ``trusted_comment`` is signed with it: say what the file is (program, version)."""
    if "\n" in trusted_comment:
        raise SigningError("a trusted comment is one line")
    target = signature or signature_path(file)
    command = [require("minisign", "minisign"), "-S", "-s", str(secret_key), "-m", str(file)]
    command += ["-x", str(target), "-t", trusted_comment]
    done = run(command, stdin=None if password is None else password + "\n")
    if done.returncode != 0:
        raise SigningError(f"minisign could not sign {file}:\n{last_lines(done.output)}")
    return target


@dataclass(frozen=True)
class Verified:
    trusted_comment: str


def verify(
    file: Path,
    *,
    public_key: Path | None = None,
    public_key_text: str | None = None,
    signature: Path | None = None,
) -> Verified:
    """Checks ``file`` against its detached signature and a public key (a file, or the
    base64 text); returns the signed trusted comment. Raises :class:`SigningError`."""
    if (public_key is None) == (public_key_text is None):
        raise SigningError("give the public key as a file or as text, one of the two")
    command = [require("minisign", "minisign"), "-V", "-m", str(file)]
    command += ["-x", str(signature or signature_path(file))]
    if public_key is not None:
        command += ["-p", str(public_key)]
    else:
        command += ["-P", str(public_key_text)]
    done = run(command)
    if done.returncode != 0:
        raise SigningError(
            f"{file} does not match its signature (changed, or signed by another key):\n"
            f"{last_lines(done.output)}"
        )
    comment = ""
    for line in done.output.splitlines():
        if line.startswith("Trusted comment:"):
            comment = line.partition(":")[2].strip()
    return Verified(comment)
