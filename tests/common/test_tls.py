from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from common.crypto.certificates import create_ca, fingerprint
from common.errors import CertificateMismatch
from common.transport.tls import check_pinned_ca, context_from_ca


def test_a_pinned_ca_is_the_only_trusted_authority(tmp_path: Path) -> None:
    ca = create_ca()
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    for ctx in (context_from_ca(ca_pem=ca.cert_pem), context_from_ca(ca_file=tmp_path / "ca.pem")):
        assert ctx.cert_store_stats()["x509_ca"] == 1
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
        assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2


def test_without_a_pin_the_system_store_is_used() -> None:
    ctx = context_from_ca()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_fingerprint_pins() -> None:
    ca, other = create_ca(), create_ca()
    check_pinned_ca(ca.cert_pem, fingerprint(ca.cert_pem))
    with pytest.raises(CertificateMismatch):
        check_pinned_ca(other.cert_pem, fingerprint(ca.cert_pem))
    with pytest.raises(CertificateMismatch):
        check_pinned_ca(b"not a certificate", fingerprint(ca.cert_pem))


def test_a_fingerprint_pin_refuses_a_bundle_with_an_extra_authority() -> None:
    ca, intruder = create_ca(), create_ca("Intruder")
    with pytest.raises(CertificateMismatch):
        check_pinned_ca(ca.cert_pem + intruder.cert_pem, fingerprint(ca.cert_pem))
    trusted = check_pinned_ca(ca.cert_pem, fingerprint(ca.cert_pem))
    assert context_from_ca(ca_pem=trusted).cert_store_stats()["x509_ca"] == 1
