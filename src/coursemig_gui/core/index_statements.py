"""The source's other indexes (``source_indexes.py``) as CREATE INDEX statements for a new target
table, in its column names, or left out with a sentence saying why: an index that reads a column
not copied, whose expression or condition cannot be given the new names safely (read token by
token, as a CHECK's: ``check_constraints.map_expression``), or a unique one Citus cannot enforce
on a distributed table."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from coursemig_gui.core.catalog import Table
from coursemig_gui.core.check_constraints import map_expression
from coursemig_gui.core.citus.placement import distributed_by
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.source_indexes import IndexKey, SourceIndex


@dataclass(frozen=True)
class IndexStatement:
    index: SourceIndex
    statement: sql.Composed  # with the source's name
    unnamed: sql.Composed  # the same, its name chosen by the target (the source's is taken)


def _plural(names: list[str]) -> tuple[str, str]:
    return ("s", "are") if len(names) > 1 else ("", "is")


def consequence(index: SourceIndex, target: str) -> str:
    """What leaving the index out means, for the sentence saying so."""
    if index.unique:
        return f"{target} accepts rows the source refuses; add it by hand if you need it."
    return f"Queries that use it are slower on {target}; add it by hand if you need it."


def _key(key: IndexKey, renames: dict[str, str], mapped: dict[str, str]) -> sql.Composed | None:
    if key.column is not None:
        item: sql.Composable = sql.Identifier(mapped[key.column])
    else:
        expression = map_expression(key.expression or "", renames)
        if expression is None:
            return None
        # the source server's own text for the expression, read token by token above; in
        # parentheses, which any expression may have as an index key
        item = sql.SQL("({})").format(sql.SQL(expression))
    parts = [item]
    if key.collation:
        parts.append(sql.SQL("COLLATE {}").format(sql.Identifier(key.collation)))
    if key.opclass:  # unqualified: found where the target keeps it (an extension's schema)
        parts.append(sql.Identifier(key.opclass))
    if key.descending:
        parts.append(sql.SQL("DESC"))
    if key.nulls_not_default:
        parts.append(sql.SQL("NULLS FIRST" if key.nulls_first else "NULLS LAST"))
    return sql.SQL(" ").join(parts)


def _statement(
    index: SourceIndex,
    name: sql.Composable,
    target: sql.Composable,
    keys: list[sql.Composed],
    include: list[str],
    predicate: str | None,
) -> sql.Composed:
    parts: list[sql.Composable] = [
        sql.SQL("CREATE UNIQUE INDEX" if index.unique else "CREATE INDEX"),
        name,
        sql.SQL("ON {} USING {} ({})").format(
            target, sql.Identifier(index.method), sql.SQL(", ").join(keys)
        ),
    ]
    if include:
        parts.append(
            sql.SQL("INCLUDE ({})").format(sql.SQL(", ").join(map(sql.Identifier, include)))
        )
    if index.nulls_not_distinct:
        parts.append(sql.SQL("NULLS NOT DISTINCT"))
    if predicate is not None:
        # the source server's own text for the condition, read token by token before (its
        # parentheses balanced, so nothing follows the condition)
        parts.append(sql.SQL("WHERE {}").format(sql.SQL(predicate)))
    return sql.SQL(" ").join(p for p in parts if p.as_string(None))


def _left_out(tm: TableMapping, table: Table, index: SourceIndex, why: str) -> str:
    return (
        f"The index {index.name} of {table.name} was left out of {tm.target}: {why}. "
        + consequence(index, tm.target)
    )


def index_statements(
    tm: TableMapping, table: Table, schema: str = "public"
) -> tuple[list[IndexStatement], list[str]]:
    """The CREATE INDEX for each of the source table's other indexes the new target table can
    have, and a sentence for each one left out."""
    mapped = {cm.source: cm.target for cm in tm.included_columns}
    target = sql.Identifier(schema, tm.target)
    distribution = distributed_by(tm)
    made: list[IndexStatement] = []
    left_out: list[str] = []
    for index in table.indexes:
        reads = dict.fromkeys([*index.key_columns, *index.include, *index.columns])
        missing = [c for c in reads if c not in mapped]
        if missing:
            s, verb = _plural(missing)
            left_out.append(
                _left_out(
                    tm,
                    table,
                    index,
                    f"it reads the column{s} {', '.join(missing)}, which {verb} not copied",
                )
            )
            continue
        if index.unique and distribution is not None and distribution not in index.key_columns:
            left_out.append(
                f"{tm.target} is distributed by {mapped[distribution]}, so the unique index "
                f"{index.name} of {table.name} cannot be made: Citus can only enforce unique "
                f"indexes that have the distribution column among their columns. It is left out "
                f"of {tm.target}, and new rows are not checked against it."
            )
            continue
        renames = {c: mapped[c] for c in index.columns if mapped[c] != c}
        keys = [_key(key, renames, mapped) for key in index.keys]
        predicate = (
            map_expression(index.predicate, renames) if index.predicate is not None else None
        )
        if None in keys or (index.predicate is not None and predicate is None):
            what = (
                f"its condition (WHERE {index.predicate})"
                if index.predicate is not None and predicate is None
                else "its expression ("
                + ", ".join(k.expression for k in index.keys if k.expression)
                + ")"
            )
            how = "given the new column names" if renames else "read"
            left_out.append(_left_out(tm, table, index, f"{what} could not be {how} safely"))
            continue
        ready = [k for k in keys if k is not None]
        include = [mapped[c] for c in index.include]
        made.append(
            IndexStatement(
                index,
                _statement(index, sql.Identifier(index.name), target, ready, include, predicate),
                _statement(index, sql.SQL(""), target, ready, include, predicate),
            )
        )
    return made, left_out
