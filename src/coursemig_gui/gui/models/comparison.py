"""The comparison's verdicts, one row per table (the Summary page and the check dialog)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from coursemig_gui.core.compare.report import CompareReport, Status, TableComparison
from coursemig_gui.gui.models.base import ListTableModel

_MARK = {Status.IDENTICAL: "✓ ", Status.DIFFERENT: "✗ ", Status.NOT_COMPARED: "⚠ "}


class ComparisonModel(ListTableModel):
    TABLE, SOURCE_ROWS, TARGET_ROWS, VERDICT = range(4)
    HEADERS = ("Table", "Rows in source", "Rows in target", "Row-by-row comparison")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[TableComparison] = []

    def set_report(self, report: CompareReport | None) -> None:
        self.beginResetModel()
        self._items = list(report.tables) if report else []
        self.endResetModel()

    def table(self, row: int) -> TableComparison:
        return self._items[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        t = self._items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                self.TABLE: t.target,
                self.SOURCE_ROWS: f"{t.source_rows:,}",
                self.TARGET_ROWS: f"{t.target_rows:,}",
                self.VERDICT: _MARK.get(t.status, "") + t.verdict(),
            }[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.TABLE:
                return f"{t.target}, copied from {t.source}"
            return t.detail or None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.SOURCE_ROWS,
                                                                 self.TARGET_ROWS):  # fmt: skip
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
