"""Issue 20 in the wizard: "Import CSV files" with only a target connection and the files (an
export's zip, or CSV files made by hand), the way a package is loaded on another computer."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal

from PySide6.QtCore import Qt
from test_gui_csv_routes import _column_types, run
from wizard_driver import WAIT_MS, click_next

from coursemig_gui.cli import main
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.export_package import MANIFEST_NAME


def to_columns_page_from_files(qtbot, wizard, target_db, path, tables: list[str]) -> None:
    """Start → "Import CSV files" → the target and the files → the tables ticked → Columns."""
    qtbot.mouseClick(wizard.start_page.import_button, Qt.MouseButton.LeftButton)
    page = wizard.connect_page
    assert wizard.currentPage() is page
    assert not page.source_card.isVisible() and page.import_box.isVisible()
    assert "Test both" not in page.subTitle()
    assert page.target_card.apply_connection_string(target_db.url)
    with qtbot.waitSignal(page.target_card.tested, timeout=WAIT_MS):
        qtbot.mouseClick(page.target_card.test_button, Qt.MouseButton.LeftButton)
    assert page.reason_label.text() == "Choose the folder or .zip file to import."
    page.import_box.set_path(path)
    qtbot.waitUntil(page.isComplete, timeout=WAIT_MS)
    click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.tables_page
    wizard.tables_page.model.set_checked(tables)
    click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.columns_page
    assert wizard.state.source is None


def test_exported_zip_imports_with_no_source_connection(
    qtbot, wizard, source_db, target_db, tmp_path
):
    folder = tmp_path / "handover"
    code = main(
        ["export", "--source", source_db.url, "--app", "courses", "--to", str(folder), "--zip"]
    )
    assert code == 0
    package = folder.with_name("handover.zip")
    with zipfile.ZipFile(package) as zf:
        manifest = json.loads(zf.read(MANIFEST_NAME))
    names = [t["name"] for t in manifest["tables"]]
    to_columns_page_from_files(qtbot, wizard, target_db, package, names)

    shown = set()
    for table in manifest["tables"]:
        exported = {c["name"]: c["type"] for c in table["columns"]}
        types = _column_types(wizard, table["name"])
        assert types == exported, table["name"]
        shown |= set(types.values())
    assert {"boolean", "character varying(200)", "integer"} <= shown, shown
    identities = [
        (t["name"], c["name"])
        for t in manifest["tables"]
        for c in t["columns"]
        if c.get("identity")
    ]
    assert identities, "the fixture's export records an identity column"

    click_next(qtbot, wizard)
    migrate = wizard.migrate_page
    assert migrate.route_buttons[Route.IMPORT].isChecked()
    assert not migrate.route_buttons[Route.DIRECT].isEnabled()  # there is no source to copy
    report = run(qtbot, migrate)
    assert report.exit_code == 0, report.to_json()
    assert {t.verification for t in report.tables} == {"match"}, report.to_json()
    assert all("checksum matches the export" in t.verification_detail for t in report.tables)
    assert target_db.rows("SELECT count(*) FROM course")[0][0] == 3547
    # the identity continues in the target (created by the import, named as the Tables page said)
    table, column = identities[0]
    target = wizard.state.mapping(table).target
    assert target_db.rows(
        "SELECT a.attidentity <> '' FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relname = %s AND a.attname = %s",
        (target, column),
    ) == [(True,)]


HAND_MADE = (
    "id,price,starts,active,title\n"
    "1,12.50,2024-09-02,true,Algebra\n"
    "2,7,2024-09-09,false,Biology\n"
    '3,0.25,2025-01-13,true,"Chemistry, with lab"\n'
)


def test_hand_made_csv_files_get_proposed_types(qtbot, wizard, target_db, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "offerings.csv").write_text(HAND_MADE, encoding="utf-8")
    to_columns_page_from_files(qtbot, wizard, target_db, folder, ["offerings"])

    assert _column_types(wizard, "offerings") == {
        "id": "integer",
        "price": "numeric",
        "starts": "date",
        "active": "boolean",
        "title": "text",
    }
    model = wizard.columns_page.columns_model  # what the file holds now: text, every column
    assert {model.index(r, model.SOURCE_TYPE).data() for r in range(model.rowCount())} == {"text"}
    wizard.grab().save(str(tmp_path / "columns.png"))  # to look at by hand

    click_next(qtbot, wizard)
    report = run(qtbot, wizard.migrate_page)
    assert report.exit_code == 0, report.to_json()
    assert target_db.rows(
        "SELECT id, price, starts::text, active, title FROM offerings ORDER BY id"
    ) == [
        (1, Decimal("12.50"), "2024-09-02", True, "Algebra"),
        (2, Decimal("7"), "2024-09-09", False, "Biology"),
        (3, Decimal("0.25"), "2025-01-13", True, "Chemistry, with lab"),
    ]


def test_names_chosen_at_export_are_the_wizards_start(
    qtbot, wizard, source_db, target_db, tmp_path
):
    """A package whose export renamed a table and a column: the Columns page starts from those
    names, as `coursemig import` and schema.sql do."""
    folder = tmp_path / "renamed"
    code = main(
        ["export", "--source", source_db.url, "--tables", "courses_program", "--to", str(folder),
         "--rename-table", "courses_program=study_program",
         "--rename-column", "courses_program.subject=subject_name", "-q"]
    )  # fmt: skip
    assert code == 0
    to_columns_page_from_files(qtbot, wizard, target_db, folder, ["courses_program"])
    mapping = wizard.state.mapping("courses_program")
    assert mapping.target == "study_program"
    assert mapping.column("subject").target == "subject_name"


def test_semicolon_separated_file_loads_as_its_columns_page_showed(
    qtbot, wizard, target_db, tmp_path
):
    """Excel in many countries writes ';'. The Columns page proposed id, name, price from the
    header; the run read the file with ',' and made one column "id;name;price" of '1;Ann;3'."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "people.csv").write_bytes(b'id;name;price\n1;Ann;3\n2;"Bo; Jr";4\n')
    to_columns_page_from_files(qtbot, wizard, target_db, folder, ["people"])
    assert _column_types(wizard, "people") == {"id": "integer", "name": "text", "price": "integer"}
    click_next(qtbot, wizard)
    report = run(qtbot, wizard.migrate_page)
    assert report.exit_code == 0, report.to_json()
    assert target_db.rows("SELECT id, name, price FROM people ORDER BY id") == [
        (1, "Ann", 3),
        (2, "Bo; Jr", 4),
    ]


