"""Generated columns (``GENERATED ALWAYS AS (…) STORED``, what Django 5's GeneratedField makes):
never copied, computed by the target. A new table gets the column with the source's expression
(a renamed column renamed inside it), so an UPDATE recomputes it; an existing table made like
the source (``manage.py migrate`` on the new database) loads, where COPY refused the column
before; an export lists it in the manifest, leaves its values out of the file, and import and
schema.sql make it again. An existing plain column is given the source's values."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.export_package import MANIFEST_NAME, SCHEMA_NAME
from coursemig_gui.core.mapping import IfExists, default_mappings
from coursemig_gui.core.options import MigrationOptions

TABLE = "gc_lesson"
# as Django's migration for a GeneratedField writes it, plus one computed from two columns
CREATE = """
CREATE TABLE gc_lesson (id bigint PRIMARY KEY, title text NOT NULL, minutes integer);
ALTER TABLE gc_lesson ADD COLUMN title_length integer GENERATED ALWAYS AS (length(title)) STORED;
ALTER TABLE gc_lesson ADD COLUMN label text GENERATED ALWAYS AS (title || ':' || minutes) STORED
"""
ROWS = "INSERT INTO gc_lesson (id, title, minutes) VALUES (1, 'abc', 5), (2, 'hello', NULL)"


@pytest.fixture
def source(source_db):
    with source_db.admin_connect() as conn:
        conn.execute("SET ROLE django")
        for statement in CREATE.split(";\n"):
            conn.execute(statement)
        conn.execute(ROWS)
    return source_db


def _generated(db, table: str = TABLE) -> dict[str, str]:
    """The table's generated columns and their expressions, from the target's catalog."""
    return dict(
        db.rows(
            "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
            "JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = %s::regclass AND a.attgenerated = 's'",
            [table],
        )
    )


def _mappings(source, renames: dict[str, str] | None = None, left_out: str | None = None):
    with open_session(source.endpoint) as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, [TABLE])
    for cm in mappings[0].columns:
        cm.target = (renames or {}).get(cm.source, cm.target)
        cm.include = cm.source != left_out
    return catalog, mappings


def _run(source, target, mappings, **options):
    events: list = []
    report = run_migration(
        source.endpoint, target.endpoint, mappings, MigrationOptions(**options), events.append
    )
    warnings = [e.text for e in events if isinstance(e, LogMessage) and e.level == "warning"]
    return report, warnings


def test_the_catalog_knows_a_generated_column(source):
    catalog, _ = _mappings(source)
    table = catalog.table(TABLE)
    assert table.column("title_length").generated == "length(title)"
    assert table.column("title_length").generated_from == ("title",)
    assert table.column("title_length").default is None
    assert set(table.column("label").generated_from) == {"title", "minutes"}
    assert table.column("title").generated is None


def test_a_new_table_computes_it_and_an_update_recomputes_it(source, target_db):
    _, mappings = _mappings(source, {"title": "name"})  # renamed inside the expressions
    report, warnings = _run(source, target_db, mappings)
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert warnings == []
    assert _generated(target_db) == {
        "title_length": "length(name)",
        "label": "((name || ':'::text) || minutes)",
    }
    assert target_db.rows(f"SELECT id, title_length, label FROM {TABLE} ORDER BY id") == [
        (1, 3, "abc:5"),
        (2, 5, None),
    ]
    detail = report.tables[0].verification_detail
    assert report.tables[0].verification == "match", detail
    assert detail == (
        "2 rows; content checksum matches; the generated columns title_length, label are "
        "computed by the target and not compared here ('coursemig compare' compares them)"
    )
    with target_db.connect() as conn:
        conn.execute(f"UPDATE {TABLE} SET name = 'abcdefgh' WHERE id = 1")
        conn.commit()
    assert target_db.rows(f"SELECT title_length FROM {TABLE} WHERE id = 1") == [(8,)]


def test_show_sql_makes_it_generated(source, target_db):
    from coursemig_gui.core.ddl import ddl_script

    catalog, mappings = _mappings(source, {"minutes": "duration"})
    text = ddl_script(catalog, mappings, MigrationOptions())
    assert '"title_length" integer GENERATED ALWAYS AS (length(title)) STORED' in text
    assert """GENERATED ALWAYS AS (((title || ':'::text) || "duration")) STORED""" in text


def test_one_reading_a_column_left_out_is_left_out_and_said(source, target_db):
    _, mappings = _mappings(source, left_out="minutes")
    report, warnings = _run(source, target_db, mappings)
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert warnings == [
        "The column label of gc_lesson is computed by the database (GENERATED ALWAYS AS "
        "((title || ':'::text) || minutes)), and was left out of the new table gc_lesson: it "
        "is computed from minutes, which is not copied. Add it by hand if you need it."
    ]
    assert _generated(target_db) == {"title_length": "length(title)"}
    assert report.tables[0].verification == "match"


def test_an_existing_table_made_like_the_source_loads(source, target_db):
    """As ``manage.py migrate`` makes it on the new database: COPY refused the generated column
    ("column "title_length" is a generated column") before."""
    with target_db.connect() as conn:
        for statement in CREATE.split(";\n"):
            conn.execute(statement)
        conn.commit()
    _, mappings = _mappings(source)
    mappings[0].if_exists = IfExists.APPEND
    report, _ = _run(source, target_db, mappings)
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert report.tables[0].verification == "match", report.tables[0].verification_detail
    assert target_db.rows(f"SELECT id, title_length, label FROM {TABLE} ORDER BY id") == [
        (1, 3, "abc:5"),
        (2, 5, None),
    ]


def test_an_existing_plain_column_gets_the_sources_values(source, target_db):
    with target_db.connect() as conn:
        conn.execute(
            f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, title text NOT NULL, "
            "minutes integer, title_length integer, label text)"
        )
        conn.commit()
    _, mappings = _mappings(source)
    mappings[0].if_exists = IfExists.APPEND
    report, _ = _run(source, target_db, mappings)
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert report.tables[0].verification == "match"
    assert "generated" not in report.tables[0].verification_detail
    assert target_db.rows(f"SELECT id, title_length, label FROM {TABLE} ORDER BY id") == [
        (1, 3, "abc:5"),
        (2, 5, None),
    ]


def test_compare_compares_the_generated_values(source, target_db):
    """A target whose expression differs from the source's shows as a difference; one left out
    of the new table is not compared, and the other columns are."""
    from coursemig_gui.core.compare.run import compare_tables

    with target_db.connect() as conn:
        conn.execute(
            f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, title text NOT NULL, minutes integer, "
            "title_length integer GENERATED ALWAYS AS (length(title) + 1) STORED, "
            "label text GENERATED ALWAYS AS (title || ':' || minutes) STORED)"
        )
        conn.commit()
    _, mappings = _mappings(source)
    mappings[0].if_exists = IfExists.APPEND
    report, _ = _run(source, target_db, mappings)
    assert report.exit_code == 0, [t.message for t in report.tables]
    compared = compare_tables(source.endpoint, target_db.endpoint, mappings).tables[0]
    assert compared.different == 2, compared
    assert {c.column for row in compared.rows for c in row.columns} == {"title_length"}


def test_compare_after_a_generated_column_was_left_out(source, target_db):
    from coursemig_gui.core.compare.run import compare_tables

    _, mappings = _mappings(source, left_out="minutes")
    report, _ = _run(source, target_db, mappings)
    assert report.exit_code == 0, [t.message for t in report.tables]
    compared = compare_tables(source.endpoint, target_db.endpoint, mappings).tables[0]
    assert compared.identical == 2 and not compared.message, compared
    assert "label" in compared.left_out


def _export(source, folder: Path) -> None:
    code = main(["export", "--source", source.url, "--tables", TABLE, "--to", str(folder), "-q"])
    assert code == 0


def test_export_lists_it_and_import_makes_it(source, target_db, tmp_path, capsys):
    folder = tmp_path / "export"
    _export(source, folder)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    columns = {c["name"]: c for c in manifest["tables"][0]["columns"]}
    assert columns["title_length"]["generated"] == "length(title)"
    assert columns["title_length"]["generated_from"] == ["title"]
    assert "generated" not in columns["title"]
    header = (folder / f"{TABLE}.csv").read_text().splitlines()[0]
    assert header == "id,title,minutes"  # the values are computed where it is imported
    code = main(
        [
            "import",
            str(folder),
            "--target",
            target_db.url,
            "-q",
            "--rename-column",
            f"{TABLE}.title=name",
            "--json-report",
            str(tmp_path / "r.json"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    table = json.loads((tmp_path / "r.json").read_text())["tables"][0]
    assert table["verification"] == "match", table
    assert _generated(target_db)["title_length"] == "length(name)"
    assert target_db.rows(f"SELECT id, title_length, label FROM {TABLE} ORDER BY id") == [
        (1, 3, "abc:5"),
        (2, 5, None),
    ]


def test_an_older_manifest_imports_it_as_before(source, target_db, tmp_path, capsys):
    """A manifest without "generated" (an older CourseMig's) lists a plain column, whose
    values its file holds: it imports as such a package always did."""
    folder = tmp_path / "export"
    _export(source, folder)
    path = folder / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    manifest["tables"][0]["columns"] = [
        c for c in manifest["tables"][0]["columns"] if "generated" not in c
    ]
    path.write_text(json.dumps(manifest))
    code = main(["import", str(folder), "--target", target_db.url, "-q"])
    assert code == 0, capsys.readouterr().err
    assert _generated(target_db) == {}
    assert target_db.rows(f"SELECT id, title FROM {TABLE} ORDER BY id") == [
        (1, "abc"),
        (2, "hello"),
    ]


def test_schema_sql_makes_it_in_psql(source, target_db, tmp_path):
    if shutil.which("psql") is None:
        pytest.fail("psql is needed for this test (apt-get install postgresql-client)")
    folder = tmp_path / "export"
    _export(source, folder)
    text = (folder / SCHEMA_NAME).read_text()
    assert '("id", "title", "minutes") FROM' in text
    result = subprocess.run(
        ["psql", target_db.url, "-v", "ON_ERROR_STOP=1", "-q", "-f", SCHEMA_NAME],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert _generated(target_db) == {
        "title_length": "length(title)",
        "label": "((title || ':'::text) || minutes)",
    }
    assert target_db.rows(f"SELECT id, title_length, label FROM {TABLE} ORDER BY id") == [
        (1, 3, "abc:5"),
        (2, 5, None),
    ]


def test_citus_distributed_and_reference_tables_compute_it(citus_cluster, source, citus_db):
    """Citus takes a stored generated column on a distributed and a reference table (tried on
    the real cluster); an UPDATE on the shards recomputes it."""
    from test_citus import mappings_for

    with source.admin_connect() as conn:
        conn.execute("SET ROLE django")
        conn.execute(f"CREATE TABLE gc_ref (LIKE {TABLE} INCLUDING ALL)")
        conn.execute("INSERT INTO gc_ref (id, title, minutes) VALUES (1, 'x', 1)")
    mappings = mappings_for(
        source, {TABLE: "distributed:id", "gc_ref": "reference"}, [TABLE, "gc_ref"]
    )
    report, warnings = _run(source, citus_db, mappings)
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    assert warnings == []
    assert _generated(citus_db) == {
        "title_length": "length(title)",
        "label": "((title || ':'::text) || minutes)",
    }
    assert _generated(citus_db, "gc_ref")["title_length"] == "length(title)"
    with citus_db.connect() as conn:
        conn.execute(f"UPDATE {TABLE} SET title = 'abcdefgh' WHERE id = 1")
        conn.commit()
    assert citus_db.rows(f"SELECT id, title_length FROM {TABLE} ORDER BY id") == [(1, 8), (2, 5)]
    assert citus_db.rows("SELECT title_length, label FROM gc_ref") == [(1, "x:1")]


def test_citus_refuses_a_generated_distribution_column(source):
    from test_citus import mappings_for

    from coursemig_gui.core.citus.rules import validate_placements

    catalog, _ = _mappings(source)
    mappings = mappings_for(source, {TABLE: "distributed:title_length"}, [TABLE])
    problems = [p.message for p in validate_placements(mappings, catalog) if p.is_error]
    assert (
        "gc_lesson cannot be distributed by title_length: its values are computed by the "
        "database (GENERATED ALWAYS AS length(title)), and Citus does not distribute a table by "
        "a generated column. Choose another column."
    ) in problems
