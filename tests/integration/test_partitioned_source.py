"""A partitioned source table (``PARTITION BY``), which ``COPY table TO`` refuses: it is listed
as one table (its partitions are not), read whole with ``COPY (SELECT …) TO``, straight into
the target and through an export package, and the copy is verified both ways."""

from __future__ import annotations

import json

from test_export_package import _import

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.session import open_session


def _partitioned(source_db) -> None:
    with source_db.admin_connect() as conn:
        conn.execute(
            "CREATE TABLE grades_grade (id integer PRIMARY KEY, letter text NOT NULL) "
            "PARTITION BY RANGE (id)"
        )
        conn.execute(
            "CREATE TABLE grades_grade_low PARTITION OF grades_grade FOR VALUES FROM (0) TO (100)"
        )
        conn.execute(
            "CREATE TABLE grades_grade_high PARTITION OF grades_grade "
            "FOR VALUES FROM (100) TO (1000)"
        )
        conn.execute(
            "INSERT INTO grades_grade SELECT g, chr(65 + g % 5) FROM generate_series(1, 500) g"
        )
        for table in ("grades_grade", "grades_grade_low", "grades_grade_high"):
            conn.execute(f"ALTER TABLE {table} OWNER TO {source_db.user}")  # fixed names


def test_a_partitioned_table_is_listed_without_its_partitions(source_db):
    """Its partitions' rows are read with it: listed too, they would be copied twice."""
    _partitioned(source_db)
    with open_session(source_db.endpoint) as conn:
        names = {t.name for t in read_catalog(conn).tables}
    assert "grades_grade" in names
    assert not names & {"grades_grade_low", "grades_grade_high"}


def test_a_partitioned_table_is_copied_whole_and_verified(source_db, target_db, tmp_path):
    _partitioned(source_db)
    report_file = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "-q",
            "--tables",
            "grades_grade",
            "--keep-names",
            "--json-report",
            str(report_file),
        ]
    )
    (table,) = json.loads(report_file.read_text())["tables"]
    assert code == 0, table
    assert (table["rows_read"], table["rows_written"], table["verification"]) == (500, 500, "match")
    assert target_db.rows("SELECT count(*), sum(id) FROM grades_grade") == [(500, 125250)]


def test_a_partitioned_table_goes_through_an_export_package(source_db, target_db, tmp_path, capsys):
    _partitioned(source_db)
    folder = tmp_path / "export"
    code = main(
        [
            "export",
            "--source",
            source_db.url,
            "--tables",
            "grades_grade",
            "--keep-names",
            "--to",
            str(folder),
            "-q",
        ]
    )
    assert code == 0
    code, report, err = _import(target_db, folder, capsys)
    assert code == 0, err
    (table,) = report["tables"]
    assert table["rows_written"] == 500 and table["verification"] == "match", table
    assert "checksum matches the export" in table["verification_detail"]
    assert target_db.rows("SELECT count(*), sum(id) FROM grades_grade") == [(500, 125250)]
