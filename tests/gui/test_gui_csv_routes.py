"""The CSV routes from the Migrate page: export to a folder, then import that folder."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_end_to_end import rename_meetingtime_reserved_words, to_columns_page
from wizard_driver import WAIT_MS, click_next

from coursemig_gui.core.engine.routes import Route


def run(qtbot, migrate):
    with qtbot.waitSignal(migrate.migration_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(migrate.start_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_export_then_import_a_csv_folder(qtbot, wizard, source_db, target_db, tmp_path):
    folder = tmp_path / "csv"
    to_columns_page(qtbot, wizard, source_db, target_db)
    rename_meetingtime_reserved_words(qtbot, wizard)
    click_next(qtbot, wizard)
    migrate = wizard.migrate_page

    migrate.route_buttons[Route.EXPORT].setChecked(True)
    assert not migrate.start_button.isEnabled()
    assert migrate.reason_label.text() == "Choose a folder for the CSV files."
    migrate.csv_folder.setText(str(folder))
    assert migrate.start_button.isEnabled()
    report = run(qtbot, migrate)
    assert report.exit_code == 0, report.to_json()
    files = sorted(p.name for p in folder.glob("*.csv"))
    assert "course.csv" in files or "courses_course.csv" in files, files
    # nothing was written to the target
    assert target_db.rows("SELECT to_regclass('public.course') IS NULL") == [(True,)]

    qtbot.mouseClick(migrate.again_button, Qt.MouseButton.LeftButton)
    assert migrate.stack.currentIndex() == 0
    migrate.route_buttons[Route.IMPORT].setChecked(True)
    report = run(qtbot, migrate)
    assert report.exit_code == 0, report.to_json()
    assert target_db.rows("SELECT count(*) FROM course")[0][0] == 3547
    assert target_db.rows("SELECT count(*) FROM meetingtime WHERE end_time IS NOT NULL")[0][0] > 0
