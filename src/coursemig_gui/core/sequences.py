"""The sequences behind serial and identity columns: their options and position on the source,
read once per run, and on the target the one statement per sequence that makes the next id the
source's next id (never one a loaded row already has, never back on an existing table)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

if TYPE_CHECKING:  # catalog.py reads the source's sequences with this module
    from coursemig_gui.core.catalog import Catalog, Column, Table


@dataclass(frozen=True)
class SequenceState:
    """A serial or identity column's sequence: its options, and where it stood when the run
    read it (``last_value`` None when it was not read: the user may not, or not yet)."""

    schema: str
    name: str
    start: int = 1
    increment: int = 1
    min_value: int = 1
    max_value: int = 2**63 - 1
    cycle: bool = False
    cache: int = 1
    type: str = "bigint"
    readable: bool = True  # whether this user may read its position (SELECT, schema USAGE)
    last_value: int | None = None
    is_called: bool = False

    @property
    def next_value(self) -> int | None:
        """What the source's next nextval() gives (past the end when it has none left)."""
        if self.last_value is None:
            return None
        return self.last_value + self.increment if self.is_called else self.last_value

    def option_defaults(self) -> dict[str, int]:
        """MINVALUE and MAXVALUE as PostgreSQL chooses them for a sequence of this type and
        direction: the ones only worth writing out when the source's differ."""
        top = {"smallint": 2**15 - 1, "integer": 2**31 - 1}.get(self.type, 2**63 - 1)
        if self.increment > 0:
            return {"min": 1, "max": top}
        return {"min": -top - 1, "max": -1}


_INTEGER_TOPS = {"smallint": 2**15 - 1, "integer": 2**31 - 1, "bigint": 2**63 - 1}


def fitted_to(state: SequenceState, column_type: str) -> SequenceState | None:
    """The sequence for a column given another type on the Columns page: its limits and START
    kept within that type (the rows beyond it are refused one by one, as the Columns page
    warns, not the whole table), or None when the type cannot hold an identity at all."""
    top = _INTEGER_TOPS.get(column_type)
    if top is None:
        return None
    low = max(state.min_value, -top - 1)
    high = min(state.max_value, top)
    if low > high:
        return None
    return replace(
        state,
        type=column_type,
        min_value=low,
        max_value=high,
        start=min(max(state.start, low), high),
    )


def identity_options(state: SequenceState) -> sql.Composable:
    """`` (START WITH … INCREMENT BY …)`` for CREATE TABLE: the source's options; MINVALUE,
    MAXVALUE, CYCLE and CACHE only where they are not what the target would choose anyway (a
    column given a wider type keeps the wider type's limits)."""
    parts = [
        sql.SQL("START WITH {}").format(sql.Literal(state.start)),
        sql.SQL("INCREMENT BY {}").format(sql.Literal(state.increment)),
    ]
    defaults = state.option_defaults()
    if state.min_value != defaults["min"]:
        parts.append(sql.SQL("MINVALUE {}").format(sql.Literal(state.min_value)))
    if state.max_value != defaults["max"]:
        parts.append(sql.SQL("MAXVALUE {}").format(sql.Literal(state.max_value)))
    if state.cache != 1:
        parts.append(sql.SQL("CACHE {}").format(sql.Literal(state.cache)))
    if state.cycle:
        parts.append(sql.SQL("CYCLE"))
    return sql.SQL(" ({})").format(sql.SQL(" ").join(parts))


def sequence_json(state: SequenceState) -> dict:
    """The manifest's ``sequence`` of a column (docs/export-package.md)."""
    return {
        "name": state.name,
        "type": state.type,
        "start": state.start,
        "increment": state.increment,
        "min_value": state.min_value,
        "max_value": state.max_value,
        "cache": state.cache,
        "cycle": state.cycle,
        "last_value": state.last_value,
        "is_called": state.is_called,
    }


def sequence_from_json(data: dict) -> SequenceState:
    last = data.get("last_value")
    return SequenceState(
        schema="",
        name=str(data.get("name", "")),
        start=int(data["start"]),
        increment=int(data["increment"]),
        min_value=int(data["min_value"]),
        max_value=int(data["max_value"]),
        cycle=bool(data.get("cycle", False)),
        cache=int(data.get("cache", 1)),
        type=str(data.get("type", "bigint")),
        readable=last is not None,
        last_value=None if last is None else int(last),
        is_called=bool(data.get("is_called", False)),
    )


# -- the source --------------------------------------------------------------------------------

# Each serial or identity column's own sequence (owned by the column: 'a' serial, 'i' identity),
# its options, and whether this user may read its position (a failed read would end the run's
# snapshot transaction); pg_sequence itself is readable by all.
SEQUENCES = """
SELECT c.relname, a.attname, sn.nspname, sc.relname, format_type(s.seqtypid, NULL),
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle, s.seqcache,
       has_sequence_privilege(s.seqrelid, 'SELECT') AND has_schema_privilege(sn.oid, 'USAGE')
FROM pg_depend d
JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = sc.relnamespace
JOIN pg_sequence s ON s.seqrelid = sc.oid
JOIN pg_class c ON c.oid = d.refobjid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i') AND n.nspname = %s
"""


def sequence_states(rows: list[tuple]) -> dict[tuple[str, str], SequenceState]:
    """``SEQUENCES``'s rows by (table, column)."""
    return {
        (rel, col): SequenceState(nsp, name, start, inc, low, high, cycle, cache, typ, readable)
        for rel, col, nsp, name, typ, start, inc, low, high, cycle, cache, readable in rows
    }


