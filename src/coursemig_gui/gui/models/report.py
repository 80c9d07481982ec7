"""The Summary page's table: the report's figures per table."""

from __future__ import annotations

from PySide6.QtCore import Qt

from coursemig_gui.core.report import MigrationReport, TableReport, Verification
from coursemig_gui.core.table_status import status_label, status_sentence
from coursemig_gui.gui.models.base import ListTableModel

_VERIFICATION_TEXT = {
    Verification.MATCH: "✓ counts and content match",
    Verification.COUNTS_MATCH: "counts match; content not compared",
    Verification.MISMATCH: "✗ differs",
    Verification.NOT_RUN: "not checked",
}


def result_text(t: TableReport, test_run: bool = False) -> str:
    return status_label(t.status, test_run)


def verification_text(t: TableReport) -> str:
    return _VERIFICATION_TEXT.get(t.verification, str(t.verification))


class ReportModel(ListTableModel):
    TABLE, RESULT, READ, WRITTEN, SKIPPED, SECONDS, VERIFICATION = range(7)
    SENTENCE_ROLE = Qt.ItemDataRole.UserRole + 1  # what the table's status means, in a sentence
    HEADERS = (
        "Table",
        "Result",
        "Rows read",
        "Rows written",
        "Rows skipped",
        "Seconds",
        "Verification",
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[TableReport] = []
        self._test_run = False

    def set_report(self, report: MigrationReport | None) -> None:
        self.beginResetModel()
        self._items = list(report.tables) if report else []
        self._test_run = bool(report and report.test_run)
        self.endResetModel()

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if self._test_run and section == self.WRITTEN and role == Qt.ItemDataRole.DisplayRole:
            return "Rows it would write"
        return super().headerData(section, orientation, role)

    def table(self, row: int) -> TableReport:
        return self._items[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        t = self._items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                self.TABLE: t.target,
                self.RESULT: result_text(t, self._test_run),
                self.READ: f"{t.rows_read:,}",
                self.WRITTEN: f"{t.rows_written:,}",
                self.SKIPPED: f"{t.rows_rejected:,}",
                self.SECONDS: f"{t.seconds:.1f}",
                self.VERIFICATION: verification_text(t),
            }[col]
        if role == self.SENTENCE_ROLE:
            return status_sentence(t.status, self._test_run)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = "\n".join(x for x in (t.message, t.verification_detail, t.detail) if x)
            if col == self.TABLE:
                return f"{t.target}, copied from {t.source}"
            if col == self.RESULT:
                sentence = status_sentence(t.status, self._test_run)
                return "\n".join(x for x in (sentence, t.message) if x) or None
            return tip or None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            self.READ,
            self.WRITTEN,
            self.SKIPPED,
            self.SECONDS,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
