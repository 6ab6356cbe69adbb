"""How the windows name each action, translated (``lupdate`` reads these tables)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from applet import macos_permissions
from applet.consent import Action

_CONTEXT = "Wording"

#: "<technician> wants to …"
_WANTS = {
    Action.VIEW_SCREEN: QT_TRANSLATE_NOOP("Wording", "see your screen"),
    Action.REMOTE_CONTROL: QT_TRANSLATE_NOOP(
        "Wording", "see your screen and control your mouse and keyboard"
    ),
    Action.FILE_MANAGER: QT_TRANSLATE_NOOP("Wording", "browse and transfer your files"),
    Action.SYSTEM_INFO: QT_TRANSLATE_NOOP("Wording", "see information about this computer"),
    Action.CLIPBOARD_SYNC: QT_TRANSLATE_NOOP("Wording", "share your clipboard"),
}
#: A line of the status panel: what is granted right now.
_GRANTED = {
    Action.VIEW_SCREEN: QT_TRANSLATE_NOOP("Wording", "See your screen"),
    Action.REMOTE_CONTROL: QT_TRANSLATE_NOOP("Wording", "Control your mouse and keyboard"),
    Action.FILE_MANAGER: QT_TRANSLATE_NOOP("Wording", "Browse and transfer your files"),
    Action.SYSTEM_INFO: QT_TRANSLATE_NOOP("Wording", "See information about this computer"),
    Action.CLIPBOARD_SYNC: QT_TRANSLATE_NOOP("Wording", "Share your clipboard"),
}

#: File sizes, each a thousand times the one before.
_UNITS = (
    QT_TRANSLATE_NOOP("Wording", "{n} KB"),
    QT_TRANSLATE_NOOP("Wording", "{n} MB"),
    QT_TRANSLATE_NOOP("Wording", "{n} GB"),
    QT_TRANSLATE_NOOP("Wording", "{n} TB"),
)

# The help of applet/macos_permissions.py (Qt-free), repeated here for lupdate, which
# reads only applet/ui; tests/applet/ui/test_translation.py keeps both the same.
_MACOS_HELP = {
    macos_permissions.SCREEN_RECORDING_HELP: QT_TRANSLATE_NOOP(
        "Wording",
        "To let your technician see your screen, open System Settings → Privacy & Security → "
        "Screen Recording, turn on Lifeline, then quit Lifeline and open it again.",
    ),
    macos_permissions.ACCESSIBILITY_HELP: QT_TRANSLATE_NOOP(
        "Wording",
        "To let your technician use your mouse and keyboard, open System Settings → Privacy & "
        "Security → Accessibility, turn on Lifeline, then quit Lifeline and open it again.",
    ),
}


def wants(action: Action) -> str:
    return QCoreApplication.translate(_CONTEXT, str(_WANTS[action]))


def granted(action: Action) -> str:
    return QCoreApplication.translate(_CONTEXT, str(_GRANTED[action]))


def question_text(technician: str, actions: tuple[Action, ...]) -> str:
    """The question a prompt asks, naming the technician and every action it covers."""
    if len(actions) == 1:
        return QCoreApplication.translate("Wording", "{technician} wants to {action}.").format(
            technician=technician, action=wants(actions[0])
        )
    listed = "".join(f"\n • {wants(a)}" for a in actions)
    return (
        QCoreApplication.translate(
            "Wording",
            "{technician} asks for permission to do all of this for the rest of the session:",
        ).format(technician=technician)
        + listed
    )


def inactivity_notice(after: float) -> str:
    """What the person reads when the session ended by itself after ``after`` seconds
    without activity (rounded to whole minutes, at least one)."""
    return QCoreApplication.translate(
        "Wording",
        "The session ended because nothing happened for {minutes} min. Your technician can "
        "no longer see or control this computer. If you still need help, ask them for a "
        "new code.",
    ).format(minutes=max(1, round(after / 60)))


def file_transferred(direction: str, name: str, size: int, folder: str) -> str:
    """A line of the chat window: a file went to the technician (``download``) or
    came from them (``upload``, saved in ``folder``)."""
    if direction == "download":
        text = QCoreApplication.translate(
            "Wording", "Your technician copied {name} ({size}) from this computer."
        )
    else:
        text = QCoreApplication.translate(
            "Wording", "Your technician put {name} ({size}) on this computer, in {folder}."
        )
    return text.format(name=name, size=file_size(size), folder=folder)


def file_size(size: int) -> str:
    """``1536`` → ``1.5 KB`` (``1,5 Ko`` in French): sizes as people read them."""
    if size < 1000:
        return QCoreApplication.translate("Wording", "{n} bytes").format(n=size)
    value, unit = float(size), 0
    while value >= 1000 and unit < len(_UNITS):
        value /= 1000
        unit += 1
    number = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    #: The decimal separator: "," in French.
    if QCoreApplication.translate("Wording", ".") == ",":
        number = number.replace(".", ",")
    return QCoreApplication.translate(_CONTEXT, str(_UNITS[unit - 1])).format(n=number)


def macos_help(text: str) -> str:
    """One of :mod:`applet.macos_permissions`' help texts, translated."""
    return QCoreApplication.translate(_CONTEXT, str(_MACOS_HELP.get(text, text)))


def grouped_digits(digits: str) -> str:
    """``482193076`` → ``482 193 076``: how people read codes aloud."""
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
