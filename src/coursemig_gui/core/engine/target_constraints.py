"""A new target table's CHECK constraints and UNIQUE NULLS NOT DISTINCT, as the source has them.

The CHECKs are added to the empty table before the load, each tried under a savepoint: a row
that breaks one is then refused by the load like any other bad row, named with its reason in the
rejects file, and a CHECK the target cannot make (a function it lacks, a column given another
type) is left out with a sentence instead of failing the table. A CHECK the source has NOT VALID
is added after the load, NOT VALID too: the source never checked its older rows either."""

from __future__ import annotations

from dataclasses import replace

import psycopg

from coursemig_gui.core.catalog import Table
from coursemig_gui.core.check_constraints import CheckStatement, check_statements
from coursemig_gui.core.engine.session import in_one_round_trip
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.mapping import TableMapping

# what a CHECK the target cannot make raises (an undefined function or operator, a type
# mismatch, Citus refusing it): not a dropped connection, which the run retries
_CANNOT_MAKE = (
    psycopg.errors.ProgrammingError,
    psycopg.errors.DataError,
    psycopg.errors.IntegrityError,
    psycopg.errors.NotSupportedError,
)


def fit_unique_to_target(
    tgt: psycopg.Connection, tm: TableMapping, table: Table
) -> tuple[Table, list[LogMessage]]:
    """The table as the target can make it: a server older than PostgreSQL 15 has no UNIQUE
    NULLS NOT DISTINCT, so those become plain UNIQUE, and the log says what that changes."""
    if not table.unique_nulls_not_distinct or tgt.info.server_version >= 150000:
        return table, []
    said = [
        LogMessage(
            f"{tm.target}: the source's UNIQUE NULLS NOT DISTINCT on "
            f"({', '.join(tm.target_column(c) or c for c in unique)}) is made a plain UNIQUE, "
            "because the target's PostgreSQL is older than 15: there, rows that repeat the "
            "same values with a NULL among them are all accepted, where the source accepts one.",
            "warning",
        )
        for unique in table.unique_nulls_not_distinct
    ]
    return replace(table, unique_nulls_not_distinct=()), said


def _not_made(tm: TableMapping, table: Table, check: CheckStatement, exc: psycopg.Error) -> str:
    diag = exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc)
    return (
        f"The CHECK constraint {check.check.name} of {table.name} could not be added to "
        f"{tm.target} ({diag.strip()}), so {tm.target} accepts rows the source refuses; add "
        "it by hand if you need it."
    )


def _try(tgt: psycopg.Connection, statements: list[CheckStatement]) -> psycopg.Error | None:
    try:  # under a savepoint, in one round trip: a refused CHECK leaves the table as it was
        in_one_round_trip(tgt, [check.statement for check in statements])
    except _CANNOT_MAKE as exc:
        return exc
    return None


def add_checks_before_load(
    tgt: psycopg.Connection, tm: TableMapping, table: Table, schema: str
) -> list[LogMessage]:
    """The source's (validated) CHECKs on the new, still empty table; what to log about each
    one left out."""
    checks, left_out = check_statements(tm, table, schema)
    said = [LogMessage(why, "warning") for why in left_out]
    now = [c for c in checks if not c.after_load]
    if not now or _try(tgt, now) is None:  # usually all at once, in one savepoint
        return said
    for check in now:  # one of them was refused: which one
        failed = _try(tgt, [check])
        if failed is not None:
            said.append(LogMessage(_not_made(tm, table, check, failed), "warning"))
    return said


def add_checks_after_load(
    tgt: psycopg.Connection, tm: TableMapping, table: Table, schema: str
) -> list[LogMessage]:
    """The CHECKs the source has NOT VALID, added NOT VALID to the loaded table: new rows are
    checked, the copied ones are kept as the source keeps them."""
    said = []
    for check in check_statements(tm, table, schema)[0]:
        if not check.after_load:
            continue
        failed = _try(tgt, [check])
        if failed is not None:
            said.append(LogMessage(_not_made(tm, table, check, failed), "warning"))
            continue
        said.append(
            LogMessage(
                f"The CHECK constraint {check.check.name} is NOT VALID on the source (its rows "
                f"from before it was added were never checked against it), so {tm.target} gets "
                "it NOT VALID too: new rows are checked, the copied rows are not."
            )
        )
    return said
