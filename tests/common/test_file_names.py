"""Hostile names from the other side: none may leave the chosen folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import FileNameError, LifelineError
from common.files.names import (
    MAX_NAME_BYTES,
    check_component,
    check_name,
    check_parts,
    inside,
    safe_child,
)

HOSTILE = [
    "",
    ".",
    "..",
    "/etc/passwd",
    "/",
    "a/b",
    "../x",
    "a\\b",
    "..\\..\\windows",
    "C:",
    "C:\\Windows",
    "c:evil",
    "\\\\server\\share",
    "//server/share",
    "a\x00b",
    "\x00",
    "tab\there",
    "new\nline",
    "bell\x07",
    "del\x7f",
    "c1\x85",
    "CON",
    "con",
    "Con.txt",
    "PRN",
    "AUX.log",
    "NUL",
    "nul.tar.gz",
    "COM1",
    "com9.txt",
    "LPT1",
    "lpt9.doc",
    "CON .txt",
    "COM¹",
    "trailing.",
    "trailing ",
    "dots...",
    "x" * (MAX_NAME_BYTES + 1),
    "é" * 128,  # 256 bytes of UTF-8 in 128 characters
    "what?",
    "a*b",
    'quote"d',
    "pipe|d",
    "less<more>",
    "stream:$DATA",
]

GOOD = [
    "a",
    "report.txt",
    ".hidden",
    "..double-dot-start",
    "a..b",
    "CONSOLE.txt",
    "COM10",
    "LPT0x",
    "nullable",
    "Résumé – 2024.pdf",
    "日本語のファイル.txt",
    "emoji 🎉.png",
    "x" * MAX_NAME_BYTES,
    "é" * 127,
    " leading space",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused(name: str) -> None:
    with pytest.raises(FileNameError) as info:
        check_name(name)
    assert isinstance(info.value, LifelineError)
    assert str(info.value)  # a reason a person can read


@pytest.mark.parametrize("name", GOOD)
def test_ordinary_names_pass_unchanged(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("value", [None, 3, b"bytes", ["a"]])
def test_a_name_must_be_text(value: object) -> None:
    with pytest.raises(FileNameError):
        check_name(value)


def test_lone_surrogates_are_not_text() -> None:
    with pytest.raises(FileNameError):
        check_name("bad\udcff")


def test_existing_names_only_need_the_structural_check() -> None:
    # A Linux file called "what?" or "a:b" can still be listed and read there…
    assert check_component("what?", windows=False) == "what?"
    assert check_component("a:b", windows=False) == "a:b"
    assert check_component("trailing.", windows=False) == "trailing."
    # …but never a way up or across, and no drive on Windows.
    for name in ("", ".", "..", "a/b", "a\\b", "a\x00"):
        with pytest.raises(FileNameError):
            check_component(name, windows=False)
    with pytest.raises(FileNameError):
        check_component("C:", windows=True)


def test_relative_paths_check_every_component() -> None:
    assert check_parts(["logs", "2024", "a.txt"]) == ["logs", "2024", "a.txt"]
    for parts in ([], ["ok", ".."], ["..", "x"], ["a/b"], ["ok", "CON"], "a/b", None):
        with pytest.raises(FileNameError):
            check_parts(parts)
    with pytest.raises(FileNameError):
        check_parts(["d"] * 65)
    with pytest.raises(FileNameError):
        check_parts(["x" * 200] * 30)  # every name fine, the whole too long


def test_safe_child_joins_inside_the_folder(tmp_path: Path) -> None:
    assert safe_child(tmp_path, "a.txt") == tmp_path / "a.txt"
    assert safe_child(tmp_path, ["sub", "b.txt"]) == tmp_path / "sub" / "b.txt"
    for name in HOSTILE:
        with pytest.raises(FileNameError):
            safe_child(tmp_path, name)


def test_a_link_pointing_outside_is_refused(tmp_path: Path) -> None:
    folder, outside = tmp_path / "dest", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    (folder / "out").symlink_to(outside)
    (folder / "file-out").symlink_to(outside / "victim.txt")
    (folder / "in").symlink_to(folder / "real")
    (folder / "real").mkdir()
    with pytest.raises(FileNameError, match="outside"):
        safe_child(folder, ["out", "x.txt"])
    with pytest.raises(FileNameError, match="outside"):
        safe_child(folder, "file-out")
    assert safe_child(folder, ["in", "x.txt"]) == folder / "in" / "x.txt"
    assert not (outside / "victim.txt").exists()


def test_inside_follows_the_chosen_folder_through_its_own_links(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert inside(tmp_path / "alias", tmp_path / "alias" / "f") == tmp_path / "real" / "f"
    with pytest.raises(FileNameError):
        inside(tmp_path / "real", tmp_path / "f")


# Names drawn from everything that could be dangerous: separators, dots, colons, control
# characters, device names, and ordinary letters around them.
_ALPHABET = st.sampled_from(
    ["/", "\\", ".", "..", ":", "\x00", "\n", " ", "C", "c", "O", "N", "a", "é", "~", "$", "*"]
)
_NAMES = st.one_of(
    st.text(min_size=0, max_size=40),
    st.lists(_ALPHABET, max_size=12).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(_NAMES, min_size=1, max_size=4))
def test_fuzz_no_accepted_name_resolves_outside(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    folder = tmp_path_factory.getbasetemp() / "fuzz-dest"
    folder.mkdir(exist_ok=True)
    try:
        path = safe_child(folder, parts)
    except FileNameError:
        return
    real = Path(os.path.realpath(path))
    assert Path(os.path.realpath(folder)) in real.parents
    assert all(p not in (".", "..") and "/" not in p and "\\" not in p for p in parts)
