"""The sign-in window: server address, e-mail and password; the authenticator code and
a new password (with a strength meter) appear only when the broker asks for them. It
reports a :class:`~console.sign_in.SignInForm` through :attr:`LoginWindow.submitted` and
shows a :class:`~console.sign_in.SignInFailed` as written; it never stores the password."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.settings import ConsoleSettings
from console.sign_in import Problem, SignInFailed, SignInForm
from console.ui.password_meter import PasswordMeter


class LoginWindow(QWidget):
    submitted = Signal(object)  # SignInForm

    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("Lifeline — sign in"))
        title = QLabel(self.tr("Sign in to Lifeline"))
        title.setObjectName("title")
        self.server = QLineEdit(settings.broker_url)
        self.server.setPlaceholderText("https://support.example.com:8443")
        self.fingerprint = QLineEdit(settings.ca_fingerprint)
        self.fingerprint.setPlaceholderText(self.tr("only for a self-hosted server"))
        self.email = QLineEdit(settings.email)
        self.email.setPlaceholderText("name@example.com")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.totp = QLineEdit()
        self.totp.setPlaceholderText(self.tr("6 digits from your authenticator app"))
        self.totp.setMaxLength(8)
        self.new_password = QLineEdit()
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_password = QLineEdit()
        self.repeat_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.meter = PasswordMeter()
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.button = QPushButton(self.tr("Sign in"))
        self.button.setObjectName("primary")
        self.button.setDefault(True)

        self.form = QFormLayout()
        self.form.addRow(self.tr("Server"), self.server)
        self.form.addRow(self.tr("Certificate fingerprint"), self.fingerprint)
        self.form.addRow(self.tr("E-mail"), self.email)
        self.form.addRow(self.tr("Password"), self.password)
        self.form.addRow(self.tr("Authenticator code"), self.totp)
        self.form.addRow(self.tr("New password"), self.new_password)
        self.form.addRow(self.tr("Strength"), self.meter)
        self.form.addRow(self.tr("Repeat new password"), self.repeat_password)
        for field in (self.totp, self.new_password, self.meter, self.repeat_password):
            self.form.setRowVisible(field, False)

        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(28, 24, 28, 24)
        self._layout.setSpacing(12)
        self._layout.addWidget(title)
        self._layout.addLayout(self.form)
        self._layout.addWidget(self.error)
        self._layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignRight)
        self.setMinimumWidth(480)
        self._connect_signals()
        (
            self.password
            if settings.email
            else self.server
            if not settings.broker_url
            else self.email
        ).setFocus()

    def _connect_signals(self) -> None:
        self.button.clicked.connect(self._submit)
        self.new_password.textChanged.connect(self._new_password_typed)
        self.meter.estimated.connect(self._fit)
        for field in (
            self.server,
            self.fingerprint,
            self.email,
            self.password,
            self.totp,
            self.new_password,
            self.repeat_password,
        ):
            field.returnPressed.connect(self._submit)

    def _new_password_typed(self, text: str) -> None:
        self.meter.set_password(text, self.email.text())

    def _submit(self) -> None:
        if not self.button.isEnabled():
            return
        changing = self.form.isRowVisible(self.new_password)
        if changing and self.new_password.text() != self.repeat_password.text():
            self._show_error(self.tr("The two new passwords are not the same."))
            self.repeat_password.setFocus()
            return
        if changing and not self.new_password.text():
            self._show_error(self.tr("Choose a new password."))
            self.new_password.setFocus()
            return
        self.error.hide()
        self.set_busy(True)
        self.submitted.emit(
            SignInForm(
                broker_url=self.server.text(),
                email=self.email.text(),
                password=self.password.text(),
                totp=self.totp.text() if self.form.isRowVisible(self.totp) else "",
                new_password=self.new_password.text() if changing else "",
                ca_fingerprint=self.fingerprint.text(),
            )
        )

    def set_busy(self, busy: bool) -> None:
        self.button.setEnabled(not busy)
        self.button.setText(self.tr("Signing in…") if busy else self.tr("Sign in"))

    def show_failure(self, failed: SignInFailed) -> None:
        """Shows what went wrong and brings forward the field that fixes it."""
        self.set_busy(False)
        self._show_error(failed.message)
        if failed.problem in (Problem.TOTP_REQUIRED, Problem.TOTP_WRONG):
            self.form.setRowVisible(self.totp, True)
            self.totp.clear()
            self.totp.setFocus()
        elif failed.problem in (Problem.PASSWORD_CHANGE, Problem.WEAK_PASSWORD):
            for field in (self.new_password, self.meter, self.repeat_password):
                self.form.setRowVisible(field, True)
            self.new_password.setFocus()
            self.new_password.selectAll()
        elif failed.problem == Problem.WRONG_PASSWORD:
            self.password.setFocus()
            self.password.selectAll()
        elif failed.problem in (Problem.BAD_ADDRESS, Problem.UNREACHABLE, Problem.CERTIFICATE):
            self.server.setFocus()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self._fit()

    def _fit(self) -> None:
        """Grows the window to its wrapped texts (a window does not by itself)."""
        self._layout.activate()
        needed = self._layout.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)
