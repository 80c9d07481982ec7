"""The whole wizard against the real servers: issue 5's acceptance."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from wizard_driver import WAIT_MS, choose_app, click_next, connect_both

from coursemig_gui.gui.models.report import ReportModel


def to_columns_page(qtbot, wizard, source_db, target_db) -> None:
    connect_both(qtbot, wizard, source_db.url, target_db.url)
    click_next(qtbot, wizard)
    choose_app(qtbot, wizard, "courses")
    click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.columns_page


def rename_meetingtime_reserved_words(qtbot, wizard) -> None:
    """``end`` is reserved (one-click fix); ``start`` is not, so it is renamed by editing."""
    page = wizard.columns_page
    page.select_table("courses_meetingtime")
    assert "end is a reserved word" in page.banner.text
    assert page.banner.action_button.text() == "Rename to end_time"
    qtbot.mouseClick(page.banner.action_button, Qt.MouseButton.LeftButton)
    assert not page.banner.isVisible()
    edit_cell(qtbot, page, "start", "start_time")
    mapping = wizard.state.mapping("courses_meetingtime")
    assert mapping.column("start").target == "start_time"
    assert mapping.column("end").target == "end_time"


def edit_cell(qtbot, page, column: str, new_name: str) -> None:
    """Type into the "Copied as" cell the way a person does: select it, F2, type, Enter."""
    model = page.columns_model
    row = [model.index(r, model.SOURCE).data() for r in range(model.rowCount())].index(column)
    view = page.columns_view
    index = model.index(row, model.TARGET)
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.viewport().findChild(QLineEdit)
    assert editor is not None, "the cell did not open for editing"
    editor.selectAll()
    qtbot.keyClicks(editor, new_name)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # the delegate commits on Return through a queued call
    qtbot.waitUntil(lambda: model.index(row, model.TARGET).data() == new_name, timeout=2000)


def run_migration(qtbot, wizard):
    click_next(qtbot, wizard)
    page = wizard.migrate_page
    assert wizard.currentPage() is page
    with qtbot.waitSignal(page.migration_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def summary_rows(wizard) -> dict[str, list[str]]:
    model = wizard.summary_page.model
    return {
        model.table(r).target: [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    }


def test_whole_wizard_copies_the_courses_app(qtbot, wizard, source_db, target_db, tmp_path):
    to_columns_page(qtbot, wizard, source_db, target_db)
    rename_meetingtime_reserved_words(qtbot, wizard)
    report = run_migration(qtbot, wizard)
    assert report.exit_code == 0, report.to_json()

    # the target holds every row, under the new names
    for source, target in [
        ("courses_course", "course"),
        ("courses_meetingtime", "meetingtime"),
        ("courses_section", "section"),
        ("courses_program", "program"),
    ]:
        expected = source_db.rows(f"SELECT count(*) FROM {source}")[0][0]
        assert target_db.rows(f"SELECT count(*) FROM {target}")[0][0] == expected
    assert target_db.rows("SELECT count(*) FROM course")[0][0] == 3547
    same = source_db.rows('SELECT slug, start, "end" FROM courses_meetingtime ORDER BY slug')
    assert (
        target_db.rows("SELECT slug, start_time, end_time FROM meetingtime ORDER BY slug") == same
    )

    # the progress view ended with every table done
    states = [
        wizard.migrate_page.progress_model.text(r, 4)
        for r in range(wizard.migrate_page.progress_model.rowCount())
    ]
    assert states and all(s == "done ✓" for s in states), states

    click_next(qtbot, wizard)
    summary = wizard.summary_page
    assert wizard.currentPage() is summary
    n = len(report.tables)
    assert summary.headline.text() == f"All {n} tables copied and verified"
    rows = summary_rows(wizard)
    course = rows["course"]
    assert course[ReportModel.READ] == "3,547" and course[ReportModel.WRITTEN] == "3,547"
    assert course[ReportModel.SKIPPED] == "0"
    assert course[ReportModel.VERIFICATION].startswith("✓")

    assert course[ReportModel.TABLE] == "course"

    # save the report and the migration; the Start page lists it afterwards
    report_file = tmp_path / "report.html"
    assert summary.save_report(report_file)
    assert "All " in report_file.read_text(encoding="utf-8")
    assert summary.save_report(tmp_path / "report.csv")
    assert "courses_course,course,done" in (tmp_path / "report.csv").read_text(encoding="utf-8")
    saved = summary.save_profile("Courses to Azure")
    assert saved is not None and saved.exists()
    text = saved.read_text(encoding="utf-8")
    assert "end_time" in text and target_db.password not in text  # never the password
    qtbot.mouseClick(summary.start_over_button, Qt.MouseButton.LeftButton)
    assert wizard.currentPage() is wizard.start_page
    names = [
        wizard.start_page.recent_model.index(r, 0).data()
        for r in range(wizard.start_page.recent_model.rowCount())
    ]
    assert names == ["Courses to Azure"]
