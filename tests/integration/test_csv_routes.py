"""CSV files as a product and as a route: export without SUPERUSER, load with psql's own
\\copy, and import by header name into the user's hand-written tables (the seed's p.sql)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from psycopg import sql

from coursemig_gui.cli import main

P_SQL = Path(__file__).resolve().parents[1] / "fixtures" / "p.sql"
SEED_TABLES = {
    "courses_course": "course",
    "courses_degree": "degree",
    "courses_meetinglocation": "meetinglocation",
    "courses_meetingtime": "meetingtime",
    "courses_program": "program",
}
RENAMED = {"start": "start_time", "end": "end_time"}
KEYS = {
    "course": "pid",
    "degree": "code",
    "meetinglocation": "slug",
    "meetingtime": "slug",
    "program": "subject_code",
}


def _make_seed_tables(target_db) -> None:
    with target_db.connect(autocommit=True) as conn:
        conn.execute(P_SQL.read_text())


def _export(source_db, folder: Path) -> None:
    code = main(
        [
            "export",
            "--source",
            source_db.url,
            "--to",
            str(folder),
            "--tables",
            ",".join(SEED_TABLES),
            "-q",
        ]
    )
    assert code == 0


def _assert_same(source_db, target_db) -> None:
    for src, dst in SEED_TABLES.items():
        header = [
            r[0]
            for r in source_db.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                [src],
            )
        ]
        target_cols = [RENAMED.get(c, c) if dst == "meetingtime" else c for c in header]
        key = KEYS[dst]
        a = source_db.rows(
            sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
                sql.SQL(", ").join(map(sql.Identifier, header)),
                sql.Identifier(src),
                sql.Identifier(key),
            )
        )
        b = target_db.rows(
            sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
                sql.SQL(", ").join(map(sql.Identifier, target_cols)),
                sql.Identifier(dst),
                sql.Identifier(key),
            )
        )
        assert a == b, dst


def test_export_needs_no_superuser_and_writes_headers(source_db, tmp_path):
    _export(source_db, tmp_path)
    with (tmp_path / "courses_course.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    assert header[-1] == "program_id"  # Django's order, as the user saw it
    assert len(rows) == source_db.rows("SELECT count(*) FROM courses_course")[0][0]


def test_psql_copy_loads_the_export_into_seed_tables(source_db, target_db, tmp_path):
    if shutil.which("psql") is None:
        pytest.fail("psql is needed for this test (apt-get install postgresql-client)")
    _export(source_db, tmp_path)
    _make_seed_tables(target_db)
    for src, dst in SEED_TABLES.items():
        with (tmp_path / f"{src}.csv").open(encoding="utf-8") as f:
            header = next(csv.reader(f))
        cols = ", ".join(f'"{RENAMED.get(c, c) if dst == "meetingtime" else c}"' for c in header)
        command = f"\\copy {dst} ({cols}) FROM '{tmp_path / (src + '.csv')}' CSV HEADER"
        result = subprocess.run(
            ["psql", target_db.url, "-v", "ON_ERROR_STOP=1", "-c", command],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
    _assert_same(source_db, target_db)


def test_import_matches_columns_by_name_into_hand_made_tables(source_db, target_db, tmp_path):
    _export(source_db, tmp_path)
    _make_seed_tables(target_db)
    code = main(
        [
            "import",
            str(tmp_path),
            "--target",
            target_db.url,
            "--if-exists",
            "append",
            "--rename-column",
            "courses_meetingtime.start=start_time",
            "--rename-column",
            "courses_meetingtime.end=end_time",
            "-q",
        ]
    )
    assert code == 0
    _assert_same(source_db, target_db)


def test_direct_and_keep_csv_in_one_run(source_db, target_db, tmp_path):
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--app",
            "courses",
            "--via-csv",
            str(tmp_path),
            "-q",
        ]
    )
    assert code == 0
    assert (tmp_path / "courses_course.csv").exists()
    assert not list(tmp_path.glob("*.part"))


def test_kept_csv_files_are_a_package_that_imports_elsewhere_with_types_and_keys(
    source_db, target_db, tmp_path
):
    """The files a copy keeps carry the export's manifest and schema.sql: imported elsewhere
    they give the same types, keys and identities, and the import proves their content (without
    them every column came back as text, with no key)."""
    import json

    from coursemig_gui.core.catalog import read_catalog

    kept = tmp_path / "kept"
    args = ["--source", source_db.url, "--target", target_db.url, "--app", "courses"]
    assert main(["migrate", *args, "--via-csv", str(kept), "--keep-names", "-q"]) == 0
    manifest = json.loads((kept / "coursemig-export.json").read_text())
    assert {t["file"] for t in manifest["tables"]} == {p.name for p in kept.glob("*.csv")}
    assert (kept / "schema.sql").exists()

    with target_db.connect(autocommit=True) as conn:
        conn.execute("CREATE SCHEMA handed")
    report = tmp_path / "import.json"
    code = main(
        ["import", str(kept), "--target", target_db.url, "--target-schema", "handed",
         "--keep-names", "--json-report", str(report), "-q"]
    )  # fmt: skip
    assert code == 0
    assert {t["verification"] for t in json.loads(report.read_text())["tables"]} == {"match"}
    with source_db.admin_connect() as conn:
        source = read_catalog(conn)
    with target_db.admin_connect() as conn:
        handed = read_catalog(conn, "handed")
    for table in handed.tables:
        original = source.table(table.name)
        assert [(c.name, c.type, c.not_null) for c in table.columns] == [
            (c.name, c.type, c.not_null) for c in original.columns
        ], table.name
        assert table.primary_key == original.primary_key, table.name
        assert len(table.foreign_keys) == len(original.foreign_keys), table.name
