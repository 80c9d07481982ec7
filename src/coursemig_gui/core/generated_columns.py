"""Generated columns (``GENERATED ALWAYS AS (expr) STORED``, what Django's GeneratedField makes):
the server computes their values, so they are never copied. A new table gets the column with the
source's expression (renamed columns mapped inside it, as a CHECK's are); an existing table
computes its own, or, where its column is a plain one, is given the source's values."""

from __future__ import annotations

from dataclasses import replace

from psycopg import sql

from coursemig_gui.core.catalog import Column, Table
from coursemig_gui.core.check_constraints import map_expression
from coursemig_gui.core.mapping import ColumnMapping, TableMapping


def generated_expression(tm: TableMapping, table: Table, col: Column) -> str | None:
    """The column's expression in the new table's column names, or None when it cannot be
    made: a column it reads is not copied, or the names cannot be changed in it safely."""
    if col.generated is None:
        return None
    mapped = {cm.source: cm.target for cm in tm.included_columns}
    if any(c not in mapped for c in col.generated_from):
        return None
    renames = {c: mapped[c] for c in col.generated_from if mapped[c] != c}
    return map_expression(col.generated, renames)


def generated_clause(expression: str) -> sql.Composed:
    # the source server's own text for its expression (pg_get_expr), read token by token
    # by map_expression before it gets here
    return sql.SQL("GENERATED ALWAYS AS ({}) STORED").format(sql.SQL(expression))


def _why_not(tm: TableMapping, table: Table, col: Column) -> str:
    missing = [c for c in col.generated_from if tm.target_column(c) is None]
    if missing:
        why = (
            f"it is computed from {', '.join(missing)}, which "
            f"{'are' if len(missing) > 1 else 'is'} not copied"
        )
    else:
        why = f"its expression ({col.generated}) could not be given the new column names safely"
    return (
        f"The column {col.name} of {table.name} is computed by the database (GENERATED ALWAYS "
        f"AS {col.generated}), and was left out of the new table {tm.target}: {why}. Add it "
        "by hand if you need it."
    )


def made_mapping(tm: TableMapping, table: Table) -> tuple[TableMapping, list[str]]:
    """The mapping a new table is made from: a generated column that cannot be made is left
    out (include False), with a sentence for each."""
    said: list[str] = []
    columns: list[ColumnMapping] = []
    for cm in tm.columns:
        col = table.column(cm.source)
        if (
            cm.include
            and col is not None
            and col.generated is not None
            and generated_expression(tm, table, col) is None
        ):
            said.append(_why_not(tm, table, col))
            columns.append(replace(cm, include=False))
        else:
            columns.append(cm)
    if not said:
        return tm, []
    return replace(tm, columns=columns), said


def loaded_columns(
    tm: TableMapping, table: Table, existing: dict[str, Column] | None
) -> list[ColumnMapping]:
    """The columns whose values are copied: not those the target table computes itself (a new
    table: those the source computes; an existing one: its own generated columns, whatever the
    source's are: where only the source computes one, its values are copied)."""
    if existing is not None:
        return [
            cm
            for cm in tm.included_columns
            if (target := existing.get(cm.target)) is None or target.generated is None
        ]
    return [
        cm
        for cm in tm.included_columns
        if (col := table.column(cm.source)) is None or col.generated is None
    ]


def computed_by_target(tm: TableMapping, loaded: list[ColumnMapping]) -> list[str]:
    """The target columns left to the target to compute (for the verification's detail)."""
    names = {cm.target for cm in loaded}
    return [cm.target for cm in tm.included_columns if cm.target not in names]


def computed_columns(tm: TableMapping, table: Table) -> list[ColumnMapping]:
    """An import's columns that the package lists as generated (none are in its file), as
    the mapping has them."""
    return [
        cm
        for cm in tm.included_columns
        if (col := table.column(cm.source)) is not None and col.generated is not None
    ]


def not_computed_sentence(table: str, columns: list[str]) -> str:
    """Said where a package's generated column meets an existing plain column."""
    return (
        f"The existing table {table} has {'columns' if len(columns) > 1 else 'a column'} "
        f"{', '.join(columns)} that the export's source computes (GENERATED), and the package "
        f"holds no values for {'them' if len(columns) > 1 else 'it'}; in {table} "
        f"{'they are' if len(columns) > 1 else 'it is'} a plain column, so the loaded rows "
        "have no value there (NULL or its default)."
    )


def computed_note(col: Column | None) -> str | None:
    """The Columns page's note for a generated column (whose type and copy box are fixed), or
    None for any other column."""
    if col is None or col.generated is None:
        return None
    return (
        f"Computed by the database (GENERATED ALWAYS AS {col.generated}): not copied, the "
        "target computes it."
    )
