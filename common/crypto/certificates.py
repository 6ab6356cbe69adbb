"""The broker's own certificate authority, made on first start.

A self-hosted broker without a public certificate makes a CA and a server certificate
signed by it; clients pin the CA (by file or by the fingerprint the broker prints).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from hashlib import sha256

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = dt.timedelta(days=3650)
SERVER_VALIDITY = dt.timedelta(days=825)


@dataclass(frozen=True)
class KeyAndCertificate:
    key_pem: bytes
    cert_pem: bytes


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def create_ca(common_name: str = "Lifeline broker CA") -> KeyAndCertificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return KeyAndCertificate(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def create_server_certificate(ca: KeyAndCertificate, hostnames: list[str]) -> KeyAndCertificate:
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key is not an EC key")
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in dict.fromkeys(hostnames):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + SERVER_VALIDITY)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return KeyAndCertificate(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def certificate_hostnames(cert_pem: bytes) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = {str(n) for n in san.get_values_for_type(x509.DNSName)}
    names |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return names


def single_certificate(pem: bytes) -> bytes:
    """The one certificate in ``pem``, re-encoded; refuses bundles and garbage, so a
    pinned fingerprint vouches for exactly what will be trusted."""
    certs = x509.load_pem_x509_certificates(pem)
    if len(certs) != 1:
        raise ValueError(f"expected one certificate, found {len(certs)}")
    return certs[0].public_bytes(serialization.Encoding.PEM)


def fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the certificate's DER bytes, as ``sha256:AB:CD:…``."""
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return "sha256:" + ":".join(f"{b:02X}" for b in sha256(der).digest())


def normalise_fingerprint(text: str) -> str:
    hexdigits = "".join(ch for ch in text.removeprefix("sha256:") if ch not in ": ").upper()
    if len(hexdigits) != 64 or any(ch not in "0123456789ABCDEF" for ch in hexdigits):
        raise ValueError("a SHA-256 fingerprint has 64 hexadecimal digits")
    return "sha256:" + ":".join(hexdigits[i : i + 2] for i in range(0, 64, 2))
