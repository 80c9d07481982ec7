"""The Migrate page's "What will happen" box: core's plan sentence, then the Start button.

The button sits right under the last line of the plan, where the eye ends after reading it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class PlanBox(QGroupBox):
    def __init__(self, start_button: QPushButton, parent=None) -> None:
        super().__init__("What will happen", parent)
        self.text = QLabel()
        self.text.setObjectName("planText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.text.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.text.setFont(font)
        row = QHBoxLayout()
        row.addWidget(start_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addLayout(row)

    def show_plan(self, state, options) -> None:
        """Core's sentence for ``state`` (a gui.state.WizardState) run with ``options``."""
        from coursemig_gui.core.plan_sentence import describe_plan

        catalog = state.catalog
        sentence = describe_plan(
            state.mappings,
            options,
            source=state.source,
            target=state.target,
            counted_rows=state.row_counts,
            estimated_rows={t.name: t.row_estimate for t in catalog.tables} if catalog else {},
        )
        self.text.setText(sentence)
        self.setAccessibleDescription(sentence)
