"""Signing and notarizing the Mac builds (a recipe: this project's CI has no Mac).

On a Mac, with Xcode's command-line tools:

* :func:`sign` runs ``codesign`` with the hardened runtime, a secure timestamp and
  ``installers/macos/entitlements.plist``, inside out: every Mach-O file in a ``.app``
  first, then the bundle (Apple advises against ``--deep`` for signing);
* :func:`notarize` sends a ``.dmg``, a ``.zip`` of a ``.app``, or a ``.app`` (zipped with
  ``ditto`` first) to Apple with ``notarytool`` and a keychain profile
  (``xcrun notarytool store-credentials``), waits, and staples the ticket to what can
  hold one (a bare executable cannot: Gatekeeper then asks Apple online);
* :func:`verify` runs ``codesign --verify --strict``, ``spctl --assess`` (Gatekeeper's
  verdict) and ``stapler validate``.

From Linux the same steps use **rcodesign** (the ``apple-codesign`` project: a
maintained, documented re-implementation of codesign, notarization and stapling in
Rust; ``cargo install apple-codesign`` or its release binaries, as no Debian or PyPI
package carries it). It signs with a PKCS#12 Developer ID and notarizes with an App
Store Connect API key; its ``verify`` checks structure and signatures, not Gatekeeper's
trust, so a final ``spctl`` check on a Mac is still worth doing before a release.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from signing.tools import SigningError, last_lines, require, run

ENTITLEMENTS = (
    Path(__file__).resolve().parent.parent / "installers" / "macos" / "entitlements.plist"
)
_MACHO_MAGICS = {
    b"\xfe\xed\xfa\xce",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # universal (also Java classes: harmless to try)
}


@dataclass(frozen=True)
class AppleKey:
    """On a Mac: a Developer ID identity in the keychain. From Linux (rcodesign): a
    PKCS#12 export of it and a file holding its password."""

    identity: str | None = None
    p12_file: Path | None = None
    p12_password_file: Path | None = None


def is_macho(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) in _MACHO_MAGICS
    except OSError:
        return False


def signing_order(target: Path) -> list[Path]:
    """What to sign, inside out: the Mach-O files of a ``.app`` (deepest first), then
    the ``.app``; or the one file given."""
    if target.suffix != ".app":
        return [target]
    inner = [p for p in target.rglob("*") if p.is_file() and not p.is_symlink() and is_macho(p)]
    inner.sort(key=lambda p: (-len(p.relative_to(target).parts), str(p)))
    return [*inner, target]


def codesign_commands(
    target: Path, identity: str, entitlements: Path = ENTITLEMENTS
) -> list[list[str]]:
    """The ``codesign`` commands that sign ``target`` on a Mac."""
    base = ["codesign", "--force", "--timestamp", "--sign", identity]
    commands = []
    for path in signing_order(target):
        if path.suffix == ".dmg":
            commands.append([*base, str(path)])
        else:
            commands.append(
                [*base, "--options", "runtime", "--entitlements", str(entitlements), str(path)]
            )
    return commands


def rcodesign_command(target: Path, key: AppleKey, entitlements: Path = ENTITLEMENTS) -> list[str]:
    """The ``rcodesign`` command that signs ``target`` from Linux (it walks a bundle
    itself, inside out)."""
    if key.p12_file is None or key.p12_password_file is None:
        raise SigningError("rcodesign needs --p12-file and --p12-password-file")
    command = ["rcodesign", "sign", "--p12-file", str(key.p12_file)]
    command += ["--p12-password-file", str(key.p12_password_file)]
    if target.suffix != ".dmg":
        command += ["--code-signature-flags", "runtime"]
        command += ["--entitlements-xml-file", str(entitlements)]
    return [*command, str(target)]


def sign(target: Path, key: AppleKey) -> None:
    """Signs a ``.app``, ``.dmg`` or executable in place (codesign on a Mac, else
    rcodesign)."""
    if sys.platform == "darwin" and key.identity:
        require("codesign", "Xcode command-line tools")
        for command in codesign_commands(target, key.identity):
            done = run(command)
            if done.returncode != 0:
                raise SigningError(f"codesign failed on {command[-1]}:\n{last_lines(done.output)}")
        return
    require("rcodesign", "no Debian package: cargo install apple-codesign")
    done = run(rcodesign_command(target, key), timeout=1800)
    if done.returncode != 0:
        raise SigningError(f"rcodesign failed on {target}:\n{last_lines(done.output)}")


def notarize(
    target: Path, *, keychain_profile: str | None = None, api_key: Path | None = None
) -> None:
    """Notarizes and staples ``target``: notarytool with a keychain profile on a Mac,
    rcodesign with an App Store Connect API key file (JSON) from Linux."""
    if api_key is not None:
        require("rcodesign", "no Debian package: cargo install apple-codesign")
        command = ["rcodesign", "notary-submit", "--api-key-file", str(api_key)]
        done = run([*command, "--wait", "--staple", str(target)], timeout=3600)
        if done.returncode != 0:
            raise SigningError(f"notarization of {target} failed:\n{last_lines(done.output)}")
        return
    if keychain_profile is None:
        raise SigningError("give --keychain-profile (on a Mac) or --api-key (rcodesign)")
    require("xcrun", "Xcode command-line tools")
    with tempfile.TemporaryDirectory() as tmp:
        upload = target
        if target.suffix == ".app":
            upload = Path(tmp) / (target.stem + ".zip")
            zipped = run(["ditto", "-c", "-k", "--keepParent", str(target), str(upload)])
            if zipped.returncode != 0:
                raise SigningError(f"could not zip {target}:\n{last_lines(zipped.output)}")
        command = ["xcrun", "notarytool", "submit", str(upload)]
        command += ["--keychain-profile", keychain_profile, "--wait", "--output-format", "json"]
        done = run(command, timeout=3600)
    try:
        status = json.loads(done.stdout).get("status")
    except ValueError:
        status = None
    if done.returncode != 0 or status != "Accepted":
        raise SigningError(
            f"Apple did not accept {target} ({status}); `xcrun notarytool log <id>` says why:\n"
            f"{last_lines(done.output)}"
        )
    if target.suffix in (".app", ".dmg", ".pkg"):
        stapled = run(["xcrun", "stapler", "staple", str(target)])
        if stapled.returncode != 0:
            raise SigningError(f"could not staple {target}:\n{last_lines(stapled.output)}")


def verify_commands(target: Path) -> list[list[str]]:
    """The checks :func:`verify` runs on a Mac."""
    commands = [["codesign", "--verify", "--strict", "--deep", "--verbose=2", str(target)]]
    if target.suffix == ".dmg":
        commands.append(
            ["spctl", "--assess", "--type", "open", "--context", "context:primary-signature",
             "--verbose=2", str(target)]
        )  # fmt: skip
    else:
        commands.append(["spctl", "--assess", "--type", "execute", "--verbose=2", str(target)])
    if target.suffix in (".app", ".dmg"):
        commands.append(["xcrun", "stapler", "validate", str(target)])
    return commands


def verify(target: Path) -> None:
    """Checks the signature (and on a Mac Gatekeeper's verdict and the stapled
    ticket); rcodesign's structural check from Linux."""
    if sys.platform != "darwin":
        require("rcodesign", "no Debian package: cargo install apple-codesign")
        commands = [["rcodesign", "verify", str(target)]]
    else:
        commands = verify_commands(target)
    for command in commands:
        done = run(command)
        if done.returncode != 0:
            raise SigningError(f"{command[0]} rejects {target}:\n{last_lines(done.output)}")
