"""The source rows the target will likely refuse, named by the source server before the load.

A bad row met in a segment costs the segment's rows before it twice (``segments.py``); on
Citus, where an error names no line, it costs a bisection of distributed COPYs. Where the
source can tell which rows will not fit, it says so in a condition on its own columns:

- a value longer than the target column's ``varchar(n)`` or ``char(n)``;
- a number outside the target column's ``smallint`` or ``integer`` range;
- NULL for a target column that is NOT NULL;
- a key already in the target, for an append into a table that holds at most
  ``KEYS_BEFORE_LIMIT`` rows (their keys are read from the target and named in the condition).

Those rows are read first and sent one by one (``source_rows.read_likely_refused``); the rest
stream in clean COPYs. The condition only chooses the way a row goes: a row it misses is still
isolated in its segment, and a row it names wrongly loads fine when sent alone. So every row
still lands once or is rejected with the target's own reason.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import Column, Table
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.row_batch import RowBatch
from coursemig_gui.core.source_rows import read_likely_refused

KEYS_BEFORE_LIMIT = 10_000  # the most rows already in the target whose keys are looked at

_LENGTH = re.compile(r"^(?:character varying|varchar|character|char|bpchar)\((\d+)\)$")
_INTEGER_RANGE = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
}
_WIDTH = {"smallint": 1, "integer": 2, "bigint": 3, "numeric": 4}  # of the numbers each holds

_UNIQUE_KEYS = """
SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey) AS k (attnum)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %s AND t.relname = %s AND i.indisunique AND i.indisvalid
  AND i.indpred IS NULL AND i.indexprs IS NULL
"""


def read_first(
    src: psycopg.Connection,
    tgt: psycopg.Connection,
    source_table: sql.Composable,
    schema: str,
    tm: TableMapping,
    source: Table,
    existing: dict[str, Column] | None,
    target_types: list[str],
    rows_before: int,
    fmt: str,
) -> tuple[sql.Composable | None, list[RowBatch]]:
    """The condition that leaves the likely refused rows out of the table's main read, and
    those rows, read; (None, []) when there are none, too many, or nothing can be told."""
    condition = likely_refused(tgt, schema, tm, source, existing, target_types, rows_before)
    if condition is None:
        return None, []
    columns = [cm.source for cm in tm.included_columns]
    rows = read_likely_refused(src, source_table, columns, fmt, condition)
    return (condition, rows) if rows else (None, [])


def likely_refused(
    tgt: psycopg.Connection,
    schema: str,
    tm: TableMapping,
    source: Table,
    existing: dict[str, Column] | None,
    target_types: list[str],
    rows_before: int,
) -> sql.Composable | None:
    """A condition on the source's columns, true for the rows the target will likely refuse;
    None when nothing can be told (then nothing changes)."""
    conditions: list[sql.Composable] = []
    for cm, target_type in zip(tm.included_columns, target_types, strict=True):
        column = source.column(cm.source)
        value = sql.Identifier(cm.source)
        if column.type != target_type:
            conditions.extend(_not_fitting(value, column.type, target_type))
        if existing is not None and existing[cm.target].not_null and not column.not_null:
            conditions.append(sql.SQL("{} IS NULL").format(value))
    if existing is not None and 0 < rows_before <= KEYS_BEFORE_LIMIT:
        try:
            with tgt.transaction():  # a savepoint: a failure here never ends the load's
                conditions.extend(_keys_already_there(tgt, schema, tm, source, existing))
        except (psycopg.Error, UnicodeError):
            pass  # the keys cannot be read: a clash is found in its segment, as before
    if not conditions:
        return None
    return sql.SQL(" OR ").join(sql.SQL("({})").format(c) for c in conditions)


def _not_fitting(value: sql.Composable, source_type: str, target_type: str) -> list:
    """Conditions for a value of ``source_type`` that does not fit ``target_type``."""
    found: list[sql.Composable] = []
    length = _LENGTH.match(target_type)
    if length:
        limit = int(length.group(1))
        own = _LENGTH.match(source_type)
        if own is None or int(own.group(1)) > limit:
            # the value's text is what the target reads (CSV), so its length is what counts
            found.append(sql.SQL("char_length({}::text) > {}").format(value, sql.Literal(limit)))
    bounds = _INTEGER_RANGE.get(target_type)
    if bounds and _WIDTH.get(source_type.split("(")[0], 0) > _WIDTH[target_type]:
        low, high = bounds
        found.append(
            sql.SQL("{} NOT BETWEEN {} AND {}").format(value, sql.Literal(low), sql.Literal(high))
        )
    return found


def _keys_already_there(
    tgt: psycopg.Connection,
    schema: str,
    tm: TableMapping,
    source: Table,
    existing: dict[str, Column],
) -> list[sql.Composable]:
    """For each unique key of the target on columns copied unchanged, a condition true for the
    source rows whose key is already in the target (compared as the values' bytes)."""
    source_of = {cm.target: cm.source for cm in tm.included_columns}
    target = sql.Identifier(schema, tm.target)
    found: list[sql.Composable] = []
    for (columns,) in tgt.execute(_UNIQUE_KEYS, [schema, tm.target]).fetchall():
        sources = [source_of.get(c) for c in columns]
        if None in sources or any(
            source.column(s).type != existing[c].type for s, c in zip(sources, columns, strict=True)
        ):
            continue  # not every column copied, or a type that changes: cannot be told here
        keys = tgt.execute(
            sql.SQL("SELECT DISTINCT {} FROM {} WHERE {}").format(
                sql.SQL(", ").join(_as_bytes(sql.Identifier(c)) for c in columns),
                target,
                sql.SQL(" AND ").join(
                    sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in columns
                ),
            )
        ).fetchall()
        if not keys:
            continue
        found.append(
            sql.SQL("({}) IN (VALUES {})").format(
                sql.SQL(", ").join(_as_bytes(sql.Identifier(s)) for s in sources),
                sql.SQL(", ").join(
                    sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Literal, key)))
                    for key in keys
                ),
            )
        )
    return found


def _as_bytes(value: sql.Composable) -> sql.Composable:
    # the value's text compared byte for byte, whatever the column's collation
    return sql.SQL('({}::text COLLATE "C")').format(value)
