"""TLS to the broker: TLS 1.2 or later, server certificate always verified.

Trust comes from one of: a pinned CA file, a pinned CA fingerprint (the CA is fetched
from the broker once, checked against the pin, then used to verify as usual), or the
system trust store for brokers with a public certificate.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from common.crypto.certificates import fingerprint, normalise_fingerprint, single_certificate
from common.errors import CertificateMismatch


def context_from_ca(ca_pem: bytes | None = None, ca_file: Path | None = None) -> ssl.SSLContext:
    """A verifying context. With a pinned CA it trusts that CA *only*: the system store
    is not loaded, so no other authority can vouch for the broker."""
    if ca_file is None and ca_pem is None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies chain and hostname
        if ca_file is not None:
            ctx.load_verify_locations(cafile=str(ca_file))
        else:
            assert ca_pem is not None
            ctx.load_verify_locations(cadata=ca_pem.decode())
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def bootstrap_context() -> ssl.SSLContext:
    """Only for fetching the CA that is then checked against a pinned fingerprint."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def check_pinned_ca(ca_pem: bytes, pinned: str) -> bytes:
    """Returns the CA to trust: exactly one certificate, matching the pin. A bundle is
    refused, so nobody can slip a second authority in beside the genuine one."""
    try:
        ca = single_certificate(ca_pem)
        actual = fingerprint(ca)
    except ValueError:
        raise CertificateMismatch() from None
    if actual != normalise_fingerprint(pinned):
        raise CertificateMismatch()
    return ca
