"""A new target table's other indexes (``index_statements.py``), made in its own transaction.

All of them go in one round trip under one savepoint; only when one is refused are they tried one
by one, each under its own savepoint, to find which: an index the target cannot make (an operator
class it lacks, such as pg_trgm's ``gin_trgm_ops``, or a column given another type) is left out
with the server's reason, and the table is copied. Where the source's name is taken in the
target's schema (index names are per schema: a renamed table, a relation already there), the
target chooses the name. A unique index the loaded rows break is raised as ``RowsBreakIndex``:
the source enforces it, so the rows were changed on the way (a function of the target's that
computes something else, say), and the table is loaded again with it in place, as for a key."""

from __future__ import annotations

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import Table
from coursemig_gui.core.engine.session import in_one_round_trip
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.index_statements import IndexStatement, consequence, index_statements
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.transfer import TableFailed

# what an index the target cannot make raises (an undefined operator class or function, a type
# mismatch, Citus refusing it): not a dropped connection, which the run retries
_CANNOT_MAKE = (
    psycopg.errors.ProgrammingError,
    psycopg.errors.DataError,
    psycopg.errors.NotSupportedError,
)

# room to sort in memory (64 MB by default spills a 1M-row index to disk); SET LOCAL ends with
# the table's transaction
_ROOM = sql.SQL("SET LOCAL maintenance_work_mem = '256MB'")


class RowsBreakIndex(TableFailed):
    """Loaded rows break a unique index built after the load: the table is loaded again with
    it in place, checking each row (``table_outcome._load_once``)."""


def rows_break_sentence(index: IndexStatement, source: str, target: str, detail: str) -> str:
    return (
        f"{target} has rows that break the unique index {index.index.name} of {source} ({detail})."
    )


def split_new_table_indexes(
    tm: TableMapping, table: Table, schema: str, keys_later: bool
) -> tuple[list[IndexStatement], list[IndexStatement], list[str]]:
    """(to build on the new, still empty table now, to build after its load, a sentence for
    each left out). A unique one goes after the load only where the keys do too and its columns
    keep their types (no duplicate can reach it); otherwise it is built now, so a row that
    breaks it is refused by itself."""
    statements, left_out = index_statements(tm, table, schema)
    changed = {
        cm.source
        for cm in tm.included_columns
        if (col := table.column(cm.source)) is None or cm.target_type != col.type
    }
    now = [
        s
        for s in statements
        if s.index.unique and (not keys_later or changed.intersection(s.index.columns))
    ]
    return now, [s for s in statements if s not in now], left_out


def _try(tgt: psycopg.Connection, statements: list[sql.Composable]) -> psycopg.Error | None:
    try:
        in_one_round_trip(tgt, statements)
    except psycopg.errors.UniqueViolation:
        raise
    except _CANNOT_MAKE as exc:
        return exc
    return None


def _reason(exc: psycopg.Error) -> str:
    diag = exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc)
    return diag.strip()


def named_by_target(index: IndexStatement, source: str, target: str, schema: str) -> str:
    name = index.index.name
    return (
        f"The name {name} is already taken in the schema {schema} of the target, so the index "
        f"{name} of {source} was made on {target} with a name the target chose."
    )


def not_made(index: IndexStatement, source: str, target: str, reason: str) -> str:
    return (
        f"The index {index.index.name} of {source} could not be made on {target} ({reason}), "
        "so it was left out. " + consequence(index.index, target)
    )


def indexes_before_load(
    tgt: psycopg.Connection, tm: TableMapping, table: Table, schema: str, keys_later: bool
) -> tuple[list[IndexStatement], list[LogMessage]]:
    """On the new, still empty table: the unique indexes that must be there during the load
    (``split_new_table_indexes``) made; (those left for after the load, what to log)."""
    now, later, left_out = split_new_table_indexes(tm, table, schema, keys_later)
    said = [LogMessage(why, "warning") for why in left_out]
    return later, said + make_indexes(tgt, tm, table, schema, now, loaded=False)


def make_indexes(
    tgt: psycopg.Connection,
    tm: TableMapping,
    table: Table,
    schema: str,
    statements: list[IndexStatement],
    loaded: bool,
) -> list[LogMessage]:
    """The indexes on the new table ``tm.target`` (``loaded``: after its rows, with room to sort
    them); what to log about each one left out or named by the target. Raises RowsBreakIndex
    (only after the load: an empty table breaks none)."""
    if not statements:
        return []
    room = [_ROOM] if loaded else []
    try:
        if _try(tgt, [*room, *(s.statement for s in statements)]) is None:
            return []
    except psycopg.errors.UniqueViolation:
        pass  # which one: below
    said: list[LogMessage] = []
    for index in statements:
        try:
            failed = _try(tgt, [*room, index.statement])
            if isinstance(failed, psycopg.errors.DuplicateTable):
                failed = _try(tgt, [*room, index.unnamed])
                if failed is None:
                    said.append(LogMessage(named_by_target(index, table.name, tm.target, schema)))
        except psycopg.errors.UniqueViolation as exc:
            detail = (exc.diag.message_detail or "").strip() if exc.diag else ""
            raise RowsBreakIndex(
                rows_break_sentence(index, table.name, tm.target, detail or str(exc)), str(exc)
            ) from exc
        if failed is not None:
            said.append(
                LogMessage(
                    not_made(index, table.name, tm.target, _reason(failed)),
                    "warning",
                    index.statement.as_string(None),
                )
            )
    return said
