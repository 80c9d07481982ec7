"""The live error log: every row that could not be copied, with its reason."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt

from coursemig_gui.core.events import RejectedRow
from coursemig_gui.core.private_files import open_private
from coursemig_gui.core.rejects import ERROR_LOG_COLUMNS, error_log_row
from coursemig_gui.gui.models.base import NO_INDEX, ListTableModel


class ErrorLogModel(ListTableModel):
    TABLE, ROW, COLUMN, PROBLEM, VALUE = range(5)
    HEADERS = ("Table", "Row", "Column", "Problem", "Value")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[RejectedRow] = []

    def clear(self) -> None:
        self.beginResetModel()
        self._items = []
        self.endResetModel()

    def append(self, rows: list[RejectedRow]) -> None:
        """One insert per batch, however many rows it holds (the view lays out once)."""
        if not rows:
            return
        first = len(self._items)
        self.beginInsertRows(NO_INDEX, first, first + len(rows) - 1)
        self._items.extend(rows)
        self.endInsertRows()

    def discard(self, target: str) -> None:
        """Drop the rows of a table that is loaded again from the start (they were rolled
        back; the new try reports its own)."""
        kept = [r for r in self._items if r.target != target]
        if len(kept) != len(self._items):
            self.beginResetModel()
            self._items = kept
            self.endResetModel()

    def rejected_rows(self) -> list[RejectedRow]:
        return list(self._items)

    def export_csv(self, path: Path, rows: list[RejectedRow] | None = None) -> None:
        """Save the log (or the filtered ``rows``) as CSV, with the server's message and row text."""
        # staff open it in Excel: readable by them only, and no cell may run as a formula
        with open_private(Path(path), "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(ERROR_LOG_COLUMNS)
            for r in self._items if rows is None else rows:
                writer.writerow(error_log_row(r))

    def row(self, number: int) -> RejectedRow:
        return self._items[number]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.TABLE:
                return r.target
            if col == self.ROW:
                return r.row_number
            if col == self.COLUMN:
                return r.column or ""
            if col == self.PROBLEM:
                return r.reason
            if col == self.VALUE:
                value = r.value or ""
                return value if len(value) <= 80 else value[:77] + "…"
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [r.reason]
            if r.detail:
                parts.append(f"Server: {r.detail}")
            if r.sqlstate:
                parts.append(f"SQLSTATE {r.sqlstate}")
            if r.text:
                parts.append(f"Row: {r.text[:300]}")
            return "\n".join(parts)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.ROW:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
