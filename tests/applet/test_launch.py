"""Where the applet's code and broker come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from applet import build_defaults, launch
from applet.launch import LaunchError, code_from_file_name, settings
from common.errors import WrongCode


@pytest.mark.parametrize(
    ("name", "digits"),
    [
        ("Lifeline-482193076.exe", "482193076"),
        ("Lifeline-482-193-076.exe", "482193076"),
        ("Lifeline-482193076 (1).exe", "482193076"),
        ("Lifeline_4821_93076.app", None),  # not grouped by three: not a code
        ("lifeline-1234193076", "1234193076"),
        ("Lifeline-123-419-307-6.exe", "1234193076"),
        ("Lifeline.exe", None),
        ("Lifeline-12345678.exe", None),  # too short to be a code
        ("Lifeline-2026-11-22.exe", None),  # a date is not a code
    ],
)
def test_the_code_comes_from_the_file_name(name: str, digits: str | None) -> None:
    code = code_from_file_name(Path("/downloads") / name)
    assert (code.digits if code else None) == digits


def test_the_command_line_wins(tmp_path: Path) -> None:
    program = tmp_path / "Lifeline-111222333.exe"
    s = settings(["--code", "482-193-076", "--broker", "https://h:1", "--lang", "fr"], program)
    assert s.code is not None and s.code.digits == "482193076"
    assert s.broker.url == "https://h:1" and s.lang == "fr"


def test_a_mistyped_code_on_the_command_line_is_explained(tmp_path: Path) -> None:
    with pytest.raises(WrongCode, match="wrong number of digits"):
        settings(["--code", "12345", "--broker", "https://h:1"], tmp_path / "x")


def test_the_broker_comes_from_the_file_next_to_the_program(tmp_path: Path) -> None:
    (tmp_path / launch.BROKER_FILE).write_text(
        json.dumps({"url": "https://support.example.com", "ca_fingerprint": "ab" * 32})
    )
    s = settings([], tmp_path / "Lifeline-482193076.exe")
    assert s.broker.url == "https://support.example.com"
    assert s.broker.ca_fingerprint == "ab" * 32
    assert s.code is not None and s.code.digits == "482193076"


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"no_url": 1}',
        b'{"url": 5}',
        b'["https://x"]',
        b'{"url": "https://x", "ca_fingerprint": "zz"}',
        b'{"url": "' + b"a" * (launch.MAX_BROKER_FILE + 1) + b'"}',
    ],
)
def test_a_broken_broker_file_is_explained(tmp_path: Path, content: bytes) -> None:
    (tmp_path / launch.BROKER_FILE).write_bytes(content)
    with pytest.raises(LaunchError, match="Lifeline server setting"):
        settings([], tmp_path / "Lifeline.exe")


def test_no_broker_anywhere_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_defaults, "BROKER_URL", None)
    with pytest.raises(LaunchError, match="new download link"):
        settings([], tmp_path / "Lifeline.exe")


def test_the_build_default_is_the_last_resort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_defaults, "BROKER_URL", "https://built-in.example")
    assert settings([], tmp_path / "Lifeline.exe").broker.url == "https://built-in.example"


def test_a_nameplate_only_download_prefills_the_entry_window(tmp_path: Path) -> None:
    s = settings(["--broker", "https://h:1"], tmp_path / "Lifeline-482 (2).exe")
    assert s.code is None and s.prefill == "482"
    s = settings(["--broker", "https://h:1"], tmp_path / "Lifeline-482193076.exe")
    assert s.code is not None and s.prefill == ""
