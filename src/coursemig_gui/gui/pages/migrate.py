"""Migrate: choose the route and the error policy, then watch every table copy, live."""

from __future__ import annotations

import copy
import time
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
    QStackedWidget,
)

from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.engine.rehearsal import TEST_RUN_PLAN
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import LogMessage, TableProgress
from coursemig_gui.core.options import OnError
from coursemig_gui.core.outcome import Outcome
from coursemig_gui.core.paths import new_run_dir, user_data_dir
from coursemig_gui.core.report import MigrationReport
from coursemig_gui.core.run_progress import KEPT, overall_line
from coursemig_gui.gui.pages.base import WizardStep
from coursemig_gui.gui.pages.migrate_views import ROUTE_CHOICES, MigrateViews
from coursemig_gui.gui.signals import emit
from coursemig_gui.gui.widgets.banner import Level
from coursemig_gui.gui.worker import MigrationRun


class MigratePage(WizardStep, MigrateViews):
    migration_started = Signal()
    migration_finished = Signal(object)  # MigrationReport

    def __init__(self, parent=None) -> None:
        super().__init__("Migrate", "Choose how to copy, read the plan, then start.", parent)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_setup())
        self.stack.addWidget(self._build_progress())
        self.body.addWidget(self.stack, 1)
        self.run: MigrationRun | None = None
        self.report: MigrationReport | None = None
        self.rejects_dir: Path | None = None
        self._started = 0.0
        self._last_message: LogMessage | None = None
        self._test_run = False

    @property
    def running(self) -> bool:
        return bool(self.run and self.run.running)

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        options = self.state.options
        self.route_buttons[options.route].setChecked(True)
        self.csv_folder.setText(options.csv_dir or "")
        self.skip_rows.setChecked(options.on_error == OnError.SKIP)
        self.stop_on_error.setChecked(options.on_error == OnError.STOP)
        self.max_rejects.setValue(100 if options.max_rejects is None else options.max_rejects)
        self.verify.setChecked(options.verify)
        if not self.running:
            # Coming forward from Columns means the plan may have changed: set up a new run.
            self.show_setup()
        self._on_options_changed()

    def show_setup(self) -> None:
        self.stack.setCurrentIndex(0)
        self.setSubTitle("Choose how to copy, read the plan, then start.")
        self.report = None
        self.state.report = None
        self.banner.clear()
        self.refresh_complete()

    def refresh_complete(self) -> None:
        super().refresh_complete()
        wizard = self.wizard()
        if wizard is not None:
            wizard.set_back_allowed(not self.running)

    def incomplete_reason(self) -> str | None:
        if self.running:
            return "The migration is running…"
        if self.report is None:
            problem = self._options_problem()
            return problem or "Start the migration to continue."
        return None

    def _options_problem(self) -> str | None:
        route = self._route()
        if route.uses_csv_folder and not self.csv_folder.text().strip():
            return "Choose a folder for the CSV files."
        if route == Route.IMPORT and not Path(self.csv_folder.text().strip()).is_dir():
            return "The folder to import from does not exist."
        return None

    def _route(self) -> Route:
        return ROUTE_CHOICES[max(0, self.route_group.checkedId())][0]

    def _on_options_changed(self, *_args) -> None:
        # an import with no source database: its files were chosen on the Connect page
        only_import = self.state.import_only
        needs_folder = self._route().uses_csv_folder and not only_import
        for widget in (self.csv_folder, self.csv_browse, self.csv_folder_label):
            widget.setEnabled(needs_folder)
        for route, button in self.route_buttons.items():
            button.setEnabled(route == Route.IMPORT or not only_import)
        self.test_run.setEnabled(self._route().writes_database)  # an export writes no database
        rehearse = self.test_run.isChecked() and self.test_run.isEnabled()
        self.start_button.setText("&Start test run" if rehearse else "&Start migration")
        self.start_button.setEnabled(self._options_problem() is None and not self.running)
        self._show_plan()
        self.refresh_complete()

    def _show_plan(self) -> None:
        options = copy.deepcopy(self.state.options)
        self._fill_options(options)  # what the page shows, not yet taken into the state
        self.plan_box.show_plan(self.state, options)
        if self.test_run.isChecked() and self.test_run.isEnabled():
            self.plan_box.text.setText(f"{TEST_RUN_PLAN} {self.plan_box.text.text()}")

    def _choose_csv_folder(self) -> None:
        start = self.csv_folder.text() or str(user_data_dir())
        folder = QFileDialog.getExistingDirectory(self, "Folder for the CSV files", start)
        if folder:
            self.csv_folder.setText(folder)

    def _read_options(self) -> None:
        self._fill_options(self.state.options)

    def _fill_options(self, options) -> None:
        options.route = self._route()
        options.csv_dir = self.csv_folder.text().strip() or None
        options.on_error = OnError.SKIP if self.skip_rows.isChecked() else OnError.STOP
        options.max_rejects = self.max_rejects.value()
        options.verify = self.verify.isChecked()

    # -- running ------------------------------------------------------------------------------

    def start_migration(self) -> None:
        if self.running or self._options_problem():
            return
        self._read_options()
        state = self.state
        options = copy.deepcopy(state.options)
        # A folder of our own for this run's reject files, so "Open folder" knows where it is.
        self.rejects_dir = (
            Path(options.rejects_dir) if options.rejects_dir else new_run_dir("rejects")
        )
        options.rejects_dir = str(self.rejects_dir)
        source = Endpoint(state.source, state.source_password) if state.source else None
        target = Endpoint(state.target, state.target_password) if state.target else None
        if not options.route.reads_database:
            source = None
        if not options.route.writes_database:
            target = None
        mappings = copy.deepcopy([m for m in state.mappings if m.include])

        self.report = None
        state.report = None
        self.error_model.clear()
        self.progress_model.set_tables(mappings, self._row_totals())
        self._update_error_title()
        self.banner.clear()
        self.stack.setCurrentIndex(1)
        rehearse = self.test_run.isChecked() and options.route.writes_database
        self._test_run = rehearse
        self.setSubTitle(
            ("Test run: everything is undone at the end, nothing is written. " if rehearse else "")
            + "Copying. You can keep using this window; Stop rolls back the table in progress."
        )
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.again_button.hide()
        self.open_folder_button.setEnabled(False)
        self._started = time.monotonic()

        if self.run is not None:
            self.run.stop()
            self.run.deleteLater()
        self.run = MigrationRun(self)
        self.run.table_progress.connect(self._on_progress)
        self.run.rows_rejected.connect(self._on_rejected)
        self.run.table_restarted.connect(self._on_restarted)
        self.run.log_message.connect(self._on_log)
        self.run.finished.connect(self._on_finished)
        self.run.failed.connect(self._on_failed)
        self.run.start(source, target, mappings, options, test_run=rehearse)
        self._update_overall()
        self.refresh_complete()
        emit(self.migration_started)

    def _row_totals(self) -> dict[str, int]:
        """The exact counts the Tables page made (an estimate is no total to show)."""
        return dict(self.state.row_counts)

    def ask_cancel(self) -> None:
        if not self.running or self.run is None or self.run.cancelling:
            return
        answer = QMessageBox.question(
            self,
            "Stop the migration?",
            "Stop after rolling back the tables in progress? Finished tables stay.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.cancel_migration()

    def cancel_migration(self) -> None:
        """Stop without asking (the dialog's Yes, and tests)."""
        if self.run is None or not self.running:
            return
        self.run.cancel()
        self.cancel_button.setEnabled(False)
        self.overall_label.setText("Stopping: rolling back the tables in progress…")

    def _on_progress(self, progress: TableProgress) -> None:
        self.progress_model.update(progress)
        self._update_overall()

    def _on_rejected(self, rows: list) -> None:
        self.error_model.append(rows)
        self.open_folder_button.setEnabled(True)
        self._update_error_title()

    def _on_restarted(self, target: str) -> None:
        self.error_model.discard(target)
        self._update_error_title()

    def _on_log(self, message: LogMessage) -> None:
        if message.level in ("warning", "error"):
            self._last_message = message

    def _update_error_title(self) -> None:
        n = self.error_model.rowCount()
        self.error_title.setText(
            "Rows that could not be copied: " + (f"{n:,}" if n else "none so far")
        )

    def _update_overall(self) -> None:
        overall = self.progress_model.overall()
        done, total = overall.rows_kept, overall.rows_total
        self.overall_bar.setValue(int(1000 * overall.fraction))
        elapsed = time.monotonic() - self._started
        text = overall_line(overall, test_run=self._test_run)
        if self.running and done and total > done and elapsed > 2:
            left = elapsed * (total - done) / done
            text += f" · about {_duration(left)} left"
        if self.run is not None and self.run.cancelling and self.running:
            text = "Stopping: rolling back the tables in progress… · " + text
        self.overall_label.setText(text)

    def _on_finished(self, report: MigrationReport) -> None:
        self.report = report
        self.state.report = report
        self.progress_model.set_counts(self.state.row_counts)  # made while the run went on
        for t in report.tables:
            progress = self.progress_model.progress(t.source)
            if progress is not None:
                self.progress_model.update(
                    TableProgress(
                        t.source,
                        t.target,
                        t.status,
                        t.rows_read,
                        t.rows_read if t.status in KEPT else progress.rows_total,
                        rejected=t.rows_rejected,
                        seconds=t.seconds,
                        message=t.message,
                    )
                )
        self._update_overall()
        self.cancel_button.hide()
        self.again_button.show()
        self.setSubTitle("Finished. Next shows the summary.")
        headline = report.headline()
        level = {Outcome.DONE: Level.SUCCESS, Outcome.DONE_WITH_REJECTS: Level.WARNING}.get(
            report.exit_code, Level.ERROR
        )
        detail = report.detail
        if report.cancelled:
            headline = "Stopped. " + headline
        if not detail and level == Level.ERROR:
            detail = "\n".join(
                f"{t.target}: {t.message}\n{t.detail}".strip() for t in report.tables if t.message
            )
        self.banner.show_message(level, headline + ". Click Next for the summary.", detail)
        self.open_folder_button.setEnabled(self.error_model.rowCount() > 0)
        self._remember_run(report)
        self.refresh_complete()
        emit(self.migration_finished, report)

    def _on_failed(self, error: FriendlyError) -> None:
        # run_migration reports user errors in the report; this is a bug, shown plainly.
        report = MigrationReport(message=error.message, detail=error.detail)
        self.banner.show_error(error)
        self.report = report
        self.state.report = report
        self.cancel_button.hide()
        self.again_button.show()
        self.refresh_complete()
        emit(self.migration_finished, report)

    def _remember_run(self, report: MigrationReport) -> None:
        """A run of a saved migration updates its "last run" line on the Start page."""
        path = self.state.profile_path
        if not path:
            return
        from coursemig_gui.core.profile import stamp_run

        profile = self.state.to_profile()
        stamp_run(profile, report.headline())
        try:
            profile.save(path)
        except OSError as exc:
            self.banner.show_message(
                Level.WARNING, f"The saved migration {path.name} could not be updated.", str(exc)
            )

    # -- error log ----------------------------------------------------------------------------

    def export_error_log(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the error log",
            str(user_data_dir() / "skipped-rows.csv"),
            "CSV files (*.csv)",
        )
        if path:
            self.save_error_log(Path(path))

    def save_error_log(self, path: Path) -> None:
        """Save the rows the filter shows (all of them when there is no filter)."""
        shown = [
            self.error_model.row(self.error_proxy.mapToSource(self.error_proxy.index(r, 0)).row())
            for r in range(self.error_proxy.rowCount())
        ]
        try:
            self.error_model.export_csv(path, shown)
        except OSError as exc:
            self.banner.show_message(
                Level.ERROR, f"The error log could not be saved to {path}.", str(exc)
            )

    def open_rejects_folder(self) -> None:
        if self.rejects_dir:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.rejects_dir)))

    def shutdown(self) -> None:
        if self.run is not None:
            if self.run.running:
                self.run.cancel()
            self.run.stop()


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
