""" "Run this every night…": shows the command and the schedule line core built, with Copy buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextOption
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from coursemig_gui.core.nightly import NightlyRun


class NightlyDialog(QDialog):
    def __init__(self, run: NightlyRun, warning: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Run this migration every night")
        self.setMinimumWidth(720)
        grid = QGridLayout()
        self.command = self._field(grid, 0, "&Run it once now, in a terminal:", run.command)
        self.schedule = self._field(grid, 2, "&" + run.schedule_label, run.schedule)
        how = QLabel(run.how)
        how.setWordWrap(True)
        note = QLabel(run.note)
        note.setWordWrap(True)
        self.warning = QLabel(f"⚠ {warning}" if warning else "")
        self.warning.setWordWrap(True)
        self.warning.setVisible(bool(warning))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(how)
        layout.addWidget(note)
        layout.addWidget(self.warning)
        layout.addStretch(1)
        layout.addWidget(buttons)

    def _field(self, grid: QGridLayout, row: int, label: str, text: str) -> QPlainTextEdit:
        # the whole line in view, wrapped anywhere (paths have no spaces to break at)
        edit = QPlainTextEdit(text)
        edit.setReadOnly(True)
        edit.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        font = QGuiApplication.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        edit.setFont(font)
        lines = 4
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 12)
        caption = QLabel(label)
        caption.setBuddy(edit)
        copy = QPushButton("Copy")
        copy.setAccessibleName(f"Copy {label.replace('&', '').rstrip(':')}")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(edit.toPlainText()))
        grid.addWidget(caption, row, 0, 1, 2)
        grid.addWidget(edit, row + 1, 0)
        grid.addWidget(copy, row + 1, 1, Qt.AlignmentFlag.AlignTop)
        return edit
