"""A row that does not fit, and a cancel in the middle of a table."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QMessageBox, QWizard
from test_end_to_end import summary_rows, to_columns_page
from wizard_driver import WAIT_MS, click_next

from coursemig_gui.demo.nasty_cases import LONG_DESCRIPTION
from coursemig_gui.gui.models.error_log import ErrorLogModel
from coursemig_gui.gui.models.report import ReportModel


def set_type_by_editing(qtbot, page, column: str, new_type: str) -> None:
    """Open the type cell's combo, type the new type, press Enter."""
    model = page.columns_model
    row = [model.index(r, model.SOURCE).data() for r in range(model.rowCount())].index(column)
    index = model.index(row, model.TARGET_TYPE)
    page.columns_view.setCurrentIndex(index)
    page.columns_view.edit(index)
    combo = page.columns_view.viewport().findChild(QComboBox)
    assert combo is not None and combo.isEditable()
    combo.setCurrentText(new_type)
    qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.index(row, model.TARGET_TYPE).data() == new_type, timeout=2000)


def test_a_row_that_does_not_fit_is_logged_and_the_rest_load(qtbot, wizard, source_db, target_db):
    to_columns_page(qtbot, wizard, source_db, target_db)
    page = wizard.columns_page
    page.select_table("courses_course")
    # every sample description but one fits in 14,000 characters; the long one has 15,000
    longest_other = source_db.rows(
        "SELECT max(length(description)) FROM courses_course WHERE length(description) < 15000"
    )[0][0]
    assert longest_other < 14000
    set_type_by_editing(qtbot, page, "description", "character varying(14000)")
    assert "shorter than" in page.banner.text  # warned before running, not blocked
    assert page.isComplete()

    click_next(qtbot, wizard)
    migrate = wizard.migrate_page
    with qtbot.waitSignal(migrate.migration_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(migrate.start_button, Qt.MouseButton.LeftButton)
    report = blocker.args[0]
    assert report.exit_code == 3, report.to_json()

    # the error log shows the row and why; rows that refer to it (sections of that course)
    # cannot load either, and say so
    log = migrate.error_model
    rejected = log.rejected_rows()
    assert rejected[0].target == "course"
    assert log.index(0, ErrorLogModel.TABLE).data() == "course"
    assert log.index(0, ErrorLogModel.COLUMN).data() == "description"
    reason = log.index(0, ErrorLogModel.PROBLEM).data()
    assert "too long" in reason and "14000" in reason, reason
    assert log.index(0, ErrorLogModel.VALUE).data().startswith(LONG_DESCRIPTION[:20])
    assert [r.target for r in rejected if r.target == "course"] == ["course"]
    assert all("r1Xy9Zt0Q" in r.reason or "refers to" in r.reason for r in rejected[1:])
    assert migrate.error_title.text() == f"Rows that could not be copied: {len(rejected)}"
    migrate.error_filter.setText("too long")
    assert migrate.error_proxy.rowCount() == 1
    assert migrate.open_folder_button.isEnabled()
    exported = migrate.rejects_dir / "log.csv"
    migrate.save_error_log(exported)
    assert "description" in exported.read_text(encoding="utf-8")

    # the other rows loaded
    assert target_db.rows("SELECT count(*) FROM course")[0][0] == 3546
    assert target_db.rows("SELECT count(*) FROM course WHERE length(description) = 15000") == [(0,)]

    click_next(qtbot, wizard)
    summary = wizard.summary_page
    with_rejects = sum(1 for t in report.tables if t.rows_rejected)
    assert f"{with_rejects} with {len(rejected)} skipped rows" in summary.headline.text()
    course = summary_rows(wizard)["course"]
    assert course[ReportModel.READ] == "3,547"
    assert course[ReportModel.WRITTEN] == "3,546"
    assert course[ReportModel.SKIPPED] == "1"
    assert f"{len(rejected)} rows skipped" in summary.details.text()
    assert "3,546 of 3,547" not in summary.details.text()  # totals over all tables


def test_cancel_mid_table_rolls_it_back_and_the_summary_says_what_finished(
    qtbot, wizard, empty_source_db, target_db, monkeypatch
):
    from coursemig_gui.core.events import Phase
    from coursemig_gui.demo.sample_data import fill_sample_data

    fill_sample_data(empty_source_db.url, courses=100_000, seed=3)
    # 100,000 courses load in under half a second: in segments of 256 kB that each wait 50 ms,
    # the table is still copying for seconds, long enough to be stopped in the middle
    from coursemig_gui.core import segments

    monkeypatch.setattr(segments, "SEGMENT_BYTES", 256 << 10)
    one_segment = segments._segment

    def slow_segment(*args, **kwargs):
        time.sleep(0.05)
        return one_segment(*args, **kwargs)

    monkeypatch.setattr(segments, "_segment", slow_segment)
    to_columns_page(qtbot, wizard, empty_source_db, target_db)
    click_next(qtbot, wizard)
    migrate = wizard.migrate_page
    progress = migrate.progress_model

    qtbot.mouseClick(migrate.start_button, Qt.MouseButton.LeftButton)
    assert migrate.running and not migrate.isComplete()

    def course_is_copying() -> bool:
        p = progress.progress("courses_course")
        return p is not None and p.phase == Phase.COPYING and p.rows_done > 0

    qtbot.waitUntil(course_is_copying, timeout=WAIT_MS)
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()
    # closing the window asks too; "No" keeps the run and the window
    monkeypatch.setattr(
        "coursemig_gui.gui.pages.migrate.QMessageBox.question",
        lambda *a, **k: QMessageBox.StandardButton.No,
    )
    wizard.close()
    assert wizard.isVisible() and migrate.running
    # the Stop button asks first; answer Yes
    monkeypatch.setattr(
        "coursemig_gui.gui.pages.migrate.QMessageBox.question",
        lambda *a, **k: migrate_yes(),
    )
    with qtbot.waitSignal(migrate.migration_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(migrate.cancel_button, Qt.MouseButton.LeftButton)
    report = blocker.args[0]
    assert report.cancelled

    by_source = {t.source: t for t in report.tables}
    assert by_source["courses_course"].status == Phase.ROLLED_BACK
    # the table in progress is as it was before: it did not exist, and still does not
    assert target_db.rows("SELECT to_regclass('public.course') IS NULL") == [(True,)]
    finished = [t for t in report.tables if t.status == Phase.DONE]
    assert finished, "program and the other small parents load before course"
    for t in finished:
        expected = empty_source_db.rows(f"SELECT count(*) FROM {t.source}")[0][0]
        assert target_db.rows(f"SELECT count(*) FROM {t.target}")[0][0] == expected
    assert progress.progress("courses_course").phase == Phase.ROLLED_BACK
    # rolled back: its bar is empty and its rows are not counted as copied
    row = [p.table for p in progress.all_progress()].index("courses_course")
    assert progress.text(row, progress.PROGRESS) == "0 %"
    assert progress.text(row, progress.ROWS).startswith("none kept of 100,000")
    line = migrate.overall_label.text()
    assert "stopped and rolled back" in line and "tables finished" not in line, line
    kept = sum(t.rows_written for t in report.tables)
    assert f"{kept:,} of " in line and kept < 100_000
    assert wizard.button(QWizard.WizardButton.BackButton).isVisible()

    click_next(qtbot, wizard)
    headline = wizard.summary_page.headline.text()
    assert headline.startswith("Stopped before the end. Finished: ")
    for t in finished:
        assert t.target in headline
    assert "course" not in headline.replace("coursesectionlink", "").split("Finished: ")[1].split(
        ", "
    )
    assert "as they were before" in wizard.summary_page.details.text()


def migrate_yes():
    from PySide6.QtWidgets import QMessageBox

    return QMessageBox.StandardButton.Yes
