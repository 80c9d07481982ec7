"""The CSV routes from the Migrate page: export to a folder, then import that folder."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard
from test_end_to_end import rename_meetingtime_reserved_words, to_columns_page
from wizard_driver import WAIT_MS, click_next

from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.export_package import MANIFEST_NAME


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


def _column_types(wizard, table: str) -> dict[str, str]:
    """The Columns page as a person reads it: column -> the type it is created with."""
    page = wizard.columns_page
    page.select_table(table)
    model = page.columns_model
    return {
        model.index(r, model.SOURCE).data(): model.index(r, model.TARGET_TYPE).data()
        for r in range(model.rowCount())
    }


def test_export_package_then_import_shows_its_types_and_ends_verified(
    qtbot, wizard, source_db, target_db, tmp_path
):
    """Issue 20: the export is a package; its import creates the exported types and keys and
    is verified against the manifest, table by table."""
    folder = tmp_path / "csv"
    to_columns_page(qtbot, wizard, source_db, target_db)
    rename_meetingtime_reserved_words(qtbot, wizard)
    click_next(qtbot, wizard)
    migrate = wizard.migrate_page
    migrate.route_buttons[Route.EXPORT].setChecked(True)
    migrate.csv_folder.setText(str(folder))
    assert run(qtbot, migrate).exit_code == 0
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))

    # back on the Columns page, each table shows the types the export recorded
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    assert wizard.currentPage() is wizard.columns_page
    for table in manifest["tables"]:
        exported = {c["name"]: c["type"] for c in table["columns"]}
        assert _column_types(wizard, table["name"]) == exported, table["name"]
    click_next(qtbot, wizard)

    migrate.route_buttons[Route.IMPORT].setChecked(True)
    report = run(qtbot, migrate)
    assert report.exit_code == 0, report.to_json()
    assert {t.verification for t in report.tables} == {"match"}, report.to_json()
    assert all("checksum matches the export" in t.verification_detail for t in report.tables)
    # the target has the exported types, keys and foreign keys, not text
    assert target_db.rows(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'public.course'::regclass AND attname = 'pid'"
    ) == [("character varying(30)",)]
    assert target_db.rows(
        "SELECT contype FROM pg_constraint WHERE conrelid = 'public.course'::regclass "
        "ORDER BY contype"
    ) == [("f",), ("p",), ("u",)]
