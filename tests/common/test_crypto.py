from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from common.crypto import (
    CommittedExchange,
    PakeExchange,
    RecordCipher,
    SessionCode,
    SessionKeys,
    SigningKey,
    derive_key,
    verify_resume_proof,
    verify_signed,
)
from common.crypto.certificates import (
    certificate_hostnames,
    create_ca,
    create_server_certificate,
    fingerprint,
    normalise_fingerprint,
)
from common.crypto.keys import format_sas
from common.crypto.passwords import hash_password, verify_password
from common.errors import BadSignature, TamperedRecord, WrongCode


def _hkdf_rfc5869(ikm: bytes, info: bytes, salt: bytes | None, length: int) -> bytes:
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def test_derive_key_is_hkdf_sha256_with_a_purpose_label() -> None:
    secret = bytes(range(32))
    assert derive_key(secret, "record/console") == _hkdf_rfc5869(
        secret, b"lifeline/v1/record/console", None, 32
    )
    assert derive_key(secret, "x", salt=b"s" * 32) == _hkdf_rfc5869(
        secret, b"lifeline/v1/x", b"s" * 32, 32
    )
    # A fixed vector: changing the key schedule breaks compatibility, so it must be deliberate.
    assert (
        derive_key(b"\x00" * 32, "sas").hex()
        == _hkdf_rfc5869(b"\x00" * 32, b"lifeline/v1/sas", None, 32).hex()
    )
    assert derive_key(secret, "a") != derive_key(secret, "b")


def test_rfc5869_case_1_through_the_same_construction() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = HKDF(hashes.SHA256(), 42, salt, info).derive(ikm)
    assert okm.hex().startswith("3cb25f25faacd57a90434f64d0362f2a")
    assert _hkdf_rfc5869(ikm, info, salt, 42) == okm


def test_session_codes_parse_what_people_type() -> None:
    code = SessionCode("482", "193076")
    assert str(code) == "482-193-076"
    for typed in ("482-193-076", "482 193 076", " 482193076 ", "482.193.076"):
        assert SessionCode.parse(typed) == code
    assert SessionCode.parse("1234-567-890").nameplate == "1234"
    for bad in ("482-193-07", "abc-def-ghi", "٤٨٢١٩٣٠٧٦", ""):
        with pytest.raises(WrongCode):
            SessionCode.parse(bad)
    fresh = SessionCode.with_new_secret("123")
    assert len(fresh.secret) == 6 and fresh.secret.isdigit()


def test_pake_agrees_only_with_the_same_code_and_session() -> None:
    code = SessionCode("482", "193076")
    a, b = PakeExchange("console", "s1", code), PakeExchange("applet", "s1", code)
    sa, sb = a.finish(b.outbound), b.finish(a.outbound)
    assert sa == sb
    wrong = PakeExchange("applet", "s1", SessionCode("482", "193075"))
    a2 = PakeExchange("console", "s1", code)
    assert a2.finish(wrong.outbound).key != wrong.finish(a2.outbound).key
    other_session = PakeExchange("applet", "s2", code)
    a3 = PakeExchange("console", "s1", code)
    assert a3.finish(other_session.outbound).key != other_session.finish(a3.outbound).key


def test_pake_rejects_garbage_as_a_wrong_code() -> None:
    with pytest.raises(WrongCode):
        PakeExchange("console", "s", SessionCode("123", "456789")).finish(b"\x42" * 33)


def test_committed_exchange_and_keys() -> None:
    applet, console = CommittedExchange("applet", "s"), CommittedExchange("console", "s")
    shared_c = console.finish(applet.public_key, applet.commitment)
    shared_a = applet.finish(console.public_key)
    assert shared_a == shared_c
    ka = SessionKeys.derive(shared_a.key, shared_a.transcript, "applet")
    kc = SessionKeys.derive(shared_c.key, shared_c.transcript, "console")
    assert ka.sas == kc.sas and format_sas(ka.sas) == f"{ka.sas[:3]} {ka.sas[3:]}"
    assert kc.check_confirmation(ka.confirmation) and ka.check_confirmation(kc.confirmation)
    assert not kc.check_confirmation(kc.confirmation)  # directions differ
    sealed = kc.send.seal(2, 1, b"hdr", b"text")
    assert ka.recv.open(2, 1, b"hdr", sealed) == b"text"
    with pytest.raises(TamperedRecord):
        ka.recv.open(2, 2, b"hdr", sealed)  # another counter
    with pytest.raises(TamperedRecord):
        ka.recv.open(2, 1, b"hdx", sealed)  # another header
    with pytest.raises(WrongCode):
        console.finish(CommittedExchange("applet", "s").public_key, applet.commitment)


def test_record_cipher_needs_a_256_bit_key() -> None:
    with pytest.raises(ValueError):
        RecordCipher(bytes(16))