def ask_positions(
    conn: psycopg.Connection, catalog: Catalog, sources: set[str]
) -> dict[tuple[str, str], psycopg.Cursor]:
    """Each readable sequence of the named tables asked where it stands, as cursors to fetch
    after the pipeline they were sent in (the run's snapshot round trip). A sequence is read
    outside any snapshot: its position now is at least every id the snapshot's rows hold."""
    asked = {}
    for table in catalog.tables:
        if table.name not in sources:
            continue
        for column in table.columns:
            state = column.sequence
            if state is not None and state.readable:
                asked[(table.name, column.name)] = conn.execute(
                    sql.SQL("SELECT last_value, is_called FROM {}").format(
                        sql.Identifier(state.schema, state.name)
                    )
                )
    return asked


def with_positions(catalog: Catalog, asked: dict[tuple[str, str], psycopg.Cursor]) -> Catalog:
    """The catalog with the positions ``ask_positions`` read."""
    read = {key: cursor.fetchone() for key, cursor in asked.items()}

    def column(table: Table, col: Column) -> Column:
        row = read.get((table.name, col.name))
        if row is None or col.sequence is None:
            return col
        return replace(col, sequence=replace(col.sequence, last_value=row[0], is_called=row[1]))

    tables = tuple(
        replace(t, columns=tuple(column(t, c) for c in t.columns))
        if any((t.name, c.name) in read for c in t.columns)
        else t
        for t in catalog.tables
    )
    return replace(catalog, tables=tables)


def unread_sentences(catalog: Catalog, sources: set[str]) -> list[str]:
    """One sentence for each sequence of the named tables this user may not read."""
    return [
        f"CourseMig may not read the sequence {state.schema}.{state.name} behind {table.name}."
        f"{column.name} on the source (this user has no SELECT on it, or no USAGE on its "
        "schema), so on the target the next id is only made to come after the largest copied "
        "id, not set to the source's next id: ids the source handed out and then deleted may "
        "be handed out again."
        for table in catalog.tables
        if table.name in sources
        for column in table.columns
        if (state := column.sequence) is not None and not state.readable
    ]


# -- the target --------------------------------------------------------------------------------

# The target table's columns' own sequences: (column, oid, schema, name, increment, min, max).
TARGET_SEQUENCES = """
SELECT a.attname, s.seqrelid, sn.nspname, sc.relname, s.seqincrement, s.seqmin, s.seqmax
FROM pg_depend d
JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = sc.relnamespace
JOIN pg_sequence s ON s.seqrelid = sc.oid
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i')
  AND d.refobjid = to_regclass(format('%%I.%%I', %s::text, %s::text))
  AND a.attname = ANY(%s::text[])
ORDER BY a.attnum
"""


def ask_target_sequences(
    conn: psycopg.Connection, schema: str, table: str, columns: list[str]
) -> psycopg.Cursor:
    """The loaded columns' sequences on the target, as a cursor (so it can go in a pipeline)."""
    return conn.execute(TARGET_SEQUENCES, [schema, table, columns])


def move_statement(
    schema: str,
    table: str,
    found: tuple,
    source_next: int | None,
    forward_only: bool,
) -> sql.Composed:
    """One target sequence moved so its next value is the source's next value, but at least
    one step past every loaded id, and on an existing table never before where it stood: the
    greatest of the three (the least, for a sequence that counts down). Past its last value it
    is left at that value, used, so its next nextval() fails as the source's would."""
    column, oid, seq_schema, seq_name, increment, low, high = found
    up = increment > 0
    pick = sql.SQL("GREATEST" if up else "LEAST")
    current = (
        sql.SQL(
            "(SELECT CASE WHEN is_called THEN last_value::numeric + {inc} ELSE last_value END "
            "FROM {seq})"
        ).format(inc=sql.Literal(increment), seq=sql.Identifier(seq_schema, seq_name))
        if forward_only
        else sql.SQL("NULL")
    )
    return sql.SQL(
        "SELECT setval({oid}::oid::regclass, {clamp}(n, {end})::bigint, n {beyond} {end}) "
        "FROM (SELECT {pick}({next}::numeric, m + {inc}, {current}) AS n "
        "FROM (SELECT {extreme}({col})::numeric AS m FROM {tbl}) t) s WHERE n IS NOT NULL"
    ).format(
        oid=sql.Literal(oid),
        clamp=sql.SQL("LEAST" if up else "GREATEST"),
        end=sql.Literal(high if up else low),
        beyond=sql.SQL(">" if up else "<"),
        pick=pick,
        next=sql.Literal(source_next),
        inc=sql.Literal(increment),
        current=current,
        extreme=sql.SQL("max" if up else "min"),
        col=sql.Identifier(column),
        tbl=sql.Identifier(schema, table),
    )


def source_states(table: Table | None, targets: dict[str, str]) -> dict[str, SequenceState]:
    """The source's sequence states by target column name (``targets``: source -> target)."""
    if table is None:
        return {}
    return {
        targets[c.name]: c.sequence
        for c in table.columns
        if c.sequence is not None and c.name in targets
    }


def move_sequences(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    found: list[tuple],
    states: dict[str, SequenceState],
    forward_only: bool,
) -> None:
    """Every loaded column's sequence moved (``move_statement``), in one round trip."""
    if not found:
        return
    with conn.pipeline():
        for row in found:
            state = states.get(row[0])
            source_next = state.next_value if state is not None else None
            conn.execute(move_statement(schema, table, row, source_next, forward_only))
