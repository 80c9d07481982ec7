"""CREATE TABLE statements for the targets, generated from the source catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql

from coursemig_gui.core.catalog import Catalog, Column, EnumType, ForeignKey, Table
from coursemig_gui.core.check_constraints import check_statements
from coursemig_gui.core.citus.placement import placement_statement, unenforceable_uniques
from coursemig_gui.core.generated_columns import (
    generated_clause,
    generated_expression,
    made_mapping,
)
from coursemig_gui.core.index_statements import index_statements
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.sequences import fitted_to, identity_options
from coursemig_gui.core.type_grammar import fitted_name, is_type


@dataclass(frozen=True)
class TableDDL:
    """What to run for one target table: the CREATE, then (after all loads) its foreign keys."""

    create: sql.Composed
    foreign_keys: tuple[sql.Composed, ...]


INDEXES_MARKER = "\n\n-- the source's other indexes\n"


def _type_sql(type_text: str) -> sql.Composable:
    # Types are SQL type syntax, not identifiers (numeric(10,2)), so they go in as SQL text: only
    # after the allow-list grammar says the text is a type and nothing more (profiles are shared).
    if not is_type(type_text):
        raise ValueError(
            f"{type_text.strip() or 'an empty type'} is not a column type CourseMig accepts (a "
            "type name, optionally with sizes, for example varchar(200) or numeric(10,2))"
        )
    return sql.SQL(type_text)


def _column_type(type_text: str, col: Column | None, schema: str) -> sql.Composable:
    """The column's type; a source enum kept as it is names the type made in the target's
    schema (``enum_types``), whichever schema the source kept it in."""
    if col is not None and col.enum is not None and type_text == col.type:
        array = sql.SQL("[]") if col.type.endswith("[]") else sql.SQL("")
        return sql.Composed([sql.Identifier(schema, col.enum.name), array])
    return _type_sql(type_text)


def enum_types(tm: TableMapping, table: Table) -> list[EnumType]:
    """The enum types the table's new columns keep from the source (a column given another
    type, say text, needs none), each once."""
    found: dict[str, EnumType] = {}
    for cm in tm.included_columns:
        col = table.column(cm.source)
        if col is not None and col.enum is not None and cm.target_type == col.type:
            found.setdefault(col.enum.name, col.enum)
    return list(found.values())


def create_enum(enum: EnumType, schema: str = "public") -> sql.Composed:
    return sql.SQL("CREATE TYPE {} AS ENUM ({})").format(
        sql.Identifier(schema, enum.name), sql.SQL(", ").join(map(sql.Literal, enum.values))
    )


def key_constraints(tm: TableMapping, table: Table) -> list[sql.Composed]:
    """PRIMARY KEY and UNIQUE clauses for the target, in target column names."""
    mapped = {cm.source: cm.target for cm in tm.included_columns}
    items: list[sql.Composed] = []
    if table.primary_key and all(c in mapped for c in table.primary_key):
        items.append(
            sql.SQL("PRIMARY KEY ({})").format(
                sql.SQL(", ").join(sql.Identifier(mapped[c]) for c in table.primary_key)
            )
        )
    # On a distributed table Citus can only enforce a UNIQUE that includes the distribution
    # column; the others are left out (validate_placements warns about each one).
    dropped = unenforceable_uniques(tm, table)
    for unique in table.unique:
        if all(c in mapped for c in unique) and unique not in dropped:
            # NULLS NOT DISTINCT (PostgreSQL 15): one row with NULL, not any number of them
            how = (
                "UNIQUE NULLS NOT DISTINCT"
                if unique in table.unique_nulls_not_distinct
                else "UNIQUE"
            )
            items.append(
                sql.SQL(how + " ({})").format(
                    sql.SQL(", ").join(sql.Identifier(mapped[c]) for c in unique)
                )
            )
    return items


def add_keys(tm: TableMapping, table: Table, schema: str = "public") -> sql.Composed | None:
    """One ALTER TABLE adding the keys ``create_table(..., keys=False)`` left out, or None."""
    items = key_constraints(tm, table)
    if not items:
        return None
    return sql.SQL("ALTER TABLE {} {}").format(
        sql.Identifier(schema, tm.target),
        sql.SQL(", ").join(sql.SQL("ADD {}").format(item) for item in items),
    )


def identity_clause(col: Column, column_type: str | None = None) -> sql.Composable | None:
    """The column's identity as the source has it (a serial becomes BY DEFAULT, which takes
    explicit ids as a serial does), with its sequence's START, INCREMENT and limits, fitted to
    ``column_type`` when the Columns page gave it another; None when that type holds none."""
    kind = "ALWAYS" if col.identity == "always" else "BY DEFAULT"
    state = col.sequence
    if column_type is not None and column_type != col.type:
        if state is not None:
            state = fitted_to(state, column_type)
            if state is None:
                return None
        elif column_type not in ("smallint", "integer", "bigint"):
            return None
    options = identity_options(state) if state is not None else sql.SQL("")
    return sql.SQL("GENERATED {} AS IDENTITY{}").format(sql.SQL(kind), options)


def create_table(
    tm: TableMapping,
    table: Table,
    schema: str = "public",
    if_not_exists: bool = False,
    keys: bool = True,
) -> sql.Composed:
    """CREATE TABLE for one mapping: types, NOT NULL, identities, generated columns, PRIMARY
    KEY, UNIQUE. No other defaults. A generated column that cannot be made is left out (the
    caller says why: ``generated_columns.made_mapping``). Ids are loaded as they are (COPY keeps them, even under GENERATED ALWAYS), and the
    sequences are moved to the source's next id afterwards.

    With ``keys=False`` the PRIMARY KEY and UNIQUE constraints are left for ``add_keys`` after
    the load: building an index once over loaded rows costs about a quarter of inserting into
    it row by row."""
    items: list[sql.Composable] = []
    for cm in tm.included_columns:
        col = table.column(cm.source)
        parts = [sql.Identifier(cm.target), _column_type(cm.target_type, col, schema)]
        if col is not None and col.generated is not None:
            expression = generated_expression(tm, table, col)
            if expression is None:
                continue
            parts.append(generated_clause(expression))
        elif col is not None and (col.identity or (col.default or "").startswith("nextval(")):
            identity = identity_clause(col, cm.target_type)
            if identity is not None:
                parts.append(identity)
        if col is not None and col.not_null:
            parts.append(sql.SQL("NOT NULL"))
        items.append(sql.SQL(" ").join(parts))
    if keys:
        items.extend(key_constraints(tm, table))
    head = "CREATE TABLE IF NOT EXISTS {} (\n    " if if_not_exists else "CREATE TABLE {} (\n    "
    return sql.SQL(head + "{}\n)").format(
        sql.Identifier(schema, tm.target), sql.SQL(",\n    ").join(items)
    )


def foreign_key_statement(
    tm: TableMapping,
    parent: TableMapping,
    fk: ForeignKey,
    schema: str = "public",
) -> sql.Composed | None:
    """ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY for one of the source's foreign keys, in
    target names, with its ON DELETE / ON UPDATE actions and its deferrability; None when one
    of its columns is not copied.

    Django's are DEFERRABLE INITIALLY DEFERRED, and apps rely on that (objects saved in any
    order in a transaction), so they are kept: the load's own transaction makes them
    IMMEDIATE (``table_setup``), and one added after the load checks the rows at once."""
    child_cols = [tm.target_column(c) for c in fk.columns]
    parent_cols = [parent.target_column(c) for c in fk.ref_columns]
    if None in child_cols or None in parent_cols:
        return None
    name = fitted_name(f"{tm.target}_{'_'.join(child_cols)}_fk")
    # the actions and modes are words from a fixed list (catalog.FK_ACTIONS), not user text
    tail: list[sql.Composable] = []
    if fk.on_delete != "NO ACTION":
        tail.append(sql.SQL(" ON DELETE " + fk.on_delete))
    if fk.on_update != "NO ACTION":
        tail.append(sql.SQL(" ON UPDATE " + fk.on_update))
    if fk.deferrable:
        deferred = " DEFERRABLE INITIALLY DEFERRED" if fk.initially_deferred else " DEFERRABLE"
        tail.append(sql.SQL(deferred))
    if not fk.validated:  # as on the source: the rows already there are not checked
        tail.append(sql.SQL(" NOT VALID"))
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}").format(
        sql.Identifier(schema, tm.target),
        sql.Identifier(name),
        sql.SQL(", ").join(map(sql.Identifier, child_cols)),
        sql.Identifier(schema, parent.target),
        sql.SQL(", ").join(map(sql.Identifier, parent_cols)),
        sql.Composed(tail),
    )


def foreign_key_list(
    tm: TableMapping, table: Table, mappings: list[TableMapping], schema: str = "public"
) -> list[tuple[ForeignKey, TableMapping, sql.Composed]]:
    """(the source's foreign key, its parent's mapping, the statement) for each foreign key
    between tables migrated in this run."""
    by_source = {m.source: m for m in mappings if m.include}
    found = []
    for fk in table.foreign_keys:
        parent = by_source.get(fk.ref_table)
        if parent is None:
            continue
        statement = foreign_key_statement(tm, parent, fk, schema)
        if statement is not None:
            found.append((fk, parent, statement))
    return found


def foreign_keys(
    tm: TableMapping, table: Table, mappings: list[TableMapping], schema: str = "public"
) -> tuple[sql.Composed, ...]:
    """FKs only between tables migrated in this run, mapped to their new names."""
    return tuple(statement for _, _, statement in foreign_key_list(tm, table, mappings, schema))


def table_ddl(
    tm: TableMapping, table: Table, mappings: list[TableMapping], options: MigrationOptions
) -> TableDDL:
    fks = (
        foreign_keys(tm, table, mappings, options.target_schema)
        if options.create_foreign_keys
        else ()
    )
    return TableDDL(create_table(tm, table, options.target_schema), fks)


def ddl_script(catalog: Catalog, mappings: list[TableMapping], options: MigrationOptions) -> str:
    """The whole DDL as text, for review before anything runs ("Show SQL", ``coursemig plan``)."""
    creates: list[str] = []
    indexes: list[str] = []
    fks: list[str] = []
    enums: dict[str, EnumType] = {}
    for chosen in mappings:
        table = catalog.table(chosen.source)
        if not chosen.include or table is None:
            continue
        tm, unmade = made_mapping(chosen, table)
        for enum in enum_types(tm, table):
            enums.setdefault(enum.name, enum)
        try:
            ddl = table_ddl(tm, table, mappings, options)
        except ValueError as exc:
            creates.append(f"-- {tm.target}: {exc}")
            continue
        block = [ddl.create.as_string(None) + ";"]
        try:
            placement = placement_statement(tm, options.target_schema, mappings)
        except ValueError:
            placement = sql.SQL("-- choose the column to distribute {} by").format(
                sql.Identifier(tm.target)
            )
        if placement is not None:  # Citus: distributed while the table is still empty
            block.append(placement.as_string(None) + ";")
        checks, left_out = check_statements(tm, table, options.target_schema)
        for check in checks:
            # one the source has NOT VALID is added after the load, NOT VALID too
            (fks if check.after_load else block).append(check.statement.as_string(None) + ";")
        made, unindexed = index_statements(tm, table, options.target_schema)
        indexes.extend(index.statement.as_string(None) + ";" for index in made)
        block.extend(f"-- {why}" for why in [*unmade, *left_out, *unindexed])
        creates.append("\n".join(block))
        fks.extend(fk.as_string(None) + ";" for fk in ddl.foreign_keys)
    if enums:
        creates.insert(
            0,
            "-- the source's list-of-values types, made only where the target has no type of "
            "that name\n"
            + "\n".join(
                create_enum(e, options.target_schema).as_string(None) + ";" for e in enums.values()
            ),
        )
    text = "\n\n".join(creates)
    if indexes:  # built once a table's rows are in (CourseMig: each table after its load)
        text += INDEXES_MARKER + "\n".join(indexes)
    if fks:
        text += "\n\n-- after every table is loaded\n" + "\n".join(fks)
    return text + "\n"


def missing_type(tm: TableMapping, exc: BaseException, table: Table | None = None) -> str | None:
    """The sentence for a CREATE TABLE that names a type the target does not have (a domain or
    another type made on the source by hand, or one an extension brings; enums are made,
    ``enum_types``), or None for any other error. ``table``, the source's, names the
    extension."""
    found = re.search(r'type "([^"]+)" does not exist', str(exc))
    if getattr(exc, "sqlstate", None) != "42704" or found is None:
        return None
    name = found.group(1)
    short = _element_name(name)
    columns = [cm for cm in tm.included_columns if _element_name(cm.target_type) == short]
    which = (
        f"column {columns[0].target} of {tm.target} uses"
        if len(columns) == 1
        else f"columns {', '.join(cm.target for cm in columns)} of {tm.target} use"
        if columns
        else f"a column of {tm.target} uses"
    )
    sources = [table.column(cm.source) for cm in columns] if table is not None else []
    extension = next((c.extension for c in sources if c is not None and c.extension), None)
    if extension is not None:
        return (
            f'The target database has no type "{name}", which {which}; it comes with the '
            f"extension {extension}. Install the extension on the target (CREATE EXTENSION "
            f"{extension}), or choose text as its type on the Columns page (or in the saved "
            "migration), so its values are copied as text."
        )
    return (
        f'The target database has no type "{name}", which {which}. '
        "Choose text as its type on the Columns page (or in the saved migration), so its "
        "values are copied as text, or create the type on the target first."
    )


def _element_name(type_text: str) -> str:
    """A type's name without schema, quotes or array brackets: "posint[]" -> "posint"."""
    return type_text.split("[")[0].strip().strip('"').rsplit(".", 1)[-1]
