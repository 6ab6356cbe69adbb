"""Who published this copy of the applet, as the operating system vouches for it.

The windows show "Published by Example Ltd (checked by Windows)" so that a person can
tell the program they double-clicked is their help desk's. The name is shown only when
the operating system itself has checked the signature:

* **Windows**: ``WinVerifyTrust`` (the check Explorer's "Digital Signatures" tab and
  SmartScreen make) must accept the file; the name is then read from the Authenticode
  signature's code-signing certificate (:mod:`common.crypto.code_signer`).
* **macOS**: ``codesign --verify --strict`` on the app must pass; the name is the first
  ``Authority`` line of ``codesign -dvv`` (``Developer ID Application: Example Ltd
  (TEAM)`` → ``Example Ltd``).
* **Linux** has no such check when a program starts (the ``.minisig`` beside a download
  is for people who verify by hand, docs/packaging.md), and a Python run has no
  signature: nothing is shown.

Tested here: the PE parsing on a test program cross-compiled and Authenticode-signed at
test time. ``WinVerifyTrust`` and ``codesign`` cannot run on this Linux machine; their
calls follow Microsoft's and Apple's documentation and the tests replace them.
"""

from __future__ import annotations

import logging
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from common.crypto.code_signer import MAX_SIGNATURE, code_signing_subject

log = logging.getLogger("lifeline.applet.publisher")

#: Where a PE's header starts is given at 0x3C; real ones are within the first KB.
MAX_PE_HEADER_OFFSET = 64 * 1024
_PE32, _PE32_PLUS = 0x10B, 0x20B
_SECURITY_DIRECTORY = 4
_WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002


@dataclass(frozen=True)
class Publisher:
    name: str
    #: The system that checked the signature: "Windows" or "macOS".
    checked_by: str


