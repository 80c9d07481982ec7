"""Connect: the Django database on the left, the target on the right, each tested in the worker."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.gui.pages.base import WizardStep
from coursemig_gui.gui.widgets.connection_card import ConnectionCard


class ConnectPage(WizardStep):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "Connect",
            "Where the tables are now, and where they should go. Test both connections.",
            parent,
        )
        self.source_card = ConnectionCard("From (the Django database)", "source")
        self.target_card = ConnectionCard("To (Azure / PostgreSQL)", "target")
        row = QHBoxLayout()
        row.addWidget(self.source_card, 1)
        row.addWidget(self.target_card, 1)
        self.body.addLayout(row, 1)
        for card in (self.source_card, self.target_card):
            card.changed.connect(self.refresh_complete)
            card.tested.connect(lambda _check: self.refresh_complete())
            card.test_failed.connect(lambda _error: self.refresh_complete())
        self._generation = -1

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        wizard = self.migration_wizard
        if self._generation != wizard.generation:
            # A new, opened or demo migration: its connections replace whatever was typed.
            self._generation = wizard.generation
            state = self.state
            self.source_card.set_settings(state.source, state.source_password)
            self.target_card.set_settings(state.target, state.target_password)
            self.source_card.remember.setChecked(
                bool(state.source_password) and self.source_card.remember.isEnabled()
            )
            self.target_card.remember.setChecked(
                bool(state.target_password) and self.target_card.remember.isEnabled()
            )
            self.source_card.notes.clear()
            self.target_card.notes.clear()
        self.refresh_complete()

    def incomplete_reason(self) -> str | None:
        source_ok = self.source_card.check is not None
        target_ok = self.target_card.check is not None
        if not source_ok and not target_ok:
            return "Test both connections to continue."
        if not source_ok:
            return "Test the connection to the Django database to continue."
        if not target_ok:
            return "Test the connection to the target database to continue."
        return None

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        if not self.isComplete():  # QWizard.next() does not ask isComplete() itself
            return False
        try:
            source, target = self.source_card.settings(), self.target_card.settings()
        except FriendlyError as exc:
            self.banner.show_error(exc)
            return False
        state = self.state
        if source != state.source or target != state.target:
            state.report = None
        state.source, state.source_password = source, self.source_card.password_text()
        state.target, state.target_password = target, self.target_card.password_text()
        state.source_check = self.source_card.check
        state.target_check = self.target_card.check
        for card in (self.source_card, self.target_card):
            card.save_password_choice()
        return True

    def shutdown(self) -> None:
        self.source_card.shutdown()
        self.target_card.shutdown()
