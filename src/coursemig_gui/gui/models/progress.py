"""The Migrate page's progress table: one row per table, updated from the worker's batches.

Why a plain ``QStandardItemModel`` (not subclassed) and real ``QProgressBar`` widgets instead of
a Python model and a painting delegate: while a table loads, the worker thread keeps Python's
GIL busy, and every call from Qt into Python code (``data()``, ``paint()``) must wait for it —
hundreds of such calls per repaint stalled the window for up to half a second. With the data held
in C++ and drawn by C++, a repaint never needs Python at all.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QProgressBar, QTableView

from coursemig_gui.core.events import Phase, TableProgress
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.run_progress import Overall, best_total, overall, percent, rows_text

__all__ = ["ProgressModel", "percent", "state_text"]

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
    Phase.COPIED_NOT_VERIFIED: "copied, not verified ⚠",
    Phase.COMMIT_UNKNOWN: "unknown: check the table ✗",
    Phase.NOT_STARTED: "not started",
}
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def state_text(progress: TableProgress) -> str:
    if progress.phase == Phase.DONE_WITH_REJECTS:
        rows = "row" if progress.rejected == 1 else "rows"
        return f"done with {progress.rejected:,} skipped {rows} ⚠"
    return _STATE_TEXT.get(progress.phase, str(progress.phase))


class ProgressModel(QObject):
    """Keeps the newest ``TableProgress`` per table and mirrors it into ``items`` for the view."""

    TABLE, PROGRESS, ROWS, SPEED, STATE = range(5)
    HEADERS = ("Table", "Progress", "Rows", "Rows/s", "State")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.items = QStandardItemModel(0, len(self.HEADERS), self)
        self.items.setHorizontalHeaderLabels(list(self.HEADERS))
        self._rows: list[TableProgress] = []
        self._row_of: dict[str, int] = {}
        self._bars: list[QProgressBar] = []
        self._counted: dict[str, int] = {}  # the source's exact counts, where they were made
        self._view: QTableView | None = None

    def attach(self, view: QTableView) -> None:
        """Show in ``view``; the Progress column gets one real progress bar per table."""
        self._view = view
        view.setModel(self.items)

    def set_tables(
        self, mappings: list[TableMapping], totals: dict[str, int] | None = None
    ) -> None:
        """Every table starts as "waiting", so the user sees the whole plan at once.
        ``totals``: each source table's exact row count, where it is known."""
        totals = totals or {}
        self._counted = dict(totals)
        self.items.removeRows(0, self.items.rowCount())
        self._rows, self._row_of, self._bars = [], {}, []
        for m in mappings:
            if m.include:
                self._append(
                    TableProgress(
                        m.source, m.target, Phase.WAITING, rows_total=totals.get(m.source, 0)
                    )
                )

    def set_counts(self, counts: dict[str, int]) -> None:
        """Counts that arrived after the run started (the Tables page counts in the background)."""
        self._counted = dict(counts)

    def update(self, progress: TableProgress) -> None:
        total = best_total(progress, self._counted.get(progress.table))
        if total != progress.rows_total:
            progress = replace(progress, rows_total=total)
        row = self._row_of.get(progress.table)
        if row is None:  # a table the plan did not list (CSV import names tables by file)
            self._append(progress)
            return
        old = self._rows[row]
        self._rows[row] = progress
        self._show(row, progress, old)

    def progress(self, table: str) -> TableProgress | None:
        row = self._row_of.get(table)
        return self._rows[row] if row is not None else None

    def all_progress(self) -> list[TableProgress]:
        return list(self._rows)

    def rowCount(self) -> int:  # noqa: N802 - reads like the Qt models it stands beside
        return len(self._rows)

    def text(self, row: int, column: int) -> str:
        if column == self.PROGRESS:
            return f"{percent(self._rows[row])} %"
        return self.items.item(row, column).text()

    def overall(self) -> Overall:
        """Tables and rows over the whole run, as core counts them."""
        return overall(self._rows)

    def _append(self, progress: TableProgress) -> None:
        row = len(self._rows)
        self._rows.append(progress)
        self._row_of[progress.table] = row
        cells = [QStandardItem() for _ in self.HEADERS]
        for cell in cells:
            cell.setEditable(False)
        cells[self.ROWS].setTextAlignment(_RIGHT)
        cells[self.SPEED].setTextAlignment(_RIGHT)
        self.items.appendRow(cells)
        bar = QProgressBar()
        bar.setRange(0, 100)
        bar.setFormat("%p %")
        bar.setAccessibleName(f"Progress of {progress.target}")
        self._bars.append(bar)
        if self._view is not None:
            self._view.setIndexWidget(self.items.index(row, self.PROGRESS), bar)
        self._show(row, progress, None)

    def _show(self, row: int, p: TableProgress, old: TableProgress | None) -> None:
        # Only what changed is set: every call into Qt costs a GIL hand-over during a run.
        item = self.items.item
        if old is None or old.target != p.target:
            item(row, self.TABLE).setText(p.target)
        rows = rows_text(p)
        if old is None or (old.rows_done, old.rows_total, old.phase) != (
            p.rows_done,
            p.rows_total,
            p.phase,
        ):
            item(row, self.ROWS).setText(rows)
            item(row, self.SPEED).setText(
                f"{p.rows_per_second:,.0f}" if p.rows_done and p.seconds else ""
            )
        if old is None or old.phase != p.phase or old.rejected != p.rejected:
            item(row, self.STATE).setText(state_text(p))
            item(row, self.STATE).setToolTip(p.message)
        value = percent(p)
        if old is None or percent(old) != value:
            self._bars[row].setValue(value)
