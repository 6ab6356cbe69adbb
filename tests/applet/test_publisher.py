"""Who published the applet: read from a real Authenticode-signed program (a test PE
cross-compiled with mingw-w64 and signed with osslsigncode at test time). The operating
systems' own checks, WinVerifyTrust and codesign, cannot run on Linux: the tests give
their answers, and check that nothing is shown without the system's word."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

import pytest

from applet import publisher
from applet.publisher import Publisher, authenticode_signature, macos_publisher, windows_publisher
from common.crypto.code_signer import code_signing_subject
from signing import windows
from tests.packaging.keys import compile_test_pe, make_code_signing, needs_osslsigncode


@pytest.fixture(scope="module")
def signed_pe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("publisher")
    keys = make_code_signing(folder)
    program = compile_test_pe(folder)
    key = windows.WindowsKey(pkcs12=keys.p12, password_file=keys.password_file)
    windows.sign(program, key, description="Lifeline test", no_timestamp=True)
    return program


@needs_osslsigncode
def test_the_publisher_is_the_signatures_code_signing_certificate(signed_pe: Path) -> None:
    with signed_pe.open("rb") as f:
        signature = authenticode_signature(f)
    assert signature is not None
    # The chain holds the test root too: the name is the code-signing leaf's.
    assert code_signing_subject(signature) == "Lifeline Test Publisher"
    assert windows_publisher(signed_pe, trusts=lambda _: True) == Publisher(
        "Lifeline Test Publisher", "Windows"
    )


@needs_osslsigncode
def test_nothing_is_shown_unless_windows_trusts_the_file(signed_pe: Path) -> None:
    asked: list[Path] = []
    assert windows_publisher(signed_pe, trusts=lambda p: asked.append(p) is not None) is None
    assert asked == [signed_pe]


def test_an_unsigned_program_has_no_publisher(tmp_path: Path) -> None:
    program = compile_test_pe(tmp_path)
    with program.open("rb") as f:
        assert authenticode_signature(f) is None
    assert windows_publisher(program, trusts=lambda _: True) is None


def _with_security_directory(pe: bytes, offset: int, size: int) -> bytes:
    """``pe`` with its certificate table entry pointing at ``offset``/``size``."""
    (header,) = struct.unpack_from("<I", pe, 0x3C)
    optional = header + 24
    (magic,) = struct.unpack_from("<H", pe, optional)
    entry = optional + (96 if magic == 0x10B else 112) + 8 * 4
    out = bytearray(pe)
    struct.pack_into("<II", out, entry, offset, size)
    return bytes(out)


@needs_osslsigncode
def test_hostile_programs_give_no_publisher_and_read_nothing_large(signed_pe: Path) -> None:
    pe = signed_pe.read_bytes()
    (header,) = struct.unpack_from("<I", pe, 0x3C)
    cases = {
        "empty": b"",
        "not a PE": b"\x7fELF" + bytes(100),
        "header offset past the end": pe[:0x3C] + struct.pack("<I", len(pe) + 10) + pe[0x40:],
        "header offset huge": pe[:0x3C] + struct.pack("<I", 0xFFFFFFF0) + pe[0x40:],
        "table past the end": _with_security_directory(pe, len(pe) - 4, 4096),
        "table of 2 GiB": _with_security_directory(pe, len(pe) - 4096, 0x7FFFFFFF),
        "table inside the headers": _with_security_directory(pe, header, 64),
        "cut in the table": pe[: len(pe) - 100],
        "cut in the headers": pe[: header + 30],
    }
    for name, data in cases.items():
        assert authenticode_signature(io.BytesIO(data)) is None, name


def test_garbage_signatures_have_no_publisher() -> None:
    for data in (b"", b"\x30\x03\x02\x01\x01", bytes(300_000), b"\x30\x82" + bytes(1000)):
        assert code_signing_subject(data) is None


CODESIGN_DETAILS = """Executable=/Applications/Lifeline.app/Contents/MacOS/lifeline-applet
Identifier=org.lifeline.applet
Format=app bundle with Mach-O thin (arm64)
CodeDirectory v=20500 size=1234 flags=0x10000(runtime) hashes=28+7 location=embedded
Signature size=9000
Authority=Developer ID Application: Example Help Desk Ltd (AB12CD34EF)
Authority=Developer ID Certification Authority
Authority=Apple Root CA
Timestamp=23 Nov 2026 at 10:00:00
TeamIdentifier=AB12CD34EF
"""


def test_macos_names_the_developer_id_only_when_codesign_accepts_the_app() -> None:
    program = Path("/Applications/Lifeline.app/Contents/MacOS/lifeline-applet")
    calls: list[list[str]] = []

    def codesign(ok: bool):  # the answers of /usr/bin/codesign on a Mac
        def run(args: list[str]) -> subprocess.CompletedProcess[str]:
            calls.append(args)
            return subprocess.CompletedProcess(args, 0 if ok else 1, "", CODESIGN_DETAILS)

        return run

    assert macos_publisher(program, codesign(True)) == Publisher("Example Help Desk Ltd", "macOS")
    assert calls[0] == ["--verify", "--strict", "/Applications/Lifeline.app"]
    calls.clear()
    assert macos_publisher(program, codesign(False)) is None
    assert len(calls) == 1


def test_a_python_run_has_no_publisher(tmp_path: Path) -> None:
    assert publisher.find(tmp_path / "lifeline-applet.exe", platform="win32") is None
