"""The statements that place a table on a Citus cluster, and the order tables are created and
loaded in."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import Table
from coursemig_gui.core.mapping import Placement, TableMapping

# -- what the cluster holds -----------------------------------------------------------------------


def held_placements(
    conn: psycopg.Connection, schema: str, tables: Iterable[str]
) -> dict[str, tuple[Placement, str | None]]:
    """table -> (its placement, its distribution column), as the cluster holds it, for each of
    ``tables`` that is in ``schema``: from Citus's own catalog, not from the plan (a table that
    was there before the run keeps the placement it had). A table Citus does not manage, or
    manages as a local one, is local."""
    # citus_tables says the same, but it asks every worker for the shards' sizes: a worker
    # that is down would fail it. These are citus_tables' own rules, on the coordinator only.
    rows = conn.execute(
        "SELECT c.relname, CASE WHEN p.partkey IS NOT NULL THEN 'distributed'"
        " WHEN p.repmodel = 't' THEN 'reference' WHEN p.colocationid <> 0 THEN 'distributed'"
        " END, column_to_column_name(p.logicalrelid, p.partkey)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid"
        " WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p')",
        [schema, list(tables)],
    ).fetchall()
    kinds = {"distributed": Placement.DISTRIBUTED, "reference": Placement.REFERENCE}
    return {
        name: (kinds.get(kind or "", Placement.LOCAL), column if kind == "distributed" else None)
        for name, kind, column in rows
    }


def placement_words(placement: Placement, column: str | None) -> str:
    """ "a distributed table (by pid)", "a reference table", "a local table"."""
    by = f" (by {column})" if placement == Placement.DISTRIBUTED and column else ""
    return f"a {placement.value} table{by}"


# -- statements -----------------------------------------------------------------------------------


def distribution_target_column(tm: TableMapping) -> str | None:
    """The target column ``tm`` is distributed by. ``distribution_column`` names the target
    column (after renames); a source column name is accepted when no target column has it."""
    name = tm.distribution_column
    if not name:
        return None
    included = tm.included_columns
    if any(cm.target == name for cm in included):
        return name
    match = next((cm for cm in included if cm.source == name), None)
    return match.target if match else None


def _distribution_source_column(tm: TableMapping) -> str | None:
    target = distribution_target_column(tm)
    return next((cm.source for cm in tm.included_columns if cm.target == target), None)


def distributed_by(tm: TableMapping) -> str | None:
    """The source column a distributed table is distributed by; None for any other table."""
    return _distribution_source_column(tm) if tm.placement == Placement.DISTRIBUTED else None


def _regclass(schema: str, table: str) -> sql.Composable:
    # The server quotes the name (format %I), so no name is ever pasted into SQL text.
    return sql.SQL("format('%I.%I', {}::text, {}::text)::regclass").format(
        sql.Literal(schema), sql.Literal(table)
    )


def placement_statement(
    tm: TableMapping, schema: str = "public", mappings: Iterable[TableMapping] = ()
) -> sql.Composed | None:
    """``SELECT create_reference_table(...)`` / ``create_distributed_table(...)`` for a mapping,
    to run while the table is empty; None for a local table. ``mappings`` resolve a
    ``colocate_with`` given as a source table name to its target name."""
    if tm.placement == Placement.REFERENCE:
        return sql.SQL("SELECT create_reference_table({})").format(_regclass(schema, tm.target))
    if tm.placement != Placement.DISTRIBUTED:
        return None
    column = distribution_target_column(tm)
    if column is None:
        raise ValueError(f"{tm.target}: no distribution column")
    colocate = (tm.colocate_with or "default").strip()
    if colocate.lower() in ("default", "none"):
        colocate_sql: sql.Composable = sql.Literal(colocate.lower())
    else:
        other = next((m.target for m in mappings if colocate in (m.source, m.target)), colocate)
        # colocate_with is parsed as a (possibly qualified) name by Citus: quote it server-side
        colocate_sql = sql.SQL("format('%I.%I', {}::text, {}::text)").format(
            sql.Literal(schema), sql.Literal(other)
        )
    # the distribution column is a plain column name to Citus (not quoted SQL): pass it as is
    return sql.SQL("SELECT create_distributed_table({}, {}, colocate_with => {})").format(
        _regclass(schema, tm.target), sql.Literal(column), colocate_sql
    )


def creation_order(mappings: list[TableMapping]) -> list[TableMapping]:
    """The given order, except that a table co-located with another comes after it (Citus
    needs the other table distributed first)."""
    by_name = {}
    for m in mappings:
        by_name.setdefault(m.source, m)
        by_name.setdefault(m.target, m)
    done: set[str] = set()
    ordered: list[TableMapping] = []

    def visit(tm: TableMapping, path: set[str]) -> None:
        if tm.source in done or tm.source in path:
            return
        other = by_name.get((tm.colocate_with or "").strip())
        if tm.placement == Placement.DISTRIBUTED and other is not None and other is not tm:
            visit(other, path | {tm.source})
        done.add(tm.source)
        ordered.append(tm)

    for tm in mappings:
        visit(tm, set())
    return ordered


def load_stages(ordered: list[TableMapping]) -> list[list[TableMapping]]:
    """Reference and local tables first (committed before the next stage), then distributed."""
    first = [tm for tm in ordered if tm.placement != Placement.DISTRIBUTED]
    second = [tm for tm in ordered if tm.placement == Placement.DISTRIBUTED]
    return [stage for stage in (first, second) if stage]


def unenforceable_uniques(tm: TableMapping, table: Table) -> list[tuple[str, ...]]:
    """UNIQUE constraints (source column names) a distributed table cannot keep because they
    lack its distribution column; ``ddl.create_table`` leaves them out."""
    if tm.placement != Placement.DISTRIBUTED:
        return []
    column = _distribution_source_column(tm)
    if column is None:
        return []
    return [u for u in table.unique if column not in u]


def distribution_candidates(tm: TableMapping, table: Table) -> list[str]:
    """Target column names ``tm`` can be distributed by without breaking its primary key or
    allowing NULL: every NOT NULL column of the key, or any NOT NULL column if it has none.
    Columns that keep every UNIQUE constraint come first."""
    included = {cm.source: cm.target for cm in tm.included_columns}
    names = list(table.primary_key) if table.primary_key else [c.name for c in table.columns]
    ok = [n for n in names if n in included and table.column(n) and table.column(n).not_null]
    keeps_all = [n for n in ok if all(n in u for u in table.unique)]
    return [included[n] for n in keeps_all + [n for n in ok if n not in keeps_all]]
