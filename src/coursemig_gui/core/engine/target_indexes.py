"""A new target table's other indexes (``index_statements.py``), made in its own transaction.

All of them go in one round trip under one savepoint; only when one is refused are they tried one
by one, each under its own savepoint, to find which: an index the target cannot make (an operator
class it lacks, such as pg_trgm's ``gin_trgm_ops``, or a column given another type) is left out
with the server's reason, and the table is copied. Where the source's name is taken in the
target's schema (index names are per schema: a renamed table, a relation already there), the
target chooses the name. A unique index the loaded rows break is raised as ``RowsBreakIndex``:
the source enforces it, so the rows were changed on the way (a narrowed type, say)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import Table
from coursemig_gui.core.engine.session import in_one_round_trip
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.index_statements import IndexStatement, consequence
from coursemig_gui.core.mapping import TableMapping

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


class RowsBreakIndex(Exception):
    def __init__(self, index: IndexStatement, error: psycopg.errors.UniqueViolation) -> None:
        super().__init__(str(error))
        self.index, self.error = index, error


def rows_break_sentence(exc: RowsBreakIndex, source: str, target: str, detail: str) -> str:
    return (
        f"{target} has rows that break the unique index {exc.index.index.name} of {source} "
        f"({detail or exc.error})."
    )


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


def make_indexes(
    tgt: psycopg.Connection,
    tm: TableMapping,
    table: Table,
    schema: str,
    statements: list[IndexStatement],
    loaded: bool,
) -> list[LogMessage]:
    """The indexes on the new table ``tm.target`` (``loaded``: after its rows, with room to sort
    them); what to log about each one left out or named by the target. Raises RowsBreakIndex."""
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
            raise RowsBreakIndex(index, exc) from exc
        if failed is not None:
            said.append(
                LogMessage(
                    not_made(index, table.name, tm.target, _reason(failed)),
                    "warning",
                    index.statement.as_string(None),
                )
            )
    return said
