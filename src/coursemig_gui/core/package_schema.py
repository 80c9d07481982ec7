"""An export package's ``schema.sql``: the CREATE TABLE statements, the ``\\copy`` line that
loads each file and the identities moved on after it, for psql."""

from __future__ import annotations

from psycopg import sql

from coursemig_gui.core.catalog import Catalog, Column
from coursemig_gui.core.ddl import INDEXES_MARKER, ddl_script
from coursemig_gui.core.export_package import PackageTable


def setval_line(qualified, name: str, column: Column):
    """``schema.sql``'s line that moves one identity after its file is loaded: to the source's
    next id, or one past the largest loaded id when that is further (or the source's is not
    known)."""
    state = column.sequence
    seq = sql.SQL("pg_get_serial_sequence({}, {})").format(
        sql.Literal(qualified.as_string(None)), sql.Literal(name)
    )
    if state is None or state.next_value is None:
        return sql.SQL("SELECT setval({}, max({})) FROM {};").format(
            seq, sql.Identifier(name), qualified
        )
    up = state.increment > 0
    end = state.max_value if up else state.min_value
    # past its last value (used up on the source) it is left at that value, used, so the next
    # nextval() fails as the source's would; setval() refuses a value beyond it
    return sql.SQL(
        "SELECT setval({seq}, {clamp}(n, {end})::bigint, n {beyond} {end}) "
        "FROM (SELECT {pick}({next}::numeric, {extreme}({col})::numeric + {inc}) AS n "
        "FROM {tbl}) s;"
    ).format(
        seq=seq,
        clamp=sql.SQL("LEAST" if up else "GREATEST"),
        end=sql.Literal(end),
        beyond=sql.SQL(">" if up else "<"),
        pick=sql.SQL("GREATEST" if up else "LEAST"),
        next=sql.Literal(state.next_value),
        extreme=sql.SQL("max" if up else "min"),
        col=sql.Identifier(name),
        inc=sql.Literal(state.increment),
        tbl=qualified,
    )


def schema_script(entries: list[PackageTable], ordered: list, options) -> str:
    """``schema.sql``: the CREATE TABLE statements (with the export's names and types), the
    ``\\copy`` line that loads each file, and the foreign keys after them, for psql.

    ``ordered`` are the export's mappings, parents before children."""
    catalog = Catalog(options.source_schema, tuple(e.table for e in entries))
    by_source = {e.table.name: e for e in entries}
    used = [tm for tm in ordered if tm.include and tm.source in by_source]
    copies = []
    for tm in used:
        columns = [
            tm.target_column(c.name) or c.name
            for c in by_source[tm.source].table.columns
            if c.generated is None  # not in the file: the table computes it
        ]
        copies.append(
            sql.SQL("\\copy {} ({}) FROM {} WITH (FORMAT csv, HEADER true)")
            .format(
                sql.Identifier(options.target_schema, tm.target),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.Literal(by_source[tm.source].file),
            )
            .as_string(None)
        )
        for column in by_source[tm.source].table.columns:
            if column.identity or (column.default or "").startswith(
                "nextval("
            ):  # the next INSERT gets the source's next id, and never a loaded one
                name = tm.target_column(column.name) or column.name
                qualified = sql.Identifier(options.target_schema, tm.target)
                copies.append(setval_line(qualified, name, column).as_string(None))
    marker = "\n\n-- after every table is loaded\n"
    creates, _, fks = ddl_script(catalog, used, options).partition(marker)
    creates, _, indexes = creates.partition(INDEXES_MARKER)
    text = (
        "-- Made by CourseMig with the CSV files next to it. Run it with psql from this folder:\n"
        "-- the tables are created, each file is loaded (parents first), then the indexes and\n"
        "-- the foreign keys.\n"
        f"\n{creates.rstrip()}\n\n-- the files, parents first\n" + "\n".join(copies) + "\n"
    )
    if indexes:  # built once over the loaded rows, as CourseMig builds them
        text += f"\n{INDEXES_MARKER.lstrip()}{indexes.rstrip()}\n"
    return text + (f"\n{marker.lstrip()}{fks}" if fks else "")
