"""Column names made only of white space or control characters ("\\r", " ", "\\t", "\\x01").

PostgreSQL takes any quoted name but the empty one, so such a column must copy. Found by
test_fuzz.py (a column named "\\r"): validation read it as a blank target name and refused it.
The import route takes the names from the export's manifest (issue 20): the header of a checked
file is not parsed for them, so blank names survive the round trip.
"""

from __future__ import annotations

import pytest
from fault_helpers import mappings_for, table_text
from psycopg import sql

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.mapping import validate
from coursemig_gui.core.options import MigrationOptions

pytestmark = pytest.mark.bad_input

NAMES = ["\r", " ", "\t", "\n", "\x01", " id "]
TABLE = "blank_names"


@pytest.fixture
def blank_source(empty_source_db):
    with empty_source_db.connect(autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier(TABLE),
                sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(n)) for n in NAMES),
            )
        )
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s)").format(sql.Identifier(TABLE)),
            ["cr", "space", "tab", "lf", "soh", "padded"],
        )
    return empty_source_db


def test_blank_column_names_pass_validation(blank_source):
    mappings = mappings_for(blank_source, [TABLE])
    assert [c.target for c in mappings[0].columns] == NAMES
    with open_session(blank_source.endpoint) as conn:
        catalog = read_catalog(conn)
    assert [p.message for p in validate(mappings, catalog) if p.is_error] == []


@pytest.mark.parametrize("route", [Route.DIRECT, Route.DIRECT_KEEP_CSV])
def test_blank_column_names_copy_directly(blank_source, target_db, tmp_path, route):
    mappings = mappings_for(blank_source, [TABLE])
    options = MigrationOptions(route=route, csv_dir=str(tmp_path))
    report = run_migration(blank_source.endpoint, target_db.endpoint, mappings, options)
    t = report.tables[0] if report.tables else None
    assert report.exit_code == 0, (report.message, t and t.message, t and t.detail)
    assert t.verification == "match", t.verification_detail
    assert table_text(target_db, mappings[0].target) == table_text(blank_source, TABLE)


def test_blank_column_names_export_and_import(blank_source, target_db, tmp_path):
    mappings = mappings_for(blank_source, [TABLE])
    export = MigrationOptions(route=Route.EXPORT, csv_dir=str(tmp_path))
    assert run_migration(blank_source.endpoint, None, mappings, export).exit_code == 0
    options = MigrationOptions(route=Route.IMPORT, csv_dir=str(tmp_path))
    report = run_migration(None, target_db.endpoint, mappings, options)
    t = report.tables[0] if report.tables else None
    assert report.exit_code == 0, (report.message, t and t.message, t and t.detail)
    assert table_text(target_db, mappings[0].target) == table_text(blank_source, TABLE)
