"""Throwaway keys, certificates and a Windows program for the packaging tests: all
made at test time, never committed."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MINGW = "x86_64-w64-mingw32-gcc"
needs_osslsigncode = pytest.mark.skipif(
    shutil.which("osslsigncode") is None or shutil.which(MINGW) is None,
    reason="osslsigncode and mingw-w64 (gcc-mingw-w64-x86-64) are needed; "
    "scripts/bootstrap installs them",
)
needs_minisign = pytest.mark.skipif(
    shutil.which("minisign") is None, reason="minisign is needed; scripts/bootstrap installs it"
)
PASSWORD = "test-only-password"


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def compile_test_pe(folder: Path) -> Path:
    """A real Windows program, cross-compiled with mingw-w64."""
    source = folder / "hello.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("Lifeline"); return 0; }\n')
    exe = folder / "hello.exe"
    subprocess.run([MINGW, "-O1", "-s", "-o", exe, source], check=True)
    assert exe.read_bytes()[:2] == b"MZ"
    return exe


@dataclass
class CodeSigning:
    p12: Path
    ca: Path
    #: Another root, which did not sign the publisher's certificate.
    other_ca: Path
    password_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lifeline Test"),
        ]
    )


_CA_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _root(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_code_signing(folder: Path) -> CodeSigning:
    """A throwaway root CA and a code-signing certificate it issued, as a PKCS#12 file
    protected by :data:`PASSWORD` (made at test time, never committed)."""
    ca_key, ca = _root("Lifeline Test Root")
    _, other = _root("Someone Else's Root")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Lifeline Test Publisher"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    p12 = folder / "publisher.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"publisher", key, leaf, [ca],
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )  # fmt: skip
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "other.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    (folder / "password").write_text(PASSWORD + "\n")
    return CodeSigning(p12, folder / "ca.pem", folder / "other.pem", folder / "password")
