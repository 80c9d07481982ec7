"""Issue 20: the CSV hand-over carries its schema and its proof.

An export of the fixture Django project's app, imported into an empty target, gives the same
tables as the source (types, NOT NULLs, keys, foreign keys, identities, every value), checked
from both catalogs; a file changed on its way is refused before anything of it is loaded.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import Table, read_catalog
from coursemig_gui.core.export_package import MANIFEST_NAME, SCHEMA_NAME

APP_TABLES = [
    "courses_course",
    "courses_coursesectionlink",
    "courses_coursesectionlink_sections",
    "courses_degree",
    "courses_meetinglocation",
    "courses_meetingtime",
    "courses_program",
    "courses_section",
    "courses_specialization",
]
SEED_RENAMES = {
    ("courses_meetingtime", "start"): "start_time",
    ("courses_meetingtime", "end"): "end_time",
}
RESERVED_RENAMES = {("courses_meetingtime", "end"): "end_time"}  # start is not reserved


def _catalog(db):
    with db.admin_connect() as conn:
        return read_catalog(conn)


def _export(source_db, folder: Path, *extra: str) -> None:
    code = main(
        ["export", "--source", source_db.url, "--app", "courses", "--to", str(folder), "-q", *extra]
    )
    assert code == 0


def _import(target_db, path: Path, capsys, *extra: str) -> tuple[int, dict, str]:
    report = path.parent / f"{path.name}-report.json"
    capsys.readouterr()
    code = main(
        [
            "import",
            str(path),
            "--target",
            target_db.url,
            "--json-report",
            str(report),
            "--rejects-dir",
            str(path.parent / "rejects"),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, json.loads(report.read_text()) if report.exists() else {}, err


def _shape(table: Table, renames: dict[str, str], names: dict[str, str]) -> dict:
    """Everything the catalog says about a table, in target names (constraint names aside)."""

    def col(c: str) -> str:
        return renames.get(c, c)

    return {
        "columns": [(col(c.name), c.type, c.not_null, bool(c.identity)) for c in table.columns],
        "primary_key": [col(c) for c in table.primary_key],
        "unique": sorted(tuple(col(c) for c in u) for u in table.unique),
        "foreign_keys": sorted(
            (tuple(col(c) for c in fk.columns), names[fk.ref_table], tuple(fk.ref_columns))
            for fk in table.foreign_keys
        ),
    }


def _rows(db, table: str, columns: list[str]) -> list[tuple]:
    return db.rows(
        sql.SQL("SELECT {} FROM {} ORDER BY 1, 2").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
        )
    )


def _assert_same_tables(source_db, target_db, names: dict[str, str], renames=SEED_RENAMES) -> None:
    source, target = _catalog(source_db), _catalog(target_db)
    for src, dst in names.items():
        col_renames = {c: new for (t, c), new in renames.items() if t == src}
        s, t = source.table(src), target.table(dst)
        assert t is not None, dst
        assert _shape(t, {}, {n: n for n in names.values()}) == _shape(s, col_renames, names), dst
        columns = [c.name for c in s.columns]
        assert _rows(target_db, dst, [col_renames.get(c, c) for c in columns]) == _rows(
            source_db, src, columns
        ), dst
        for column in (c for c in s.columns if c.identity):
            # the identity moved past the loaded ids: the application's next INSERT works
            top = target_db.rows(
                sql.SQL("SELECT coalesce(max({}), 0) FROM {}").format(
                    sql.Identifier(column.name), sql.Identifier(dst)
                )
            )[0][0]
            following = target_db.rows(
                "SELECT nextval(pg_get_serial_sequence(%s, %s))",
                [sql.Identifier(dst).as_string(None), column.name],
            )[0][0]
            assert following > top, dst


def test_export_then_import_gives_the_source_tables(source_db, target_db, tmp_path, capsys):
    folder = tmp_path / "export"
    _export(source_db, folder)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["format"] == "coursemig-export" and manifest["version"] == 1
    assert sorted(t["name"] for t in manifest["tables"]) == APP_TABLES
    course = next(t for t in manifest["tables"] if t["name"] == "courses_course")
    assert course["app"] == "courses" and course["model"] == "course"
    assert course["rows"] == 3547 and len(course["sha256"]) == 64
    assert ["program_id"] == [c for fk in course["foreign_keys"] for c in fk["columns"]]
    assert "CREATE TABLE" in (folder / SCHEMA_NAME).read_text()

    code, report, err = _import(target_db, folder, capsys, "--rename-reserved")
    assert code == 0, err
    names = {t: t.removeprefix("courses_") for t in APP_TABLES}
    _assert_same_tables(source_db, target_db, names, RESERVED_RENAMES)
    assert {t["verification"] for t in report["tables"]} == {"match"}, report["tables"]
    assert all("checksum matches the export" in t["verification_detail"] for t in report["tables"])


def test_seed_renames_chosen_on_the_import_side(source_db, target_db, tmp_path, capsys):
    folder = tmp_path / "export"
    _export(source_db, folder, "--keep-names")
    code, report, err = _import(
        target_db,
        folder,
        capsys,
        "--keep-names",
        "--rename-table",
        "courses_course=course",
        "--rename-table",
        "courses_meetingtime=meetingtime",
        "--rename-column",
        "courses_meetingtime.start=start_time",
        "--rename-column",
        "courses_meetingtime.end=end_time",
    )
    assert code == 0, err
    names = {t: t for t in APP_TABLES} | {
        "courses_course": "course",
        "courses_meetingtime": "meetingtime",
    }
    _assert_same_tables(source_db, target_db, names)
    assert {t["verification"] for t in report["tables"]} == {"match"}


@pytest.mark.parametrize("damage", ["one byte changed", "last line cut"])
def test_a_damaged_file_is_refused_before_loading(source_db, target_db, tmp_path, capsys, damage):
    folder = tmp_path / "export"
    _export(source_db, folder)
    path = folder / "courses_specialization.csv"
    data = path.read_bytes()
    if damage == "one byte changed":
        at = data.index(b"\n") + 5  # a data row, not the header
        data = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
    else:
        data = data[: data.rstrip(b"\n").rindex(b"\n") + 1]
    path.write_bytes(data)

    code, report, err = _import(target_db, folder, capsys)
    assert code == 1
    failed = next(t for t in report["tables"] if t["source"] == "courses_specialization")
    assert failed["status"] == "failed" and failed["rows_written"] == 0
    assert (
        "The file courses_specialization.csv is not the file that was exported"
        in (failed["message"])
    )
    assert "courses_specialization.csv" in err
    # nothing of it was loaded: the table was never even created; the others were
    assert target_db.rows("SELECT to_regclass('public.specialization')") == [(None,)]
    others = [t for t in report["tables"] if t["source"] != "courses_specialization"]
    assert {t["verification"] for t in others} == {"match"}


def test_zip_export_imports_directly(source_db, target_db, tmp_path, capsys):
    folder = tmp_path / "export"
    _export(source_db, folder, "--zip")
    packed = tmp_path / "export.zip"
    if os.name == "posix":  # every row is in it: only its owner may read it, as the CSV files
        assert stat.S_IMODE(packed.stat().st_mode) == 0o600
    with zipfile.ZipFile(packed) as zf:
        names = zf.namelist()
    assert names[-1] == MANIFEST_NAME and SCHEMA_NAME in names
    assert sorted(n for n in names if n.endswith(".csv")) == [f"{t}.csv" for t in APP_TABLES]
    code, report, err = _import(target_db, packed, capsys, "--rename-reserved")
    assert code == 0, err
    assert {t["verification"] for t in report["tables"]} == {"match"}
    assert target_db.rows("SELECT count(*) FROM course") == [(3547,)]

    # cut short on its way: said as such (it read "The folder … does not exist")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    code, _, err = _import(target_db, cut, capsys)
    assert code == 2, err
    assert "cut.zip is neither a folder nor a zip file CourseMig can read" in err
    assert "does not exist" not in err


def test_schema_sql_runs_in_psql(source_db, target_db, tmp_path):
    import shutil
    import subprocess

    if shutil.which("psql") is None:
        pytest.fail("psql is needed for this test (apt-get install postgresql-client)")
    folder = tmp_path / "export"
    _export(source_db, folder, "--rename-reserved")
    result = subprocess.run(
        ["psql", target_db.url, "-v", "ON_ERROR_STOP=1", "-q", "-f", SCHEMA_NAME],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    names = {t: t.removeprefix("courses_") for t in APP_TABLES}
    _assert_same_tables(source_db, target_db, names, RESERVED_RENAMES)


def test_columns_left_out_on_the_import_side(source_db, target_db, tmp_path):
    """The Columns page's choices apply to a package too: a column left out is not loaded (its
    field is taken out of each record), a rename and a changed type are kept; the check against
    the manifest then says what it could compare."""
    from coursemig_gui.core.engine.routes import Route
    from coursemig_gui.core.engine.run import run_migration
    from coursemig_gui.core.export_package import read_package
    from coursemig_gui.core.mapping import default_mappings
    from coursemig_gui.core.options import MigrationOptions

    folder = tmp_path / "export"
    _export(source_db, folder)
    mappings = default_mappings(read_package(folder).catalog())
    by_source = {tm.source: tm for tm in mappings}
    by_source["courses_course"].column("notes").include = False
    by_source["courses_meetingtime"].column("end").target = "end_time"
    by_source["courses_section"].column("enrollment").target_type = "numeric(10,2)"
    options = MigrationOptions(route=Route.IMPORT, csv_dir=str(folder))
    report = run_migration(None, target_db.endpoint, mappings, options)
    assert report.exit_code == 0, [(t.target, t.message) for t in report.tables]
    results = {t.source: t for t in report.tables}
    assert results["courses_course"].verification == "counts match"
    assert "columns were left out" in results["courses_course"].verification_detail
    assert results["courses_section"].verification == "counts match"
    assert "types change" in results["courses_section"].verification_detail
    assert results["courses_meetingtime"].verification == "match"  # a rename changes no value

    course = _catalog(target_db).table("course")
    assert "notes" not in course.column_names and course.primary_key == ("pid",)
    kept = [c for c in course.column_names]
    assert _rows(target_db, "course", kept) == _rows(source_db, "courses_course", kept)
    assert target_db.rows("SELECT count(*) FROM course WHERE description = ''") == source_db.rows(
        "SELECT count(*) FROM courses_course WHERE description = ''"
    )  # an empty string stays one, a NULL stays a NULL
    section = _catalog(target_db).table("section")
    assert section.column("enrollment").type == "numeric(10,2)"


def test_an_import_into_narrower_existing_columns_is_refused_not_rounded(
    source_db, target_db, tmp_path, capsys
):
    """An existing table whose types would round the exported values (numeric scale,
    fractional seconds, double to real, a time of day cut off) is refused before a row goes
    in, as the direct route refuses it; the package's types say what the values were."""
    with psycopg.connect(source_db.url, autocommit=True) as conn:  # owned by the app's role
        conn.execute(
            "CREATE TABLE measures (id int PRIMARY KEY, amount numeric(12,4),"
            " taken timestamptz, ratio double precision)"
        )
        conn.execute(
            "INSERT INTO measures VALUES (1, 12.3456, '2020-01-01 10:00:00.789+00', 0.123456789012345)"
        )
    folder = tmp_path / "export"
    code = main(
        ["export", "--source", source_db.url, "--tables", "measures", "--to", str(folder), "-q"]
    )
    assert code == 0
    with psycopg.connect(target_db.url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE measures (id int PRIMARY KEY, amount numeric(12,1),"
            " taken timestamptz(0), ratio real)"
        )
    code, report, err = _import(target_db, folder, capsys, "--if-exists", "append")
    assert code == 1, err
    (table,) = report["tables"]
    assert table["status"] == "failed"
    assert "would change values on the way in" in table["message"], table
    for column in ("amount", "taken", "ratio"):
        assert column in table["message"]
    with target_db.admin_connect() as conn:
        assert conn.execute("SELECT count(*) FROM measures").fetchone() == (0,)


def test_names_chosen_at_export_are_the_ones_import_makes(source_db, target_db, tmp_path, capsys):
    """Renames given to the export reach its manifest, not only schema.sql: the same package
    gives the same tables by psql or by import; a rename given to the import still wins."""
    folder = tmp_path / "export"
    _export(
        source_db,
        folder,
        "--rename-table",
        "courses_program=study_program",
        "--rename-column",
        "courses_program.subject=subject_name",
    )
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    program = next(t for t in manifest["tables"] if t["name"] == "courses_program")
    assert program["import_as"] == "study_program"
    assert 'CREATE TABLE "public"."study_program"' in (folder / SCHEMA_NAME).read_text()
    code, report, err = _import(target_db, folder, capsys)
    assert code == 0, err
    assert "study_program" in {t["target"] for t in report["tables"]}
    columns = target_db.rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'study_program'"
    )
    assert {c for (c,) in columns} == {"subject_code", "subject_name"}
    # the course table's foreign key follows its parent's new name
    assert target_db.rows(
        "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = 'course'::regclass"
    ) == [("study_program",)]
