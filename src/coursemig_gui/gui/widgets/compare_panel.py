"""Row-by-row comparison in the GUI: runs ``core.compare`` on a worker thread, shows progress,
the verdict per table and a link to the saved report (HTML, with CSV and JSON beside it)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coursemig_gui.core.compare.report import CompareReport
from coursemig_gui.core.compare.run import CompareProgress, compare_tables
from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import CancelToken
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.paths import new_run_dir
from coursemig_gui.gui.models.comparison import ComparisonModel
from coursemig_gui.gui.signals import emit
from coursemig_gui.gui.widgets.banner import Level, MessageBanner
from coursemig_gui.gui.worker import Worker


class _Relay(QObject):
    """Carries progress from the worker thread to the GUI thread."""

    progress = Signal(object)


class ComparePanel(QWidget):
    """Progress, verdicts and report link; the page or dialog owning it supplies the button."""

    started = Signal()
    finished = Signal(object)  # CompareReport, after its report files are written

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = MessageBanner()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.hide()
        self.model = ComparisonModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setAccessibleName("Row-by-row comparison per table")
        self.view.verticalHeader().hide()
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ComparisonModel.VERDICT, QHeaderView.ResizeMode.Stretch)
        self.view.hide()
        self.report_link = QLabel()
        self.report_link.setTextFormat(Qt.TextFormat.RichText)
        self.report_link.linkActivated.connect(
            lambda url: QDesktopServices.openUrl(QUrl(url))
        )  # fmt: skip
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.banner, self.status, self.busy, self.view, self.report_link):
            layout.addWidget(widget)
        self.report: CompareReport | None = None
        self.report_file: Path | None = None
        self._worker: Worker | None = None
        self._cancel = CancelToken()
        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress)

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.busy

    def start(
        self,
        source: Endpoint,
        target: Endpoint,
        mappings: list[TableMapping],
        source_schema: str = "public",
        target_schema: str = "public",
        name: str = "",
    ) -> None:
        """Compare on the worker thread; ``finished`` brings the report back."""
        if self.running:
            return
        if self._worker is None:
            self._worker = Worker("compare", self)
        self._cancel = CancelToken()
        relay, cancel = self._relay, self._cancel
        tables = [m for m in mappings if m.include]

        def call() -> CompareReport:
            report = compare_tables(
                source, target, tables, source_schema, target_schema,
                on_event=lambda event: emit(relay.progress, event), cancel=cancel, profile=name,
            )  # fmt: skip
            folder = new_run_dir("reports")
            for suffix in (".csv", ".json"):
                report.save(folder / f"comparison{suffix}")
            return report, report.save(folder / "comparison.html")

        self.banner.clear()
        self.report_link.clear()
        self.busy.setRange(0, max(len(tables), 1))
        self.busy.setValue(0)
        self.busy.show()
        self.status.setText("Comparing every row of every table…")
        emit(self.started)
        self._worker.submit(call, self._on_done, self._on_failed)

    def clear(self) -> None:
        """Forget the last comparison (a new run was made)."""
        self.report = self.report_file = None
        self.model.set_report(None)
        for widget in (self.view, self.busy):
            widget.hide()
        self.status.clear()
        self.report_link.clear()
        self.banner.clear()

    def cancel(self) -> None:
        self._cancel.cancel()

    def shutdown(self) -> None:
        if self._worker is not None:
            self._cancel.cancel()
            self._worker.stop()
            self._worker = None

    def _on_progress(self, event) -> None:
        if isinstance(event, CompareProgress):
            self.busy.setValue(event.index - (0 if event.verdict else 1))
            rows = (
                f": {event.rows_done:,} rows so far"
                if event.rows_done and not event.verdict
                else ""
            )
            self.status.setText(
                f"Comparing {event.target} (table {event.index} of {event.total}){rows}…"
            )

    def _on_done(self, result) -> None:
        report, path = result
        self.busy.hide()
        self.report, self.report_file = report, path
        self.model.set_report(report)
        self.view.setVisible(bool(report.tables) and not report.message)
        if report.message:  # the banner says it; the line below would only repeat it
            self.banner.show_message(Level.ERROR, report.message, report.detail)
            self.status.clear()
        else:
            self.status.setText(report.headline() + ".")
        self.report_link.setText(
            f"<a href='{QUrl.fromLocalFile(str(path)).toString()}'>Open the comparison report</a>"
            f" · <a href='{QUrl.fromLocalFile(str(path.parent)).toString()}'>its folder</a>"
            " (also as CSV and JSON)"
        )
        emit(self.finished, report)

    def _on_failed(self, error: FriendlyError) -> None:
        self.busy.hide()
        self.status.clear()
        self.banner.show_error(error)
        emit(self.finished, None)