def test_a_windows_1252_file_is_read_in_the_encoding_chosen(qtbot, wizard, target_db, tmp_path):
    """Excel on Windows writes Windows-1252. The wizard had no way to choose an encoding: the
    file's table reached the Columns page without a column ('people has no columns selected'),
    and the sentence saying why ('Choose the file's encoding') named a choice it did not have."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "people.csv").write_bytes("id,name\n1,Café “Noël” €5\n".encode("cp1252"))
    qtbot.mouseClick(wizard.start_page.import_button, Qt.MouseButton.LeftButton)
    page = wizard.connect_page
    assert page.target_card.apply_connection_string(target_db.url)
    with qtbot.waitSignal(page.target_card.tested, timeout=WAIT_MS):
        qtbot.mouseClick(page.target_card.test_button, Qt.MouseButton.LeftButton)
    page.import_box.set_path(folder)
    qtbot.waitUntil(page.isComplete, timeout=WAIT_MS)
    said = page.banner.text
    assert "people.csv is not UTF-8 (line 2" in said and "Choose the file's encoding" in said
    assert "people.csv is not UTF-8" in page.import_box.status.text()

    box = page.import_box
    box.encoding_combo.setCurrentIndex(box.encoding_combo.findData("cp1252"))
    qtbot.waitUntil(page.isComplete, timeout=WAIT_MS)
    assert not page.banner.isVisible()
    assert "not UTF-8" not in box.status.text()
    click_next(qtbot, wizard)
    wizard.tables_page.model.set_checked(["people"])
    click_next(qtbot, wizard)
    assert _column_types(wizard, "people") == {"id": "integer", "name": "text"}
    click_next(qtbot, wizard)
    report = run(qtbot, wizard.migrate_page)
    assert report.exit_code == 0, report.to_json()
    assert target_db.rows("SELECT id, name FROM people") == [(1, "Café “Noël” €5")]
    assert wizard.state.options.csv_encoding == "cp1252"  # saved with the migration
