"""The question asked on the Tables page: will the Django app use the new database?"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
)

from coursemig_gui.core.django_handover.choice import DjangoAppWill
from coursemig_gui.gui.signals import emit


class DjangoQuestion(QGroupBox):
    """Three plain answers and one line saying what the chosen one does."""

    changed = Signal(object)  # DjangoAppWill

    def __init__(self, parent=None) -> None:
        super().__init__("Will the Django app use the new database?", parent)
        self.group = QButtonGroup(self)
        self.buttons: dict[DjangoAppWill, QRadioButton] = {}
        row = QHBoxLayout()
        for choice in (DjangoAppWill.KEEP_NAMES, DjangoAppWill.NEW_NAMES, DjangoAppWill.NO):
            button = QRadioButton(choice.label)
            button.setToolTip(choice.explanation)
            self.group.addButton(button)
            self.buttons[choice] = button
            row.addWidget(button)
            button.toggled.connect(self._on_toggled)
        row.addStretch(1)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.explanation)
        self._choice = DjangoAppWill.NO
        self.set_choice(DjangoAppWill.NO)

    @property
    def choice(self) -> DjangoAppWill:
        return self._choice

    def set_choice(self, choice: DjangoAppWill) -> None:
        """Show ``choice`` without announcing it (a saved migration's answer)."""
        self._choice = choice
        self.group.blockSignals(True)
        for button in self.buttons.values():
            button.blockSignals(True)
        self.buttons[choice].setChecked(True)
        for button in self.buttons.values():
            button.blockSignals(False)
        self.group.blockSignals(False)
        self.explanation.setText(choice.explanation)

    def _on_toggled(self, checked: bool) -> None:
        if not checked:
            return
        choice = next(c for c, b in self.buttons.items() if b.isChecked())
        if choice != self._choice:
            self._choice = choice
            self.explanation.setText(choice.explanation)
            emit(self.changed, choice)
