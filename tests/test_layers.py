"""The pure parts of common/ never import Qt, sockets, asyncio or GUI/capture libraries,
and only common/crypto imports crypto libraries."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_PURE = {
    "PySide6",
    "asyncio",
    "socket",
    "ssl",
    "aiohttp",
    "websockets",
    "mss",
    "pynput",
    "selectors",
}
CRYPTO_LIBS = {"cryptography", "spake2", "nacl"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def python_files(*parts: str) -> list[Path]:
    return sorted((ROOT.joinpath(*parts)).rglob("*.py"))


def test_pure_common_has_no_io_imports() -> None:
    offenders = {}
    for path in python_files("common"):
        if "transport" in path.relative_to(ROOT / "common").parts:
            continue
        bad = imported_modules(path) & FORBIDDEN_IN_PURE
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_transport_never_imports_qt() -> None:
    for path in python_files("common", "transport"):
        assert "PySide6" not in imported_modules(path), path


def test_only_common_crypto_imports_crypto_libraries() -> None:
    offenders = {}
    for top in ("common", "broker", "applet", "console"):
        for path in python_files(top):
            if "crypto" in path.relative_to(ROOT).parts[:2]:
                continue
            bad = imported_modules(path) & CRYPTO_LIBS
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_check_is_not_vacuous(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import asyncio\nfrom PySide6 import QtCore\nfrom . import y\n")
    assert imported_modules(sample) == {"asyncio", "PySide6"}
