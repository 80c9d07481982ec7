"""The Start page's list of recent saved migrations."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QStyle

from coursemig_gui.core.profile import ProfileSummary, recent_profiles
from coursemig_gui.gui.models.base import ListTableModel


class RecentProfilesModel(ListTableModel):
    NAME, LAST_RUN, RESULT = range(3)
    HEADERS = ("Saved migration", "Last run", "Result")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[ProfileSummary] = []

    def reload(self) -> None:
        self.beginResetModel()
        self._items = recent_profiles()
        self.endResetModel()

    def path(self, row: int) -> Path:
        return self._items[row].path

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        p = self._items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.NAME:
                return p.name
            if col == self.LAST_RUN:
                return p.last_run.replace("T", " ") if p.last_run else "never"
            return p.last_result
        if role == Qt.ItemDataRole.DecorationRole and col == self.RESULT and p.last_result:
            return QApplication.style().standardIcon(_result_icon(p.last_result))
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(p.path)
        return None


def _result_icon(headline: str) -> QStyle.StandardPixmap:
    # The headline is the report's own sentence; "All n tables copied" (or, for one table,
    # "The 1 table copied") is the only all-good one.
    if headline.startswith(("All ", "The 1 table copied")):
        return QStyle.StandardPixmap.SP_DialogApplyButton
    if "damaged" in headline or "failed" in headline:
        return QStyle.StandardPixmap.SP_MessageBoxCritical
    return QStyle.StandardPixmap.SP_MessageBoxWarning
