"""French is complete, compiled, and chosen by --lang or the system locale."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from pytestqt.qtbot import QtBot

from applet import macos_permissions
from applet.publisher import Publisher
from applet.ui import translation, wording
from applet.ui.publisher_label import PublisherLabel
from applet.ui.session_window import SessionWindow

TS = translation.TRANSLATIONS / "lifeline_fr.ts"


def test_every_string_is_translated_with_the_same_placeholders() -> None:
    for message in ET.parse(TS).iter("message"):
        source = message.findtext("source") or ""
        node = message.find("translation")
        assert node is not None and node.get("type") is None, f"unfinished: {source!r}"
        names = set(re.findall(r"\{(\w+)\}", source))
        assert set(re.findall(r"\{(\w+)\}", node.text or "")) == names, source


def test_the_compiled_file_matches_the_source(tmp_path: Path) -> None:
    lrelease = shutil.which("pyside6-lrelease")
    assert lrelease, "pyside6-lrelease comes with PySide6"
    out = tmp_path / "fr.qm"
    subprocess.run([lrelease, "-silent", str(TS), "-qm", str(out)], check=True)
    assert out.read_bytes() == TS.with_suffix(".qm").read_bytes(), "run ./scripts/translations"


def test_lang_fr_translates_the_windows(qtbot: QtBot) -> None:
    app = QCoreApplication.instance()
    assert app is not None
    before = set(app.findChildren(translation.QTranslator))
    try:
        assert translation.install(app, "fr") == "fr"
        window = SessionWindow("Ctrl+Alt+Pause")
        qtbot.addWidget(window)
        window.joined("Alice", "123456")
        assert window.status.text() == "Alice a rejoint la session"
        assert window.end_button.text() == "&Terminer la session"
        label = PublisherLabel()
        qtbot.addWidget(label)
        label.show_publisher(Publisher("Example SARL", "Windows"))
        assert label.text() == "✔ Publié par Example SARL (vérifié par Windows)"
        assert wording.inactivity_notice(900).startswith(
            "La session s’est terminée car il ne s’est rien passé pendant 15 min."
        )
        assert "Enregistrement de l’écran" in wording.macos_help(
            macos_permissions.SCREEN_RECORDING_HELP
        )
        assert "Accessibilité" in wording.macos_help(macos_permissions.ACCESSIBILITY_HELP)
    finally:
        for t in set(app.findChildren(translation.QTranslator)) - before:
            app.removeTranslator(t)
        QLocale.setDefault(QLocale("en"))


@pytest.mark.parametrize(
    ("requested", "system", "chosen"),
    [
        ("fr", "en_US", "fr"),
        (None, "fr_CA", "fr"),
        (None, "de_DE", "en"),
        ("en", "fr_FR", "en"),
    ],
)
def test_the_language_is_lang_else_the_system_locale(
    monkeypatch: pytest.MonkeyPatch, requested: str | None, system: str, chosen: str
) -> None:
    monkeypatch.setattr(translation.QLocale, "system", staticmethod(lambda: QLocale(system)))
    assert translation.choose_language(requested) == chosen


def test_the_macos_help_is_translated_from_its_one_english_text() -> None:
    # wording repeats macos_permissions' texts for lupdate: a change to one must reach both.
    assert wording._MACOS_HELP
    for english, marked in wording._MACOS_HELP.items():
        assert marked == english
    assert set(wording._MACOS_HELP) == {
        macos_permissions.SCREEN_RECORDING_HELP,
        macos_permissions.ACCESSIBILITY_HELP,
    }
    assert wording.inactivity_notice(20).startswith(
        "The session ended because nothing happened for 1 min."
    )
