"""How the windows name each action, translated (``lupdate`` reads these tables)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

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


def grouped_digits(digits: str) -> str:
    """``482193076`` → ``482 193 076``: how people read codes aloud."""
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
