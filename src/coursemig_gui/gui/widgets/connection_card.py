"""One database's connection: paste a string or fill the fields, then test it in the worker."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from coursemig_gui.core import tls
from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.gui.signals import emit
from coursemig_gui.gui.state import ConnectionCheck
from coursemig_gui.gui.widgets.banner import Level, MessageBanner
from coursemig_gui.gui.worker import Worker

# The Security box: item data is a key into these choices. New connections are offered
# tls.CHOICES; an older setting (allow, prefer, verify-ca) is added when one is loaded.
SECURITY = {
    "verify": tls.VERIFY,
    "verify-file": tls.VERIFY_FILE,
    "encrypt": tls.ENCRYPT_ONLY,
    "none": tls.NO_ENCRYPTION,
    **tls.OLDER,
}
_KEY = {id(choice): key for key, choice in SECURITY.items()}
# settings kept exactly as pasted (or as a profile has them), though the card shows no field
_KEPT = ("channel_binding", "require_auth", "sslcert", "sslkey", "sslcrl")


class ConnectionCard(QGroupBox):
    """Fields for one connection, a Test button, and the result line under it."""

    changed = Signal()  # any field edited: an earlier test no longer counts
    tested = Signal(object)  # ConnectionCheck
    test_failed = Signal(object)  # FriendlyError
    password_choice_failed = Signal(object)  # FriendlyError: the password was not kept/removed

    def __init__(self, title: str, role: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.role = role  # "source" or "target": what pre-flight checks for
        self.check: ConnectionCheck | None = None
        self._fields_version = 0
        self._worker: Worker | None = None
        self._loading = False
        self._sslrootcert = ""  # "system" or a file kept from a pasted string (not shown)
        self._kept: dict[str, str] = {}
        self._security_chosen = False  # chosen or loaded: a host edit no longer moves it

        self.paste_button = QPushButton(
            "&Paste connection string…" if role == "source" else "Pa&ste connection string…"
        )
        self.paste_button.setToolTip(
            "From the Azure portal (Connection strings) or your Django DATABASE_URL"
        )
        self.paste_button.clicked.connect(self.ask_connection_string)
        self.host = QLineEdit()
        self.host.setPlaceholderText("e.g. c-mycluster.abc123.postgres.cosmos.azure.com")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.port.setGroupSeparatorShown(False)
        self.dbname = QLineEdit()
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_password = QAction(self)
        self.show_password.setCheckable(True)
        self.show_password.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogContentsView)
        )
        self.show_password.setToolTip("Show the password")
        self.show_password.toggled.connect(self._toggle_password)
        self.password.addAction(self.show_password, QLineEdit.ActionPosition.TrailingPosition)
        self.security = QComboBox()
        for choice in tls.CHOICES:
            self.security.addItem(choice.label, _KEY[id(choice)])
        self.security_note = QLabel()
        self.security_note.setWordWrap(True)
        self.security_note.setEnabled(False)  # greyed: it explains, it is not a control
        self.certificate = QLineEdit()
        self.certificate.setPlaceholderText("The certificate authority's file (.pem or .crt)")
        self.certificate_button = QPushButton("Browse…")
        self.certificate_button.clicked.connect(self._choose_certificate)
        certificate_row = QHBoxLayout()
        certificate_row.setContentsMargins(0, 0, 0, 0)
        certificate_row.addWidget(self.certificate, 1)
        certificate_row.addWidget(self.certificate_button)
        self.certificate_box = QWidget()
        self.certificate_box.setLayout(certificate_row)
        self.remember = QCheckBox(
            "&Remember password" if role == "source" else "Re&member password"
        )
        self.store_line = QLabel()
        self.store_line.setWordWrap(True)
        self.store_line.setEnabled(False)  # greyed: it explains, it is not a control

        self.test_button = QPushButton(
            "&Test connection" if role == "source" else "Test conn&ection"
        )
        self.test_button.clicked.connect(self.test_connection)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(100)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.busy_label = QLabel("Connecting…")
        self.busy_label.hide()
        self.result = MessageBanner()
        self.result.close_button.hide()
        self.notes = MessageBanner()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Host:", self.host)
        form.addRow("P&ort:", self.port)
        form.addRow("&Database:", self.dbname)
        form.addRow("&User:", self.user)
        form.addRow("Pass&word:", self.password)
        form.addRow("Se&curity:", self.security)
        form.addRow("", self.security_note)
        form.addRow("Certificate:", self.certificate_box)
        self._certificate_label = form.labelForField(self.certificate_box)
        form.addRow("", self.remember)
        form.addRow("", self.store_line)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.busy)
        test_row.addWidget(self.busy_label)
        test_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.paste_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.notes)
        layout.addLayout(form)
        layout.addLayout(test_row)
        layout.addWidget(self.result)
        layout.addStretch(1)

        for edit in (self.host, self.dbname, self.user, self.password, self.certificate):
            edit.textEdited.connect(self._on_edited)
        self.port.valueChanged.connect(self._on_edited)
        self.security.currentIndexChanged.connect(self._on_security_changed)
        self.security.activated.connect(lambda *_: setattr(self, "_security_chosen", True))
        self.host.textEdited.connect(self._follow_host_default)
        self.host.editingFinished.connect(self._apply_host_presets)
        self._explain_store()
        self._follow_host_default("")

    # -- reading and filling the fields -------------------------------------------------------

    def settings(self) -> ConnectionSettings:
        """The fields as ``ConnectionSettings`` (raises FriendlyError for an impossible value)."""
        choice = self._choice()
        if _shows_file(choice):
            rootcert = self.certificate.text().strip()
        else:
            rootcert = self._sslrootcert if choice.sslmode in tls.VERIFYING else ""
        return ConnectionSettings(
            host=self.host.text().strip(),
            port=self.port.value(),
            dbname=self.dbname.text().strip(),
            user=self.user.text().strip(),
            sslmode=choice.sslmode,
            sslrootcert=rootcert,
            **self._kept,
        )

    def password_text(self) -> str | None:
        return self.password.text() or None

    def set_settings(
        self, settings: ConnectionSettings | None, password: str | None = None
    ) -> None:
        """Fill the fields (from a profile, a pasted string or the demo)."""
        self._loading = True
        try:
            self.host.setText(settings.host if settings else "")
            self.port.setValue(settings.port if settings else 5432)
            self.dbname.setText(settings.dbname if settings else "")
            self.user.setText(settings.user if settings else "")
            self.password.setText(password or "")
            if settings is None:
                choice = tls.choice_for(tls.default_sslmode("db"))  # blank: not a local host
            else:
                choice = tls.choice_for(settings.sslmode, settings.sslrootcert)
            self._select(choice)
            rootcert = settings.sslrootcert if settings else ""
            self.certificate.setText(rootcert if _shows_file(choice) else "")
            self._sslrootcert = "" if _shows_file(choice) else rootcert
            self._kept = (
                {k: getattr(settings, k) for k in _KEPT if getattr(settings, k)} if settings else {}
            )
            self._security_chosen = settings is not None
        finally:
            self._loading = False
        self._on_edited()

    def apply_connection_string(self, text: str) -> bool:
        """Fill the fields from a pasted string; notes and errors show on the card."""
        from coursemig_gui.core.connection_strings import parse_connection_string

        try:
            parsed = parse_connection_string(text)
        except FriendlyError as exc:
            self.notes.show_error(exc)
            return False
        self.set_settings(
            parsed.settings, parsed.password if parsed.password else self.password_text()
        )
        notes = [f"Filled in from the pasted {parsed.kind or 'connection string'}."] + list(
            parsed.notes
        )
        self.notes.show_message(Level.INFO, " ".join(notes))
        return True

    def ask_connection_string(self) -> None:
        clipboard = QGuiApplication.clipboard().text().strip()
        # Offer the clipboard when it looks like a connection string; never a random paragraph.
        guess = (
            clipboard
            if ("://" in clipboard or "host=" in clipboard.lower()) and len(clipboard) < 2000
            else ""
        )
        text, ok = QInputDialog.getMultiLineText(
            self,
            "Paste connection string",
            "Paste the connection string from the Azure portal, or your Django DATABASE_URL:",
            guess,
        )
        if ok and text.strip():
            self.apply_connection_string(text)

    # -- testing ----------------------------------------------------------------------------

    def test_connection(self) -> None:
        try:
            settings = self.settings()
        except FriendlyError as exc:
            self.result.show_error(exc)
            return
        if not settings.host:
            self.result.show_message(
                Level.ERROR, "Type the server's host name first (or paste a connection string)."
            )
            return
        if self._worker is None:
            self._worker = Worker(f"{self.role}-connection", self)
        password, role = self.password_text(), self.role
        self.check = None
        self._set_busy(True)
        self.result.clear()
        version = self._fields_version
        self._worker.submit(
            lambda: check_connection(settings, password, role),
            lambda check: self._on_tested(check, version),
            lambda error: self._on_failed(error, version),
        )

    def _on_tested(self, check: ConnectionCheck, version: int) -> None:
        self._set_busy(False)
        if version != self._fields_version:
            return  # the fields changed while testing: this answer is for the old ones
        self.check = check
        level = Level.WARNING if check.problems else Level.SUCCESS
        text = check.summary
        if check.problems:
            text += "\n" + "\n".join(f"• {p}" for p in check.problems)
        self.result.show_message(level, text)
        emit(self.tested, check)

    def _on_failed(self, error: FriendlyError, version: int) -> None:
        self._set_busy(False)
        if version != self._fields_version:
            return
        self.check = None
        self.result.show_error(error)
        emit(self.test_failed, error)

    @property
    def testing(self) -> bool:
        return self.busy.isVisible()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.test_button.setEnabled(not busy)

    # -- keyring ----------------------------------------------------------------------------

    def save_password_choice(self) -> None:
        """Save the password in the system's store, or forget it, as the check box says."""
        try:
            settings = self.settings()
        except FriendlyError:
            return
        if self._worker is None:
            self._worker = Worker(f"{self.role}-connection", self)
        password, remember = self.password_text(), self.remember.isChecked()

        def failed(error: FriendlyError) -> None:
            self.notes.show_message(Level.WARNING, error.message, error.detail)
            self.store_line.setText(error.message)
            emit(self.password_choice_failed, error)

        self._worker.submit(
            lambda: store_password(settings, password, remember),
            self.store_line.setText,
            failed,
        )

    def _explain_store(self) -> None:
        try:
            from coursemig_gui.core.credentials import CredentialStore

            store = CredentialStore()
            self.store_line.setText(store.explanation())
            if not store.is_secure:
                self.remember.setChecked(False)
                self.remember.setEnabled(False)
        except Exception as exc:  # noqa: BLE001 - no keyring is a fact to state, not a crash
            self.store_line.setText(
                "No secure password store on this computer: you will be asked each time."
            )
            self.store_line.setToolTip(str(exc))
            self.remember.setChecked(False)
            self.remember.setEnabled(False)

    # -- small reactions ---------------------------------------------------------------------

    def shutdown(self) -> None:
        if self._worker:
            self._worker.stop()
            self._worker = None

    def _on_edited(self, *_args) -> None:
        if self._loading:
            return
        if self.check is not None or self.result.isVisible():
            self.check = None
            self.result.clear()
        self._fields_version += 1  # any answer still on its way is for the old fields
        emit(self.changed)

    def _choice(self) -> tls.SecurityChoice:
        return SECURITY[self.security.currentData()]

    def _select(self, choice: tls.SecurityChoice) -> None:
        key = _KEY[id(choice)]
        if self.security.findData(key) < 0:  # an older setting: shown as what it really is
            self.security.addItem(choice.label, key)
        self.security.setCurrentIndex(self.security.findData(key))

    def _follow_host_default(self, host: str) -> None:
        """Until Security is chosen: verify a remote server, no encryption on this computer."""
        if self._security_chosen or self._loading:
            return
        mode = tls.default_sslmode(host.strip() or "db")  # an empty field is no local host
        self._select(tls.choice_for(mode, self.certificate.text().strip()))
        self._on_security_changed()

    def _on_security_changed(self, *_args) -> None:
        choice = self._choice()
        show = _shows_file(choice)
        self.certificate_box.setVisible(show)
        if self._certificate_label:
            self._certificate_label.setVisible(show)
        rootcert = self.certificate.text().strip() if show else self._sslrootcert
        self.security_note.setText(tls.security_note(self.host.text(), choice.sslmode, rootcert))
        self._on_edited()

    def _apply_host_presets(self) -> None:
        """An Azure host name fills database, user, port and encryption, and says so."""
        from coursemig_gui.core.connection_settings import apply_presets

        try:
            settings = self.settings()
        except FriendlyError:
            return
        if not settings.is_azure:
            return
        filled, notes = apply_presets(settings)
        if filled != settings:
            self.set_settings(filled, self.password_text())
        if notes:
            self.notes.show_message(Level.INFO, " ".join(notes))

    def _toggle_password(self, shown: bool) -> None:
        self.password.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        self.show_password.setToolTip("Hide the password" if shown else "Show the password")

    def _choose_certificate(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Server certificate", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.certificate.setText(path)
            self._on_edited()


def _shows_file(choice: tls.SecurityChoice) -> bool:
    return choice.needs_file or choice.sslmode == "verify-ca"


def check_connection(
    settings: ConnectionSettings, password: str | None, role: str
) -> ConnectionCheck:
    """Runs on the worker thread: connect, pre-flight, read the catalog. Raises FriendlyError."""
    from coursemig_gui.core.catalog import read_catalog
    from coursemig_gui.core.connection import connect
    from coursemig_gui.core.preflight import preflight

    with connect(settings, password, autocommit=True) as conn:
        report = preflight(conn, role=role)
        catalog = read_catalog(conn)
    existing = frozenset(t.name for t in catalog.tables) if role == "target" else frozenset()
    return ConnectionCheck(
        summary=report.summary(),
        problems=[str(p) for p in report.problems],
        catalog=catalog if role == "source" else None,
        has_citus=role == "target" and report.citus is not None,
        existing_tables=existing,
    )


def store_password(settings: ConnectionSettings, password: str | None, remember: bool) -> str:
    """Runs on the worker thread (a keyring can wait on an unlock prompt): save or forget;
    returns the store line's new sentence, or raises FriendlyError saying what failed."""
    from coursemig_gui.core.credentials import CredentialStore

    return CredentialStore().keep_or_forget(settings, password or "", remember)
