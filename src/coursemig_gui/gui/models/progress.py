"""The Migrate page's progress table: one row per table, updated from the worker's batches."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from coursemig_gui.core.events import Phase, TableProgress
from coursemig_gui.core.mapping import TableMapping

_NO_INDEX = QModelIndex()

# What each phase reads as in the State column.
_STATE_TEXT = {
    Phase.WAITING: "waiting",
    Phase.CREATING: "creating the table",
    Phase.COPYING: "copying",
    Phase.EXPORTING: "writing the CSV file",
    Phase.VERIFYING: "verifying",
    Phase.DONE: "done ✓",
    Phase.FAILED: "failed ✗",
    Phase.ROLLED_BACK: "stopped, rolled back",
    Phase.SKIPPED: "skipped (already there)",
}

PERCENT_ROLE = Qt.ItemDataRole.UserRole + 1


def state_text(progress: TableProgress) -> str:
    if progress.phase == Phase.DONE_WITH_REJECTS:
        return f"done with {progress.rejected:,} skipped rows ⚠"
    return _STATE_TEXT.get(progress.phase, str(progress.phase))


class ProgressModel(QAbstractTableModel):
    TABLE, PROGRESS, ROWS, SPEED, STATE = range(5)
    HEADERS = ("Table", "Progress", "Rows", "Rows/s", "State")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[TableProgress] = []
        self._row_of: dict[str, int] = {}

    def set_tables(
        self, mappings: list[TableMapping], totals: dict[str, int] | None = None
    ) -> None:
        """Every table starts as "waiting", so the user sees the whole plan at once."""
        totals = totals or {}
        self.beginResetModel()
        self._rows = [
            TableProgress(m.source, m.target, Phase.WAITING, rows_total=totals.get(m.source, 0))
            for m in mappings
            if m.include
        ]
        self._row_of = {p.table: i for i, p in enumerate(self._rows)}
        self.endResetModel()

    def update(self, progress: TableProgress) -> None:
        row = self._row_of.get(progress.table)
        if row is None:  # a table the plan did not list (CSV import names tables by file)
            row = len(self._rows)
            self.beginInsertRows(_NO_INDEX, row, row)
            self._rows.append(progress)
            self._row_of[progress.table] = row
            self.endInsertRows()
            return
        self._rows[row] = progress
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.STATE))

    def progress(self, table: str) -> TableProgress | None:
        row = self._row_of.get(table)
        return self._rows[row] if row is not None else None

    def all_progress(self) -> list[TableProgress]:
        return list(self._rows)

    def totals(self) -> tuple[int, int]:
        """Rows done and rows expected over all tables (finished tables count as complete)."""
        done = total = 0
        for p in self._rows:
            expected = max(p.rows_total, p.rows_done)
            total += expected
            if p.phase in (Phase.DONE, Phase.DONE_WITH_REJECTS, Phase.SKIPPED, Phase.FAILED):
                done += expected
            else:
                done += p.rows_done
        return done, total

    def rowCount(self, parent=_NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=_NO_INDEX) -> int:
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        p = self._rows[index.row()]
        col = index.column()
        if role == PERCENT_ROLE or (role == Qt.ItemDataRole.DisplayRole and col == self.PROGRESS):
            return _percent(p)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.TABLE:
                return p.target
            if col == self.ROWS:
                if p.rows_total:
                    return f"{p.rows_done:,} / {p.rows_total:,}"
                return f"{p.rows_done:,}"
            if col == self.SPEED:
                return f"{p.rows_per_second:,.0f}" if p.rows_done and p.seconds else ""
            if col == self.STATE:
                return state_text(p)
        if role == Qt.ItemDataRole.ToolTipRole and col == self.STATE and p.message:
            return p.message
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.ROWS, self.SPEED):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _percent(p: TableProgress) -> int:
    if p.phase in (Phase.DONE, Phase.DONE_WITH_REJECTS, Phase.SKIPPED):
        return 100
    if not p.rows_total:
        return 0
    return min(100, int(100 * p.rows_done / p.rows_total))
