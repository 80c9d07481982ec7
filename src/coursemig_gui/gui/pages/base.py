"""What every page shares: the message banner on top, the "why Next is off" line at the bottom."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWizardPage

from coursemig_gui.gui.signals import emit
from coursemig_gui.gui.widgets.banner import MessageBanner

if TYPE_CHECKING:
    from coursemig_gui.gui.state import WizardState
    from coursemig_gui.gui.wizard import MigrationWizard


class WizardStep(QWizardPage):
    """A page whose Next button is on only when ``incomplete_reason()`` returns None."""

    def __init__(self, title: str, subtitle: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)
        self.banner = MessageBanner()
        # what another page found out after the user left it (a password store's answer)
        self.notice = MessageBanner()
        self.reason_label = QLabel()
        self.reason_label.setObjectName("nextReason")
        self.reason_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.reason_label.setWordWrap(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.banner)
        outer.addWidget(self.notice)
        self.body = QVBoxLayout()
        outer.addLayout(self.body, 1)
        outer.addWidget(self.reason_label)

    @property
    def migration_wizard(self) -> MigrationWizard:
        return self.wizard()  # type: ignore[return-value]

    @property
    def state(self) -> WizardState:
        return self.migration_wizard.state

    def incomplete_reason(self) -> str | None:
        """Why the user cannot go on yet, in one line, or None when the page is complete."""
        return None

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        return self.incomplete_reason() is None

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        # QWizard.next() (keyboard, code) skips isComplete(); the rule holds however Next comes.
        return self.isComplete()

    def refresh_complete(self) -> None:
        """Re-evaluate the page: updates the reason line and the Next button."""
        reason = self.incomplete_reason()
        self.reason_label.setText(reason or "")
        self.reason_label.setVisible(bool(reason))
        emit(self.completeChanged)
