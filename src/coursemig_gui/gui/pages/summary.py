"""Summary: what happened to each table, and saving the report and the migration."""

from __future__ import annotations

import contextlib
from html import escape
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
)

from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.django_handover.changes import compute_changes
from coursemig_gui.core.django_handover.documents import whats_next
from coursemig_gui.core.django_handover.writer import handover_cautions, handover_due
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.events import Phase
from coursemig_gui.core.outcome import Outcome
from coursemig_gui.core.paths import user_data_dir
from coursemig_gui.core.profile import stamp_run
from coursemig_gui.core.report import MigrationReport
from coursemig_gui.core.run_progress import rows_written_sentence
from coursemig_gui.gui.models.report import ReportModel
from coursemig_gui.gui.pages.base import WizardStep
from coursemig_gui.gui.settings import remember_last_profile
from coursemig_gui.gui.widgets.banner import Level
from coursemig_gui.gui.widgets.compare_panel import ComparePanel
from coursemig_gui.gui.widgets.handover_panel import HandoverPanel


class SummaryPage(WizardStep):
    def __init__(self, parent=None) -> None:
        super().__init__("Summary", "What was copied, table by table.", parent)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.headline.setFont(font)
        self.model = ReportModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setAccessibleName("Result per table")
        self.view.verticalHeader().hide()
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ReportModel.VERIFICATION, QHeaderView.ResizeMode.Stretch)
        self.details = QLabel()
        self.details.setWordWrap(True)

        self.save_report_button = QPushButton("Save &report…")
        self.save_report_button.clicked.connect(self.choose_report_file)
        self.save_profile_button = QPushButton("Save this migration as a &profile…")
        self.save_profile_button.clicked.connect(self.ask_profile_name)
        self.nightly_button = QPushButton("Run this every &night…")
        self.nightly_button.setToolTip("The command and the schedule line for a nightly run")
        self.nightly_button.clicked.connect(self.show_nightly)
        self.nightly_button.hide()  # offered once the migration is saved
        self.open_rejects_button = QPushButton("&Open skipped-rows folder")
        self.open_rejects_button.clicked.connect(self.open_rejects_folder)
        self.compare_button = QPushButton("Compare row by ro&w")
        self.compare_button.setToolTip("Compare every row of every copied table between the two "
                                       "databases, and save a report to show.")  # fmt: skip
        self.compare_button.clicked.connect(self.compare_rows)
        self.compare_panel = ComparePanel()
        self.compare_panel.finished.connect(self._compared)
        self.start_over_button = QPushButton("Start o&ver")
        self.start_over_button.clicked.connect(self.start_over)
        buttons = QHBoxLayout()
        for button in (
            self.save_report_button,
            self.save_profile_button,
            self.nightly_button,
            self.open_rejects_button,
            self.compare_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_over_button)

        self.next_steps = QLabel()
        self.next_steps.setWordWrap(True)
        self.next_steps.setTextFormat(self.next_steps.textFormat().RichText)

        self.body.addWidget(self.headline)
        self.body.addWidget(self.view, 1)
        self.body.addWidget(self.details)
        self.body.addLayout(buttons)
        self.body.addWidget(self.compare_panel)
        self.body.addWidget(self.next_steps)
        self.handover = HandoverPanel()
        self.body.addWidget(self.handover)

    @property
    def report(self) -> MigrationReport | None:
        return self.state.report

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        report = self.report
        self.model.set_report(report)
        self.banner.clear()
        self.handover.hide()
        self.nightly_button.setVisible(self.state.profile_path is not None)
        self.setSubTitle(
            "What a real run would copy, table by table (this test run wrote nothing)."
            if report is not None and report.test_run
            else "What was copied, table by table."
        )
        if report is None:
            self.headline.setText("Nothing has run yet.")
            self.details.clear()
            return
        headline = report.headline()
        if report.cancelled:
            finished = [t.target for t in report.tables if t.status in _FINISHED]
            headline = "Stopped before the end. " + (
                f"Finished: {', '.join(finished)}." if finished else "No table was finished."
            )
            unverified = [t.target for t in report.tables if t.status == Phase.COPIED_NOT_VERIFIED]
            if unverified:
                headline += f" Copied, not verified: {', '.join(unverified)}."
        self.headline.setText(headline)
        self.details.setText(self._details_text(report))
        self.open_rejects_button.setEnabled(any(t.reject_file for t in report.tables))
        if report.message or report.problems:
            said = " ".join([*report.problems, report.message]).strip()
            self.banner.show_message(Level.ERROR, said, report.detail)
        elif report.notes:  # what a test run could not show
            self.banner.show_message(Level.INFO, " ".join(report.notes))
        self.next_steps.setText(self._next_steps_text())
        if handover_due(report) and self.next_steps.text() and self.state.django_plan().models:
            self.handover.show()
            self.handover.write(self.state)
        self.compare_button.setText("Compare row by ro&w")
        if not self.compare_panel.running:
            self.compare_panel.clear()
        self.compare_button.setVisible(self._can_compare())

    def _details_text(self, report: MigrationReport) -> str:
        rejected = sum(t.rows_rejected for t in report.tables)
        text = rows_written_sentence(report, self.state.row_counts)
        if rejected:
            rows = "row" if rejected == 1 else "rows"
            skipped = "would be skipped" if report.test_run else "skipped"
            text += f"; {rejected:,} {rows} {skipped} (the reasons are in the skipped-rows folder)"
        unverified = [t.target for t in report.tables if t.status == Phase.COPIED_NOT_VERIFIED]
        if unverified:
            text += (
                f". Copied but not verified: {', '.join(unverified)} — their rows are in the target"
            )
        unknown = [t.target for t in report.tables if t.status == Phase.COMMIT_UNKNOWN]
        if unknown:
            text += f". Unknown whether copied: {', '.join(unknown)} — look at them in the target"
        unfinished = [
            t.target
            for t in report.tables
            if t.status not in _FINISHED
            and t.status not in (Phase.COPIED_NOT_VERIFIED, Phase.COMMIT_UNKNOWN)
        ]
        if unfinished:
            text += f". Not copied: {', '.join(unfinished)} — those tables are as they were before"
        return text + "."

    def _next_steps_text(self) -> str:
        target = self.state.target
        if self.report and self.report.test_run:
            return ("<b>Test run — nothing was written.</b> To copy for real, go Back to "
                    "Migrate, untick Test run and start the migration.")  # fmt: skip
        if target is None or (
            self.report and self.report.exit_code in (Outcome.FAILED, Outcome.USAGE)
        ):
            return ""
        if not self.state.options.route.writes_database:  # CSV files only: nothing in the target
            return ""
        plan = self.state.django_plan()
        if plan.models:  # a Django source: the truth depends on the answer and the names
            copied = [m for m in self.state.mappings if m.include]
            changes = compute_changes(copied, plan.models)
            history = any(m.source == "django_migrations" for m in copied)
            cautions = handover_cautions(target, self.report)
            text = whats_next(plan.app_will, changes, target.display_name(), history, cautions)
            return f"<b>What's next:</b> {escape(text)}"
        return (
            "<b>What's next:</b> point the programs that read these tables at the new database "
            f"(HOST <code>{target.host}</code>, PORT <code>{target.port}</code>, "
            f"NAME <code>{target.dbname}</code>, USER <code>{target.user}</code>)."
        )

    # -- buttons --------------------------------------------------------------------------------

    def _can_compare(self) -> bool:
        """Only a run from one database into another has two sides to compare."""
        report, state = self.report, self.state
        return (
            report is not None
            and not report.test_run  # nothing was written: nothing to compare
            and Route(report.route).reads_database
            and Route(report.route).writes_database
            and state.source is not None
            and state.target is not None
        )

    def compare_rows(self) -> None:
        """Compare every copied table row by row, on a worker thread."""
        state = self.state
        self.compare_button.setEnabled(False)
        done = {t.source for t in self.report.tables if t.status in _FINISHED}
        self.compare_panel.start(
            Endpoint(state.source, state.source_password),
            Endpoint(state.target, state.target_password),
            [m for m in state.mappings if m.include and m.source in done],
            state.options.source_schema, state.options.target_schema, state.name,
        )  # fmt: skip

    def _compared(self, _report) -> None:
        self.compare_button.setEnabled(True)
        self.compare_button.setText("Compare a&gain")

    def shutdown(self) -> None:
        self.compare_panel.shutdown()

    def choose_report_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the report",
            str(user_data_dir() / "migration-report.html"),
            "Web page (*.html);;Spreadsheet (*.csv);;JSON (*.json)",
        )
        if path:
            self.save_report(Path(path))

    def save_report(self, path: Path) -> bool:
        if self.report is None:
            return False
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm", ".csv", ".json"):
            path = path.with_suffix(".html")
        try:
            self.report.save(path)
        except OSError as exc:
            self.banner.show_message(
                Level.ERROR, f"The report could not be saved to {path}.", str(exc)
            )
            return False
        self.banner.show_message(Level.SUCCESS, f"Report saved: {path}")
        return True

    def ask_profile_name(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Save this migration", "Name for this migration:", text=self.state.name
        )
        if ok and name.strip():
            self.save_profile(name.strip())

    def save_profile(self, name: str) -> Path | None:
        """Save connections (never passwords), tables and options under ``name``."""
        state = self.state
        # The same name overwrites the file it was opened from; a new name makes a new file.
        same_file = state.profile_path if state.profile_path and name == state.name else None
        state.name = name
        profile = state.to_profile()
        if self.report is not None:
            stamp_run(profile, self.report.headline())
        try:
            path = profile.save(same_file)
        except OSError as exc:
            self.banner.show_message(Level.ERROR, "The migration could not be saved.", str(exc))
            return None
        state.profile_path = path
        remember_last_profile(path)
        self.nightly_button.show()
        self.banner.show_message(
            Level.SUCCESS,
            f'Saved as "{name}". It is on the Start page next time; passwords are not in it.',
            str(path),
        )
        return path

    def show_nightly(self):
        """The command and schedule line core builds for the saved migration (never a password)."""
        from coursemig_gui.core.nightly import (
            cli_program,
            make_log_private,
            nightly_run,
            repeat_problem,
            unsaved_passwords,
        )
        from coursemig_gui.gui.widgets.nightly_dialog import NightlyDialog

        path = self.state.profile_path
        if path is None:
            return None
        run = nightly_run(path, cli_program(), name=self.state.name)
        with contextlib.suppress(OSError):  # the folder is the profile's own; the line still helps
            make_log_private(path)
        warnings = (
            unsaved_passwords([self.state.source, self.state.target]),
            repeat_problem([m for m in self.state.mappings if m.include]),
        )
        warning = "\n\n⚠ ".join(w for w in warnings if w)
        dialog = NightlyDialog(run, warning, self)
        dialog.open()
        return dialog

    def open_rejects_folder(self) -> None:
        report = self.report
        files = [t.reject_file for t in report.tables if t.reject_file] if report else []
        folder = Path(files[0]).parent if files else self.migration_wizard.migrate_page.rejects_dir
        if folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def start_over(self) -> None:
        self.migration_wizard.restart()


_FINISHED = frozenset({Phase.DONE, Phase.DONE_WITH_REJECTS, Phase.SKIPPED})
