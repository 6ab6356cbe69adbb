"""Signing Lifeline's builds, and checking signatures, one module per platform family.

    python -m signing windows sign|verify …   Authenticode with osslsigncode
    python -m signing linux sign|verify …     detached minisign signatures
    python -m signing macos sign|notarize|verify …   codesign and notarytool (on a Mac),
                                              or rcodesign (from Linux)

Signing is done once per build: the broker serves the signed file under per-session
names without touching its bytes (broker/downloads.py), and neither Authenticode nor a
detached signature covers the file name. docs/packaging.md has the recipes, and why
minisign for Linux.

:mod:`signing.tools` runs the external programs and holds :class:`SigningError`, the one
error this package raises; its message says what to do.
"""
