"""An existing, empty target table's indexes built once after the load instead of row by row.

A Django project usually makes its tables on the target with ``manage.py migrate`` and then
loads them, so the table is there, empty, with its primary key, unique keys and indexes.
Inserting a million rows into those indexes one by one costs about twice building them once
afterwards (measured with the benchmark's course table: 10.7 s against 3.4 s + 2.4 s). So,
inside the table's own transaction, the indexes are dropped before the load and made again
from their own definitions after it: a failure or a Stop rolls the drop back with the rows.

Only what cannot change the outcome of a row is set aside:
- a primary key or unique key only where the source enforces the same key on the same columns
  (so no duplicate can arrive, as for a new table's keys), and no foreign key refers to it;
- no exclusion constraint, partial or expression unique index, ``NULLS NOT DISTINCT`` key;
- nothing with a comment, a tablespace of its own, CLUSTER or REPLICA IDENTITY on it, nothing
  invalid, and only on a table the role owns.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import Table
from coursemig_gui.core.mapping import TableMapping

_INDEXES = """
SELECT ic.relname, con.conname, pg_get_indexdef(i.indexrelid),
       coalesce(pg_get_constraintdef(con.oid), ''), i.indisunique,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey) AS k (attnum)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),
       con.contype = 'x'
       OR (i.indisunique AND (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL))
       OR i.indisclustered OR i.indisreplident OR NOT i.indisvalid OR NOT i.indisready
       OR ic.reltablespace <> 0
       OR obj_description(i.indexrelid, 'pg_class') IS NOT NULL
       OR (con.oid IS NOT NULL AND obj_description(con.oid, 'pg_constraint') IS NOT NULL)
       OR EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'
                  AND f.conindid = i.indexrelid),
       pg_has_role(t.relowner, 'USAGE')
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class ic ON ic.oid = i.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
     AND con.contype IN ('p', 'u', 'x')
WHERE n.nspname = %s AND t.relname = %s
ORDER BY ic.relname
"""


@dataclass(frozen=True)
class SetAsideIndex:
    name: str
    constraint: str | None  # the constraint it backs, made again with ALTER TABLE … ADD
    definition: str  # the server's own text: pg_get_constraintdef or pg_get_indexdef


def indexes_to_set_aside(
    tgt: psycopg.Connection, schema: str, tm: TableMapping, source: Table
) -> list[SetAsideIndex]:
    """The indexes of the existing table ``tm.target`` that can be built after its load."""
    source_of = {cm.target: cm.source for cm in tm.included_columns}
    keys = {frozenset(source.primary_key)} | {frozenset(u) for u in source.unique}
    rows = tgt.execute(_INDEXES, [schema, tm.target]).fetchall()
    if not rows or not all(row[7] for row in rows):
        return []  # not the role's table: leave its indexes alone
    found = []
    for name, constraint, indexdef, condef, unique, columns, keep, _ in rows:
        if keep or "NULLS NOT DISTINCT" in indexdef:
            continue
        if unique:
            mapped = frozenset(source_of.get(c, "") for c in columns)
            if "" in mapped or mapped not in keys:
                continue  # the source does not promise these are unique: checked row by row
        if constraint is not None:
            found.append(SetAsideIndex(name, constraint, condef))
        else:
            found.append(SetAsideIndex(name, None, indexdef))
    return found


def drop_indexes(
    tgt: psycopg.Connection, schema: str, table: str, indexes: list[SetAsideIndex]
) -> None:
    target = sql.Identifier(schema, table)
    for index in indexes:
        if index.constraint is not None:
            tgt.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    target, sql.Identifier(index.constraint)
                )
            )
        else:
            tgt.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, index.name)))


def build_statements(schema: str, table: str, indexes: list[SetAsideIndex]) -> list[sql.Composed]:
    """The statements that make the indexes again: the keys in one ALTER TABLE (one pass, as
    ``ALTER TABLE … ADD PRIMARY KEY, ADD UNIQUE``), each other index by its own definition."""
    target = sql.Identifier(schema, table)
    keys = [
        sql.SQL("ADD CONSTRAINT {} {}").format(sql.Identifier(i.constraint), sql.SQL(i.definition))
        for i in indexes
        if i.constraint is not None
    ]
    statements = []
    if keys:
        statements.append(sql.SQL("ALTER TABLE {} {}").format(target, sql.SQL(", ").join(keys)))
    statements.extend(sql.Composed([sql.SQL(i.definition)]) for i in indexes if not i.constraint)
    return statements
