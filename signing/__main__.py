"""``python -m signing <windows|linux|macos> <command> …``: sign builds, check signatures.

Passwords and PINs come from a file (``--password-file``) or from the environment
variable ``LIFELINE_SIGN_PASSWORD``, never from the command line. Exit status 0 when
everything given was signed or checked, 1 otherwise (the reason is printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from signing import linux, macos, windows
from signing.tools import SigningError

PASSWORD_VARIABLE = "LIFELINE_SIGN_PASSWORD"  # noqa: S105  (a name, not a password)


def _version() -> str:
    try:
        from installers.project import Project

        return Project.load().version
    except (ImportError, OSError, KeyError):
        return ""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m signing", description=__doc__.split("\n")[0])
    families = p.add_subparsers(dest="family", required=True)

    win = families.add_parser("windows", help="Authenticode (osslsigncode)")
    wsub = win.add_subparsers(dest="command", required=True)
    ws = wsub.add_parser("sign", help="sign .exe/.dll/.msi files in place")
    ws.add_argument("files", nargs="+", type=Path)
    key = ws.add_mutually_exclusive_group(required=True)
    key.add_argument("--pkcs12", type=Path, help="key and chain in a .p12/.pfx file")
    key.add_argument("--pkcs11-key", help="a pkcs11: URI of the key on a token")
    ws.add_argument("--pkcs11-module", type=Path, help="the token's PKCS#11 library")
    ws.add_argument("--pkcs11-engine", type=Path, help="OpenSSL's PKCS#11 engine, if needed")
    ws.add_argument("--certs", type=Path, help="certificate chain (PEM) for a PKCS#11 key")
    ws.add_argument("--password-file", type=Path)
    ws.add_argument("--timestamp-url", action="append", default=[], help="RFC 3161 server")
    ws.add_argument("--no-timestamp", action="store_true", help="sign without a timestamp")
    ws.add_argument("--description", default="Lifeline", help="program name Windows shows")
    ws.add_argument("--url", help="publisher's web address in the signature")
    wv = wsub.add_parser("verify", help="check signature and certificate chain")
    wv.add_argument("files", nargs="+", type=Path)
    wv.add_argument("--ca-file", type=Path, help="trusted roots (default: the system's)")
    wv.add_argument("--tsa-ca-file", type=Path, help="trusted roots of the timestamp")
    wv.add_argument("--publisher", help="text the signer's subject must contain")

    lin = families.add_parser("linux", help="detached signatures (minisign)")
    lsub = lin.add_subparsers(dest="command", required=True)
    lk = lsub.add_parser("keygen", help="make a signing key pair")
    lk.add_argument("--secret-key", type=Path, required=True)
    lk.add_argument("--public-key", type=Path, required=True)
    lk.add_argument("--no-password", action="store_true", help="leave the secret key open")
    ls = lsub.add_parser("sign", help="write FILE.minisig beside each file")
    ls.add_argument("files", nargs="+", type=Path)
    ls.add_argument("--key", type=Path, required=True, help="minisign secret key")
    ls.add_argument("--password-file", type=Path)
    ls.add_argument("--comment", help="signed comment (default: file name, version, date)")
    lv = lsub.add_parser("verify", help="check each file against FILE.minisig")
    lv.add_argument("files", nargs="+", type=Path)
    pub = lv.add_mutually_exclusive_group(required=True)
    pub.add_argument("--public-key", type=Path)
    pub.add_argument("--public-key-text", help="the key as base64 (minisign -P)")

    mac = families.add_parser("macos", help="codesign/notarytool, or rcodesign from Linux")
    msub = mac.add_subparsers(dest="command", required=True)
    ms = msub.add_parser("sign", help="sign a .app, .dmg or executable in place")
    ms.add_argument("target", type=Path)
    ms.add_argument("--identity", help='"Developer ID Application: …" (on a Mac)')
    ms.add_argument("--p12-file", type=Path, help="the identity exported (rcodesign)")
    ms.add_argument("--p12-password-file", type=Path)
    mn = msub.add_parser("notarize", help="notarize and staple")
    mn.add_argument("target", type=Path)
    mn.add_argument("--keychain-profile", help="notarytool store-credentials profile")
    mn.add_argument("--api-key", type=Path, help="App Store Connect API key JSON (rcodesign)")
    mv = msub.add_parser("verify", help="signature, Gatekeeper, stapled ticket")
    mv.add_argument("target", type=Path)
    return p


def _password(path: Path | None) -> str | None:
    if path is not None:
        return None  # the tool reads the file itself
    return os.environ.get(PASSWORD_VARIABLE)


def _windows(args: argparse.Namespace) -> None:
    if args.command == "verify":
        for file in args.files:
            found = windows.verify(
                file, ca_file=args.ca_file, tsa_ca_file=args.tsa_ca_file, publisher=args.publisher
            )
            stamp = "timestamped" if found.timestamped else "no timestamp"
            print(f"{file}: signed by {found.signer} ({stamp})")
        return
    key = windows.WindowsKey(
        pkcs12=args.pkcs12,
        pkcs11_key=args.pkcs11_key,
        pkcs11_module=args.pkcs11_module,
        pkcs11_engine=args.pkcs11_engine,
        certs=args.certs,
        password_file=args.password_file,
        password=_password(args.password_file),
    )
    for file in args.files:
        windows.sign(
            file,
            key,
            description=args.description,
            url=args.url,
            timestamp_urls=args.timestamp_url,
            no_timestamp=args.no_timestamp,
        )
        print(f"{file}: signed")


def _linux(args: argparse.Namespace) -> None:
    if args.command == "keygen":
        password = None if args.no_password else os.environ.get(PASSWORD_VARIABLE)
        if not args.no_password and not password:
            raise SigningError(f"set {PASSWORD_VARIABLE}, or pass --no-password")
        text = linux.generate_key(args.secret_key, args.public_key, password=password)
        print(f"public key: {text}")
        return
    if args.command == "verify":
        for file in args.files:
            found = linux.verify(
                file, public_key=args.public_key, public_key_text=args.public_key_text
            )
            print(f"{file}: good signature ({found.trusted_comment})")
        return
    password = (
        args.password_file.read_text().splitlines()[0]
        if args.password_file
        else os.environ.get(PASSWORD_VARIABLE)
    )
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    for file in args.files:
        comment = args.comment or f"{file.name} {_version()} signed {today}".replace("  ", " ")
        signature = linux.sign(file, args.key, trusted_comment=comment, password=password)
        print(f"{file}: {signature}")


def _macos(args: argparse.Namespace) -> None:
    if args.command == "sign":
        macos.sign(
            args.target,
            macos.AppleKey(args.identity, args.p12_file, args.p12_password_file),
        )
    elif args.command == "notarize":
        macos.notarize(args.target, keychain_profile=args.keychain_profile, api_key=args.api_key)
    else:
        macos.verify(args.target)
    print(f"{args.target}: {args.command} done")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        {"windows": _windows, "linux": _linux, "macos": _macos}[args.family](args)
    except SigningError as exc:
        print(f"signing: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
