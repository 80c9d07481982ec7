"""Issue 18 in the wizard: the Migrate page's test run writes nothing and the Summary says so;
the real run afterwards copies."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_end_to_end import rename_meetingtime_reserved_words, to_columns_page
from wizard_driver import WAIT_MS, click_next

from coursemig_gui.gui.models.report import ReportModel
from coursemig_gui.gui.widgets.handover_panel import default_handover_folder


def _tables(target_db) -> int:
    return target_db.rows("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                          "n.oid = c.relnamespace WHERE n.nspname = 'public'")[0][0]  # fmt: skip


def _start(qtbot, page):
    with qtbot.waitSignal(page.migration_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_test_run_then_the_real_run(qtbot, wizard, source_db, target_db):
    to_columns_page(qtbot, wizard, source_db, target_db)
    rename_meetingtime_reserved_words(qtbot, wizard)
    click_next(qtbot, wizard)
    page = wizard.migrate_page
    page.test_run.setChecked(True)
    assert page.start_button.text() == "&Start test run"
    assert page.plan_box.text.text().startswith("Test run: all of this happens, then it is undone")
    with qtbot.waitSignal(page.migration_started, timeout=WAIT_MS):
        with qtbot.waitSignal(page.migration_finished, timeout=WAIT_MS) as blocker:
            qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
            assert page.subTitle().startswith("Test run: everything is undone at the end")
    report = blocker.args[0]
    assert report.test_run and report.exit_code == 0, report.to_json()
    assert _tables(target_db) == 0  # nothing was written
    assert page.banner.text.startswith("Test run — nothing was written. All 9 tables would be")

    click_next(qtbot, wizard)
    summary = wizard.summary_page
    assert summary.headline.text().startswith("Test run — nothing was written.")
    model = summary.model
    assert {model.index(r, ReportModel.RESULT).data() for r in range(model.rowCount())} == {
        "Would copy"
    }
    assert model.headerData(ReportModel.WRITTEN, Qt.Orientation.Horizontal) == (
        "Rows it would write"
    )
    rows = sum(t.rows_read for t in report.tables)
    assert summary.details.text() == f"{rows:,} of the source's {rows:,} rows would be written."
    assert "nothing was written" in summary.next_steps.text()
    assert summary.subTitle().startswith("What a real run would copy, table by table")
    # nothing was copied: no hand-over, and no folder claiming the tables were
    folder = default_handover_folder(wizard.state.name)
    assert not summary.handover.isVisible() and not folder.exists()
    assert not summary.compare_button.isVisible()  # nothing to compare yet

    wizard.back()
    assert wizard.currentPage() is page
    page.show_setup()
    page.test_run.setChecked(False)
    assert page.start_button.text() == "&Start migration"
    report = _start(qtbot, page)
    assert not report.test_run and report.exit_code == 0
    assert target_db.rows("SELECT count(*) FROM course")[0][0] == 3547
    click_next(qtbot, wizard)
    assert summary.headline.text() == "All 9 tables copied and verified"
    assert summary.subTitle() == "What was copied, table by table."
    assert summary.compare_button.isVisible()
