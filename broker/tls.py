"""The broker's certificate: a self-made CA and server certificate on first start."""

from __future__ import annotations

import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from common.crypto.certificates import (
    KeyAndCertificate,
    certificate_hostnames,
    create_ca,
    create_server_certificate,
    fingerprint,
)


@dataclass(frozen=True)
class BrokerCertificates:
    cert_file: Path
    key_file: Path
    #: The broker's own CA; None when it serves a certificate from a public CA.
    ca_file: Path | None = None
    ca_fingerprint: str | None = None

    def describe(self) -> list[tuple[str, str]]:
        """What clients need to trust this broker, as (label, value) lines."""
        if self.ca_file is None:
            return [("certificate", f"{self.cert_file} (clients use their system trust store)")]
        return [("CA fingerprint", str(self.ca_fingerprint)), ("CA certificate", str(self.ca_file))]


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def ensure_certificates(data_dir: Path, hostnames: list[str]) -> BrokerCertificates:
    """Creates the CA once, and a server certificate whenever the names change."""
    names = list(dict.fromkeys([*hostnames, "localhost", "127.0.0.1", "::1", socket.gethostname()]))
    ca_key, ca_cert = data_dir / "ca-key.pem", data_dir / "ca.pem"
    key, cert = data_dir / "server-key.pem", data_dir / "server.pem"
    if not ca_cert.exists():
        ca = create_ca()
        _write_private(ca_key, ca.key_pem)
        ca_cert.write_bytes(ca.cert_pem)
    if not cert.exists() or not set(names) <= certificate_hostnames(cert.read_bytes()):
        ca = KeyAndCertificate(ca_key.read_bytes(), ca_cert.read_bytes())
        server = create_server_certificate(ca, names)
        _write_private(key, server.key_pem)
        cert.write_bytes(server.cert_pem + ca.cert_pem)
    return BrokerCertificates(cert, key, ca_cert, fingerprint(ca_cert.read_bytes()))


def server_context(certs: BrokerCertificates) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certs.cert_file, certs.key_file)
    return ctx
