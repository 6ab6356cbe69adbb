"""The line at the foot of the applet's windows naming who published this copy."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from applet.publisher import Publisher


class PublisherLabel(QLabel):
    """Hidden until the operating system has vouched for the publisher
    (:func:`applet.publisher.find`); then "✔ Published by Example Ltd (checked by
    Windows)"."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("publisher")
        self.setWordWrap(True)
        self.hide()

    def show_publisher(self, publisher: Publisher) -> None:
        self.setText(
            "✔ "
            + self.tr("Published by {name} (checked by {system})").format(
                name=publisher.name, system=publisher.checked_by
            )
        )
        self.setToolTip(
            self.tr(
                "{system} checked the digital signature of this program: it is the copy "
                "{name} published, unchanged."
            ).format(name=publisher.name, system=publisher.checked_by)
        )
        self.show()
