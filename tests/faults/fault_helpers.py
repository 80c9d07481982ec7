"""Helpers shared by the fault tests (issue 9): mappings, and a whole-table comparison.

A plain module (imported as ``fault_helpers``, like ``citus_cluster`` in tests/),
not a conftest: a second module named ``conftest`` could shadow the suite's own."""

from __future__ import annotations

from psycopg import sql

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.mapping import default_mappings, select_tables


def mappings_for(source_db, tables: list[str] | None = None, apps: list[str] | None = None):
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    return default_mappings(catalog, select_tables(catalog, tables, apps or None))


def table_text(db, table: str, schema: str = "public") -> list[tuple]:
    """Every row of a table as text, sorted: compares values across servers exactly."""
    cols = [
        r[0]
        for r in db.rows(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            [sql.Identifier(schema, table).as_string(None)],
        )
    ]
    with db.admin_connect() as conn:
        for setting in (
            "TimeZone = 'UTC'",
            "DateStyle = 'ISO, YMD'",
            "IntervalStyle = 'postgres'",
            "extra_float_digits = 3",
            "bytea_output = 'hex'",
        ):
            conn.execute(f"SET {setting}")
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in cols),
            sql.Identifier(schema, table),
        )
        rows = conn.execute(query).fetchall()
    return sorted(rows, key=lambda r: tuple((v is None, v or "") for v in r))
