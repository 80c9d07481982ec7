"""Steps the GUI tests share: clicking through the wizard the way a person does."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from coursemig_gui.gui.wizard import MigrationWizard

# One generous limit for anything waiting on a server (connection tests, a whole migration).
WAIT_MS = 120_000


def click_next(qtbot, wizard: MigrationWizard) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    assert button.isEnabled(), wizard.currentPage().reason_label.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def connect_both(qtbot, wizard: MigrationWizard, source_url: str, target_url: str) -> None:
    """From the Start page to a tested Connect page: paste both strings, test both."""
    qtbot.mouseClick(wizard.start_page.new_button, Qt.MouseButton.LeftButton)
    page = wizard.connect_page
    assert wizard.currentPage() is page
    assert page.target_card.apply_connection_string(target_url)
    assert page.source_card.apply_connection_string(source_url)
    for card in (page.source_card, page.target_card):
        with qtbot.waitSignal(card.tested, timeout=WAIT_MS):
            qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    assert page.isComplete()


def choose_app(qtbot, wizard: MigrationWizard, app: str = "courses") -> None:
    page = wizard.tables_page
    assert wizard.currentPage() is page
    page.model.set_app_checked(app, True)
