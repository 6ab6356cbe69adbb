"""Authenticode for Windows programs and installers, with osslsigncode (Linux, macOS or
Windows; Debian package ``osslsigncode``).

The key is either a PKCS#12 file (``.p12``/``.pfx``: key and certificate chain) or, as
code-signing certificates now require, a key on a PKCS#11 token or HSM named by a
``pkcs11:`` URI, with its certificate chain in a PEM file. The password never appears on
a command line: osslsigncode reads it from a file or from its standard input.

Signatures are SHA-256 and carry an RFC 3161 timestamp from the URL given, so they stay
valid after the certificate expires; leaving the timestamp out must be asked for
(``--no-timestamp``: tests, machines with no network).

:func:`verify` checks the signature, the file's digest and the signer's chain up to a
trusted root (the system's, or ``ca_file``), and optionally who signed.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from signing.tools import SigningError, last_lines, require, run

DIGEST = "sha256"


@dataclass(frozen=True)
class WindowsKey:
    """Where the signing key is. Exactly one of ``pkcs12`` or ``pkcs11_key``."""

    pkcs12: Path | None = None
    #: A ``pkcs11:`` URI (``pkcs11:token=…;object=…``), with ``pkcs11_module`` (the
    #: token's PKCS#11 library, e.g. opensc-pkcs11.so) and ``certs`` (the chain, PEM).
    pkcs11_key: str | None = None
    pkcs11_module: Path | None = None
    #: OpenSSL's PKCS#11 engine, when osslsigncode does not find it by itself.
    pkcs11_engine: Path | None = None
    certs: Path | None = None
    #: The password or PIN: a file holding it, or the text itself (sent on stdin).
    password_file: Path | None = None
    password: str | None = None

    def arguments(self) -> list[str]:
        if (self.pkcs12 is None) == (self.pkcs11_key is None):
            raise SigningError("give either a PKCS#12 file or a PKCS#11 key, not both or neither")
        if self.pkcs12 is not None:
            args = ["-pkcs12", str(self.pkcs12)]
        else:
            if self.pkcs11_module is None or self.certs is None:
                raise SigningError("a PKCS#11 key needs its module and its certificate chain")
            args = []
            if self.pkcs11_engine is not None:
                args += ["-pkcs11engine", str(self.pkcs11_engine)]
            args += ["-pkcs11module", str(self.pkcs11_module), "-certs", str(self.certs)]
            args += ["-key", str(self.pkcs11_key)]
        if self.password_file is not None:
            args += ["-readpass", str(self.password_file)]
        elif self.password is not None:
            args += ["-readpass", "-"]
        return args


def sign_command(
    source: Path,
    target: Path,
    key: WindowsKey,
    *,
    description: str,
    url: str | None,
    timestamp_urls: list[str],
) -> list[str]:
    """The osslsigncode command line that signs ``source`` into ``target``."""
    command = [require("osslsigncode", "osslsigncode"), "sign", *key.arguments()]
    command += ["-h", DIGEST, "-n", description]
    if url:
        command += ["-i", url]
    for ts in timestamp_urls:
        command += ["-ts", ts]
    return [*command, "-in", str(source), "-out", str(target)]


def sign(
    file: Path,
    key: WindowsKey,
    *,
    description: str = "Lifeline",
    url: str | None = None,
    timestamp_urls: list[str] | None = None,
    no_timestamp: bool = False,
    out: Path | None = None,
) -> Path:
    """Signs ``file`` (in place unless ``out`` is given); returns the signed file.

    ``timestamp_urls`` are RFC 3161 servers tried in turn (your CA's, or e.g.
    ``http://timestamp.digicert.com``); pass ``no_timestamp=True`` to sign without one.
    """
    timestamp_urls = list(timestamp_urls or [])
    if not timestamp_urls and not no_timestamp:
        raise SigningError(
            "give a timestamp URL (--timestamp-url): without a timestamp the signature "
            "stops being valid when the certificate expires; --no-timestamp to sign anyway"
        )
    target = out or file
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        partial = Path(tmp) / target.name
        command = sign_command(
            file, partial, key, description=description, url=url, timestamp_urls=timestamp_urls
        )
        done = run(command, stdin=None if key.password is None else key.password + "\n")
        if done.returncode != 0 or not partial.exists():
            raise SigningError(f"osslsigncode could not sign {file}:\n{last_lines(done.output)}")
        os.replace(partial, target)
    return target


@dataclass(frozen=True)
class Verified:
    #: The signer's subject as osslsigncode prints it: ``/CN=…/O=…``.
    signer: str
    timestamped: bool


def verify(
    file: Path,
    *,
    ca_file: Path | None = None,
    tsa_ca_file: Path | None = None,
    publisher: str | None = None,
) -> Verified:
    """Checks the Authenticode signature of ``file``: the digest of its bytes, the
    signature, and the signer's chain up to ``ca_file`` (default: the system's
    roots). ``publisher``, if given, must appear in the signer's subject
    (``CN=Example Ltd``). Raises :class:`SigningError` saying what failed."""
    command = [require("osslsigncode", "osslsigncode"), "verify", "-in", str(file)]
    if ca_file is not None:
        command += ["-CAfile", str(ca_file)]
    if tsa_ca_file is not None:
        command += ["-TSA-CAfile", str(tsa_ca_file)]
    done = run(command)
    text = done.output
    if done.returncode != 0 or "Signature verification: ok" not in text:
        if "MISMATCH" in text:
            reason = "the file was changed after it was signed (its digest does not match)"
        elif "Unable to extract existing signature" in text:
            reason = "it is not signed"
        else:
            reason = "the signature or its certificate chain is not valid"
        raise SigningError(f"{file}: {reason}:\n{last_lines(text)}")
    signer = re.search(r"Signer #0:\s*\n\s*Subject:\s*(.+)", text)
    subject = signer.group(1).strip() if signer else ""
    if publisher is not None and publisher not in subject:
        raise SigningError(f"{file} is signed by {subject!r}, not by {publisher!r}")
    return Verified(subject, "Timestamp is not available" not in text)