def test_policy_signatures() -> None:
    key = SigningKey.generate()
    blob = key.sign_policy(b"payload")
    assert verify_signed(key.public_bytes(), blob) == b"payload"
    with pytest.raises(BadSignature):
        verify_signed(key.public_bytes(), blob[:-1] + b"X")
    with pytest.raises(BadSignature):
        verify_signed(SigningKey.generate().public_bytes(), blob)
    with pytest.raises(BadSignature):
        verify_signed(key.public_bytes(), b"short")
    assert SigningKey.from_pem(key.to_pem()).public_bytes() == key.public_bytes()


def test_resume_proofs_are_bound_to_session_role_and_challenge() -> None:
    keys = SessionKeys.derive(bytes(32), b"transcript", "applet")
    proof = keys.resume_proof("sid", b"nonce")
    pub = keys.resume_public_key()
    assert verify_resume_proof(pub, "sid", "applet", b"nonce", proof)
    assert not verify_resume_proof(pub, "sid", "applet", b"other", proof)
    assert not verify_resume_proof(pub, "sid", "console", b"nonce", proof)
    assert not verify_resume_proof(pub, "sid2", "applet", b"nonce", proof)
    assert not verify_resume_proof(b"bad", "sid", "applet", b"nonce", proof)


def test_certificates_and_fingerprints() -> None:
    ca = create_ca()
    server = create_server_certificate(ca, ["broker.example", "127.0.0.1"])
    assert certificate_hostnames(server.cert_pem) == {"broker.example", "127.0.0.1"}
    fp = fingerprint(ca.cert_pem)
    assert fp.startswith("sha256:") and len(fp) == 7 + 95
    assert normalise_fingerprint(fp.lower().replace(":", "")[6:]) == fp
    with pytest.raises(ValueError):
        normalise_fingerprint("sha256:abcd")


def test_password_hashes() -> None:
    stored = hash_password("correct-horse-42")
    assert stored.startswith("scrypt$") and "correct" not in stored
    assert verify_password("correct-horse-42", stored)
    assert not verify_password("correct-horse-43", stored)
    assert hash_password("same") != hash_password("same")  # salted
    for bad in ("", "scrypt$x", "md5$1$2$3$4$5", "scrypt$1$8$1$@@$@@"):
        assert not verify_password("x", bad)


@pytest.mark.parametrize(
    "message", [b"", b"B", b"B" + bytes(32), b"A" + b"\xff" * 32, b"\x00" * 200]
)
def test_pake_rejects_every_kind_of_malformed_message(message: bytes) -> None:
    with pytest.raises(WrongCode):
        PakeExchange("console", "s", SessionCode("123", "456789")).finish(message)


def _fixed_entropy(tag: bytes):  # type: ignore[no-untyped-def]
    counter = [0]

    def entropy(n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(tag + counter[0].to_bytes(4, "big")).digest()
            counter[0] += 1
        return out[:n]

    return entropy


def test_spake2_and_key_schedule_vectors() -> None:
    """Fixed vectors: a peer written elsewhere must produce these same bytes
    (docs/protocol.md). They change only with a protocol version."""
    from spake2 import SPAKE2_A, SPAKE2_B

    password = SessionCode("482", "193076").pake_password("sid-1")
    assert password == b"lifeline-code-v1:sid-1:482:193076"
    ids = {"idA": b"lifeline-console", "idB": b"lifeline-applet"}
    a = SPAKE2_A(password, entropy_f=_fixed_entropy(b"a"), **ids)
    b = SPAKE2_B(password, entropy_f=_fixed_entropy(b"b"), **ids)
    ma, mb = a.start(), b.start()
    assert ma.hex() == "419d91dd77113af5badaf6117d4df40f927c3b9ac414260467deca936ab623cebe"
    assert mb.hex() == "426e13e35ecbd23dc785e06c2bc2b0f05813ad1687d86c190e427dad29e9303dea"
    key = a.finish(mb)
    assert key == b.finish(ma)
    assert key.hex() == "6fc131963f5bddfae0aa8aa05b099b39ddc4d67b1e08145190d83ac9e9c4c742"
    keys = SessionKeys.derive(key, b"transcript", "console")
    assert keys.sas == "112402"
    assert (
        keys.confirmation.hex()
        == "218d533ac5c74acd4cdd5ff1c59088ecadc12b81e6918549bbfa2067e18428b1"
    )


def test_sealed_values_open_only_with_their_key_and_place() -> None:
    from common.crypto import SealError, data_key_id, seal, unseal

    key, other = os.urandom(32), os.urandom(32)
    sealed = seal(key, b"chat text", b"session_events|chat")
    assert b"chat text" not in sealed
    assert unseal(key, sealed, b"session_events|chat") == b"chat text"
    assert seal(key, b"chat text", b"x") != seal(key, b"chat text", b"x")  # fresh nonces
    for wrong_key, context, blob in (
        (other, b"session_events|chat", sealed),
        (key, b"session_events|note", sealed),  # moved to another kind of row
        (key, b"session_events|chat", sealed[:-1] + bytes([sealed[-1] ^ 1])),
        (key, b"session_events|chat", sealed[:10]),
    ):
        with pytest.raises(SealError):
            unseal(wrong_key, blob, context)
    assert data_key_id(key) != data_key_id(other) and len(data_key_id(key)) == 12
