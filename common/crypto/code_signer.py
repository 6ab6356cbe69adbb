"""Who signed a program, read from its signature's certificates, for display only.

Authenticode embeds a PKCS#7 SignedData whose certificates are the signer's chain. The
name shown to a person is the common name (else the organisation) of the chain's
code-signing certificate: not a CA, with the code-signing extended key usage. This does
not check the signature: the operating system does that first (``WinVerifyTrust``), and
only a program it trusts has its publisher shown (:mod:`applet.publisher`).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Real Authenticode signatures are 2–20 KB (a chain and a timestamp); anything much
#: bigger is not one and is not parsed.
MAX_SIGNATURE = 256 * 1024


def _is_code_signer(cert: x509.Certificate) -> bool:
    try:
        if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
    except x509.ExtensionNotFound:
        pass
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CODE_SIGNING in usage


def _display_name(cert: x509.Certificate) -> str | None:
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        for attribute in cert.subject.get_attributes_for_oid(oid):
            value = attribute.value
            text = value.decode(errors="replace") if isinstance(value, bytes) else value
            # One line of printable text, of a length a window can show.
            text = "".join(ch for ch in text if ch.isprintable()).strip()[:128]
            if text:
                return text
    return None


def _one_der_value(data: bytes) -> bytes | None:
    """``data`` up to the end of the DER SEQUENCE it starts with: Authenticode pads its
    signature to eight bytes, and the padding is not part of the PKCS#7 value."""
    if len(data) < 2 or data[0] != 0x30:
        return None
    first = data[1]
    if first < 0x80:
        header, length = 2, first
    else:
        count = first & 0x7F
        if not 1 <= count <= 4 or len(data) < 2 + count:
            return None
        header, length = 2 + count, int.from_bytes(data[2 : 2 + count], "big")
    if header + length > len(data):
        return None
    return data[: header + length]


def code_signing_subject(signed_data: bytes) -> str | None:
    """The publisher's name in a DER PKCS#7 SignedData, or None when it is not one,
    is too large, or holds no code-signing certificate."""
    if len(signed_data) > MAX_SIGNATURE:
        return None
    value = _one_der_value(signed_data)
    if value is None:
        return None
    try:
        certificates = pkcs7.load_der_pkcs7_certificates(value)
    except ValueError:
        return None
    for cert in certificates:
        if _is_code_signer(cert):
            return _display_name(cert)
    return None
