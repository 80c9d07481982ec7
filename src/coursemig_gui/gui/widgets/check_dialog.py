""" "Check a finished migration": a saved migration's tables compared row by row, from the Start
page, without going through the wizard again."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.profile import Profile
from coursemig_gui.gui.widgets.compare_panel import ComparePanel


class CheckDialog(QDialog):
    def __init__(
        self,
        profile: Profile,
        source_password: str | None,
        target_password: str | None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Check a finished migration — {profile.name}")
        self.resize(900, 560)
        self.profile = profile
        intro = QLabel(
            "Every row of every table of this migration is compared between the two databases. "
            "Nothing is written to either."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Source:", QLabel(profile.source.display_name()))
        form.addRow("Target:", QLabel(profile.target.display_name()))
        # A password the keyring does not hold is asked for here; none is kept.
        self.source_password = self._password_field(form, "Source password:", source_password)
        self.target_password = self._password_field(form, "Target password:", target_password)
        self.panel = ComparePanel()
        self.compare_button = QPushButton("&Compare row by row")
        self.compare_button.setDefault(True)
        self.compare_button.clicked.connect(self.compare)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.compare_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.panel.started.connect(lambda: self.compare_button.setEnabled(False))
        self.panel.finished.connect(self._finished)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.panel, 1)
        layout.addWidget(buttons)

    @staticmethod
    def _password_field(form: QFormLayout, label: str, saved: str | None) -> QLineEdit:
        field = QLineEdit(saved or "")
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setPlaceholderText("leave empty if none is needed")
        if not saved:
            form.addRow(label, field)
        return field

    def compare(self) -> None:
        p = self.profile
        source = Endpoint(p.source, self.source_password.text() or None)
        target = Endpoint(p.target, self.target_password.text() or None)
        self.panel.start(source, target, p.tables, p.options.source_schema,
                         p.options.target_schema, p.name)  # fmt: skip

    def _finished(self, _report) -> None:
        self.compare_button.setEnabled(True)
        self.compare_button.setText("&Compare again")

    def done(self, result: int) -> None:
        self.panel.shutdown()
        super().done(result)
