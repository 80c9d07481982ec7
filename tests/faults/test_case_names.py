"""Two tables whose names differ only by case ("Course", "course") copy side by side, and their
CSV files stay apart even where the file system folds case (Windows, macOS)."""

from __future__ import annotations

import pytest
from fault_helpers import mappings_for, table_text
from psycopg import sql

from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.options import MigrationOptions

pytestmark = pytest.mark.bad_input

TABLES = ["Course", "course"]


def test_tables_differing_by_case_copy_with_files_apart(empty_source_db, target_db, tmp_path):
    with empty_source_db.connect(autocommit=True) as conn:
        for i, name in enumerate(TABLES):
            conn.execute(
                sql.SQL(
                    'CREATE TABLE {} (id integer PRIMARY KEY, "Title" text, title text)'
                ).format(sql.Identifier(name))
            )
            conn.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(sql.Identifier(name)),
                [i, f"upper {name}", f"lower {name}"],
            )
    mappings = mappings_for(empty_source_db, TABLES)
    options = MigrationOptions(route=Route.DIRECT_KEEP_CSV, csv_dir=str(tmp_path))
    report = run_migration(empty_source_db.endpoint, target_db.endpoint, mappings, options)
    assert report.exit_code == 0, (report.message, [(t.message, t.detail) for t in report.tables])
    for name in TABLES:
        assert table_text(target_db, name) == table_text(empty_source_db, name)
    files = [p.name for p in tmp_path.iterdir() if p.suffix == ".csv"]
    assert len(files) == 2 and len({f.casefold() for f in files}) == 2, files