def authenticode_signature(f: BinaryIO) -> bytes | None:
    """The PKCS#7 SignedData in a PE file's certificate table, or None when the file is
    not a PE, is unsigned, or its table is malformed or too large. Reads only the
    headers and the table; every offset and length is bounded by the file first."""
    f.seek(0, 2)
    size = f.tell()

    def read(offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > size:
            raise ValueError("out of the file")
        f.seek(offset)
        data = f.read(length)
        if len(data) != length:
            raise ValueError("short read")
        return data

    try:
        if read(0, 2) != b"MZ":
            return None
        (pe,) = struct.unpack("<I", read(0x3C, 4))
        if pe > MAX_PE_HEADER_OFFSET or read(pe, 4) != b"PE\0\0":
            return None
        (optional_size,) = struct.unpack("<H", read(pe + 20, 2))
        optional = pe + 24
        (magic,) = struct.unpack("<H", read(optional, 2))
        if magic == _PE32:
            count_at, directories = 92, 96
        elif magic == _PE32_PLUS:
            count_at, directories = 108, 112
        else:
            return None
        (count,) = struct.unpack("<I", read(optional + count_at, 4))
        entry = directories + 8 * _SECURITY_DIRECTORY
        if count <= _SECURITY_DIRECTORY or entry + 8 > optional_size:
            return None
        # The security directory's "address" is a file offset, not an RVA.
        table, table_size = struct.unpack("<II", read(optional + entry, 8))
        if table == 0 or table_size < 8 or table_size > MAX_SIGNATURE + 8:
            return None
        length, _revision, kind = struct.unpack("<IHH", read(table, 8))
        if kind != _WIN_CERT_TYPE_PKCS_SIGNED_DATA or not 8 < length <= table_size:
            return None
        return read(table + 8, length - 8)
    except (ValueError, struct.error):
        return None


def windows_publisher(program: Path, trusts: Callable[[Path], bool]) -> Publisher | None:
    if not trusts(program):
        log.info("Windows does not trust the signature of %s: no publisher shown", program)
        return None
    with program.open("rb") as f:
        signature = authenticode_signature(f)
    name = code_signing_subject(signature) if signature else None
    return Publisher(name, "Windows") if name else None


def _win_verify_trust(program: Path) -> bool:  # pragma: no cover - Windows only
    """``WinVerifyTrust`` with the generic Authenticode policy, no UI, and no network
    fetch for revocation (a person waiting for help should not wait for a CRL)."""
    import ctypes
    from ctypes import wintypes

    class Guid(ctypes.Structure):
        _fields_ = [
            ("Data1", wintypes.DWORD), ("Data2", wintypes.WORD), ("Data3", wintypes.WORD),
            ("Data4", ctypes.c_ubyte * 8),
        ]  # fmt: skip

    class FileInfo(ctypes.Structure):
        _fields_ = [
            ("cbStruct", wintypes.DWORD), ("pcwszFilePath", wintypes.LPCWSTR),
            ("hFile", wintypes.HANDLE), ("pgKnownSubject", ctypes.c_void_p),
        ]  # fmt: skip

    class TrustData(ctypes.Structure):
        _fields_ = [
            ("cbStruct", wintypes.DWORD), ("pPolicyCallbackData", ctypes.c_void_p),
            ("pSIPClientData", ctypes.c_void_p), ("dwUIChoice", wintypes.DWORD),
            ("fdwRevocationChecks", wintypes.DWORD), ("dwUnionChoice", wintypes.DWORD),
            ("pFile", ctypes.POINTER(FileInfo)), ("dwStateAction", wintypes.DWORD),
            ("hWVTStateData", wintypes.HANDLE), ("pwszURLReference", wintypes.LPCWSTR),
            ("dwProvFlags", wintypes.DWORD), ("dwUIContext", wintypes.DWORD),
            ("pSignatureSettings", ctypes.c_void_p),
        ]  # fmt: skip

    # WINTRUST_ACTION_GENERIC_VERIFY_V2 {00AAC56B-CD44-11d0-8CC2-00C04FC295EE}
    action = Guid(0x00AAC56B, 0xCD44, 0x11D0, (ctypes.c_ubyte * 8)(
        0x8C, 0xC2, 0x00, 0xC0, 0x4F, 0xC2, 0x95, 0xEE
    ))  # fmt: skip
    file_info = FileInfo(ctypes.sizeof(FileInfo), str(program), None, None)
    data = TrustData()
    data.cbStruct = ctypes.sizeof(TrustData)
    data.dwUIChoice = 2  # WTD_UI_NONE
    data.fdwRevocationChecks = 0  # WTD_REVOKE_NONE
    data.dwUnionChoice = 1  # WTD_CHOICE_FILE
    data.pFile = ctypes.pointer(file_info)
    data.dwStateAction = 1  # WTD_STATEACTION_VERIFY
    data.dwProvFlags = 0x1000  # WTD_CACHE_ONLY_URL_RETRIEVAL
    wintrust = ctypes.WinDLL("wintrust")  # type: ignore[attr-defined]
    verify = wintrust.WinVerifyTrust
    verify.argtypes = [wintypes.HWND, ctypes.POINTER(Guid), ctypes.POINTER(TrustData)]
    verify.restype = wintypes.LONG
    status = verify(None, ctypes.byref(action), ctypes.byref(data))
    data.dwStateAction = 2  # WTD_STATEACTION_CLOSE: frees the state
    verify(None, ctypes.byref(action), ctypes.byref(data))
    return bool(status == 0)


def macos_authority(codesign_details: str) -> str | None:
    """The publisher in ``codesign -dvv``'s output (it writes to standard error)."""
    for line in codesign_details.splitlines():
        if line.startswith("Authority="):
            name = line.removeprefix("Authority=").strip()
            for prefix in ("Developer ID Application: ", "Apple Development: "):
                name = name.removeprefix(prefix)
            if name.endswith(")") and " (" in name:  # the team identifier
                name = name[: name.rindex(" (")]
            return name[:128] or None
    return None


def _codesign(args: list[str]) -> subprocess.CompletedProcess[str]:  # pragma: no cover
    return subprocess.run(
        ["/usr/bin/codesign", *args], capture_output=True, text=True, timeout=20, check=False
    )


def macos_publisher(
    program: Path,
    codesign: Callable[[list[str]], subprocess.CompletedProcess[str]] = _codesign,
) -> Publisher | None:
    # Inside an app the executable is Contents/MacOS/<name>; the app is what is signed.
    app = next((p for p in program.parents if p.suffix == ".app"), program)
    if codesign(["--verify", "--strict", str(app)]).returncode != 0:
        log.info("codesign does not accept the signature of %s: no publisher shown", app)
        return None
    name = macos_authority(codesign(["-dvv", str(app)]).stderr)
    return Publisher(name, "macOS") if name else None


def find(program: Path, platform: str = sys.platform) -> Publisher | None:
    """The publisher of ``program`` when the operating system vouches for it, else
    None. Slow (the system hashes the whole file): call it off the GUI thread."""
    if not getattr(sys, "frozen", False):
        return None  # a Python run: nothing was signed
    try:
        if platform == "win32":
            return windows_publisher(program, _win_verify_trust)
        if platform == "darwin":
            return macos_publisher(program)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not check who signed %s: %s", program, exc)
    return None
