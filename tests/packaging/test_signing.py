"""signing/: Authenticode on a test PE cross-compiled here, minisign signatures, the
macOS recipe's command lines. Every key and certificate is made for the test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from signing import __main__ as cli
from signing import linux, macos, windows
from signing.tools import SigningError
from tests.packaging.keys import (
    PASSWORD,
    CodeSigning,
    compile_test_pe,
    flip_byte,
    make_code_signing,
    needs_minisign,
    needs_osslsigncode,
)

# ---- Windows ----------------------------------------------------------------------------


@pytest.fixture
def test_pe(tmp_path: Path) -> Path:
    return compile_test_pe(tmp_path)


@pytest.fixture(scope="module")
def code_signing(tmp_path_factory: pytest.TempPathFactory) -> CodeSigning:
    return make_code_signing(tmp_path_factory.mktemp("codesigning"))


@needs_osslsigncode
def test_a_signed_pe_verifies_against_its_root_under_any_name(
    test_pe: Path, code_signing: CodeSigning, tmp_path: Path
) -> None:
    unsigned = test_pe.read_bytes()
    key = windows.WindowsKey(pkcs12=code_signing.p12, password_file=code_signing.password_file)
    windows.sign(test_pe, key, description="Lifeline test", no_timestamp=True)
    assert test_pe.read_bytes() != unsigned
    found = windows.verify(test_pe, ca_file=code_signing.ca, publisher="CN=Lifeline Test Publisher")
    assert "Lifeline Test Publisher" in found.signer
    assert not found.timestamped
    # The broker serves it under a per-session name: the signature does not cover names.
    renamed = tmp_path / "Lifeline-482.exe"
    shutil.copyfile(test_pe, renamed)
    windows.verify(renamed, ca_file=code_signing.ca)
    with pytest.raises(SigningError, match="not by"):
        windows.verify(test_pe, ca_file=code_signing.ca, publisher="CN=Microsoft")


@needs_osslsigncode
def test_one_changed_byte_fails_the_authenticode_check(
    test_pe: Path, code_signing: CodeSigning
) -> None:
    # The password on osslsigncode's standard input this time, as from the environment.
    key = windows.WindowsKey(pkcs12=code_signing.p12, password=PASSWORD)
    windows.sign(test_pe, key, no_timestamp=True)
    windows.verify(test_pe, ca_file=code_signing.ca)
    flip_byte(test_pe, 0x400)  # in the code section, which the digest covers
    with pytest.raises(SigningError, match="changed after it was signed"):
        windows.verify(test_pe, ca_file=code_signing.ca)


@needs_osslsigncode
def test_the_chain_must_end_at_a_trusted_root(test_pe: Path, code_signing: CodeSigning) -> None:
    key = windows.WindowsKey(pkcs12=code_signing.p12, password_file=code_signing.password_file)
    windows.sign(test_pe, key, no_timestamp=True)
    with pytest.raises(SigningError, match="chain is not valid"):
        windows.verify(test_pe, ca_file=code_signing.other_ca)


@needs_osslsigncode
def test_unsigned_or_badly_asked_signing_is_refused(
    test_pe: Path, code_signing: CodeSigning
) -> None:
    with pytest.raises(SigningError, match="not signed"):
        windows.verify(test_pe, ca_file=code_signing.ca)
    key = windows.WindowsKey(pkcs12=code_signing.p12, password_file=code_signing.password_file)
    with pytest.raises(SigningError, match="timestamp"):
        windows.sign(test_pe, key)  # neither a timestamp server nor --no-timestamp
    wrong = windows.WindowsKey(pkcs12=code_signing.p12, password="not-the-password")
    with pytest.raises(SigningError, match="could not sign"):
        windows.sign(test_pe, wrong, no_timestamp=True)
    assert test_pe.read_bytes()[:2] == b"MZ"  # a failed signing leaves the file as it was


def test_signing_commands_use_sha256_timestamps_and_a_token_when_asked() -> None:
    if shutil.which("osslsigncode") is None:
        pytest.skip("osslsigncode is needed; scripts/bootstrap installs it")
    token = windows.WindowsKey(
        pkcs11_key="pkcs11:token=Lifeline;object=codesign",
        pkcs11_module=Path("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"),
        certs=Path("chain.pem"),
        password="1234",
    )
    command = windows.sign_command(
        Path("in.exe"), Path("out.exe"), token, description="Lifeline", url=None,
        timestamp_urls=["http://timestamp.example", "http://backup.example"],
    )  # fmt: skip
    joined = " ".join(command)
    assert "-h sha256" in joined and "-readpass -" in joined
    assert "-pkcs11module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so" in joined
    assert "-key pkcs11:token=Lifeline;object=codesign" in joined
    assert "-ts http://timestamp.example -ts http://backup.example" in joined
    assert "1234" not in command  # the PIN goes on stdin, never on the command line
    with pytest.raises(SigningError):
        windows.WindowsKey().arguments()
    with pytest.raises(SigningError):
        windows.WindowsKey(pkcs11_key="pkcs11:object=x").arguments()


# ---- Linux ------------------------------------------------------------------------------


@pytest.fixture
def minisign_key(tmp_path: Path) -> tuple[Path, Path, str]:
    """A key pair without a password (the password path is tested once, below: each use
    of a protected key costs seconds of scrypt)."""
    secret, public = tmp_path / "test.key", tmp_path / "test.pub"
    text = linux.generate_key(secret, public)
    return secret, public, text


@needs_minisign
def test_a_linux_signature_verifies_and_fails_after_tampering(
    tmp_path: Path, minisign_key: tuple[Path, Path, str]
) -> None:
    secret, public, text = minisign_key
    build = tmp_path / "lifeline-applet-linux"
    build.write_bytes(bytes(range(256)) * 4096)
    signature = linux.sign(build, secret, trusted_comment="lifeline-applet-linux 0.1.0")
    assert signature == tmp_path / "lifeline-applet-linux.minisig"
    assert linux.verify(build, public_key=public).trusted_comment == "lifeline-applet-linux 0.1.0"
    assert linux.verify(build, public_key_text=text).trusted_comment.startswith("lifeline")
    renamed = tmp_path / "Lifeline-482"
    shutil.copyfile(build, renamed)
    linux.verify(renamed, public_key=public, signature=signature)
    flip_byte(build, 123_456)
    with pytest.raises(SigningError, match="does not match"):
        linux.verify(build, public_key=public)


@needs_minisign
def test_another_key_does_not_pass(tmp_path: Path, minisign_key: tuple[Path, Path, str]) -> None:
    secret, _, _ = minisign_key
    other_secret, other_public = tmp_path / "other.key", tmp_path / "other.pub"
    linux.generate_key(other_secret, other_public)
    build = tmp_path / "build"
    build.write_bytes(b"x" * 1000)
    linux.sign(build, secret, trusted_comment="build")
    with pytest.raises(SigningError, match="does not match"):
        linux.verify(build, public_key=other_public)
    with pytest.raises(SigningError, match="one line"):
        linux.sign(build, secret, trusted_comment="two\nlines")


@needs_minisign
def test_the_command_line_signs_with_a_protected_key_and_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret, public = tmp_path / "protected.key", tmp_path / "protected.pub"
    monkeypatch.setenv(cli.PASSWORD_VARIABLE, PASSWORD)
    assert (
        cli.main(["linux", "keygen", "--secret-key", str(secret), "--public-key", str(public)]) == 0
    )
    assert "minisign encrypted secret key" in secret.read_text().splitlines()[0]
    build = tmp_path / "lifeline-converter"
    build.write_bytes(b"converter" * 100)
    assert cli.main(["linux", "sign", str(build), "--key", str(secret)]) == 0
    assert cli.main(["linux", "verify", str(build), "--public-key", str(public)]) == 0
    assert "good signature (lifeline-converter 0." in capsys.readouterr().out
    build.write_bytes(b"changed")
    assert cli.main(["linux", "verify", str(build), "--public-key", str(public)]) == 1
    assert "does not match" in capsys.readouterr().err
    monkeypatch.delenv(cli.PASSWORD_VARIABLE)
    assert cli.main(["linux", "sign", str(build), "--key", str(secret)]) == 1  # no password


# ---- macOS (command lines only: no Mac here) --------------------------------------------


def test_a_mac_app_is_signed_inside_out_with_the_hardened_runtime(tmp_path: Path) -> None:
    app = tmp_path / "Lifeline.app"
    (app / "Contents" / "MacOS").mkdir(parents=True)
    (app / "Contents" / "Frameworks" / "PySide6" / "Qt" / "lib").mkdir(parents=True)
    macho = b"\xcf\xfa\xed\xfe" + bytes(60)
    (app / "Contents" / "MacOS" / "lifeline-applet").write_bytes(macho)
    deep = app / "Contents" / "Frameworks" / "PySide6" / "Qt" / "lib" / "QtCore"
    deep.write_bytes(macho)
    (app / "Contents" / "Info.plist").write_text("<plist/>")
    commands = macos.codesign_commands(app, "Developer ID Application: Test (TEAM123456)")
    targets = [Path(c[-1]) for c in commands]
    assert targets == [deep, app / "Contents" / "MacOS" / "lifeline-applet", app]
    assert all("--options" in c and "runtime" in c and "--timestamp" in c for c in commands)
    dmg = macos.codesign_commands(tmp_path / "Lifeline.dmg", "Developer ID Application: Test")
    assert "--options" not in dmg[0]
    key = macos.AppleKey(p12_file=Path("id.p12"), p12_password_file=Path("pw"))
    assert macos.rcodesign_command(app, key)[:2] == ["rcodesign", "sign"]
    assert any(c[0] == "spctl" for c in macos.verify_commands(app))
