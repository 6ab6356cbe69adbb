"""English is built in; French (and any later language) comes from ``.qm`` files
compiled from ``applet/translations/*.ts`` (see ``scripts/translations``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
SUPPORTED = ("en", "fr")


def choose_language(requested: str | None) -> str:
    """``--lang`` if given, else the system locale's language when we have it."""
    if requested in SUPPORTED:
        return requested
    system = QLocale.system().name().split("_")[0]
    return system if system in SUPPORTED else "en"


def install(app: QCoreApplication, requested: str | None) -> str:
    """Installs the translators for the chosen language; returns it."""
    lang = choose_language(requested)
    if lang == "en":
        return lang
    ours = QTranslator(app)
    if ours.load(str(TRANSLATIONS / f"lifeline_{lang}.qm")):
        app.installTranslator(ours)
    # Qt's own strings (standard buttons, context menus) in the same language.
    qt = QTranslator(app)
    if qt.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
    QLocale.setDefault(QLocale(lang))
    return lang
