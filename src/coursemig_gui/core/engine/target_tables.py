"""The target table around one load: create it (keys after the load where no duplicate can
reach it), check or truncate an existing one, set aside other tables' foreign keys for a
replace and put them back, and move sequences on to the source's next ids."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import (
    Column,
    Table,
    ask_table_exists,
)
from coursemig_gui.core.citus.placement import placement_statement
from coursemig_gui.core.ddl import add_keys, create_table, foreign_keys, missing_type
from coursemig_gui.core.engine.indexes_after_load import (
    build_statements,
    drop_indexes,
    indexes_to_set_aside,
)
from coursemig_gui.core.engine.session import pin_session
from coursemig_gui.core.engine.target_constraints import (
    add_checks_after_load,
    add_checks_before_load,
    fit_unique_to_target,
)
from coursemig_gui.core.engine.target_indexes import (
    indexes_before_load,
    make_indexes,
    split_new_table_indexes,
)
from coursemig_gui.core.engine.target_types import TypeClash, make_enum_types
from coursemig_gui.core.events import (
    LogMessage,
    Phase,
    TableProgress,
)
from coursemig_gui.core.generated_columns import made_mapping
from coursemig_gui.core.mapping import IfExists, TableMapping
from coursemig_gui.core.report import TableReport
from coursemig_gui.core.sequences import (
    SequenceState,
    ask_target_sequences,
    move_sequences,
    source_states,
)
from coursemig_gui.core.transfer import (
    TableFailed,
)
from coursemig_gui.core.type_changes import lossy_change


def table_setup(tgt: psycopg.Connection, table: str, schema: str) -> psycopg.Cursor:
    """First in each table's transaction on the target, in its first round trip (pipelined):
    the settings, and whether the table exists (the cursor, for ``_prepare_target``)."""
    pin_session(tgt)
    # a deferred FK (Django's, kept on the tables this run makes, or a hand-made table's) would
    # otherwise report its violations at COMMIT, where they cannot be traced to a row; ALL also
    # covers the ones this transaction adds after this line
    tgt.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return ask_table_exists(tgt, table, schema)


class TargetTables:
    """Mixed into the run: the target-table steps of one table's transaction."""

    def _prepare_target(
        self,
        tm: TableMapping,
        tgt: psycopg.Connection,
        table: Table,
        report: TableReport,
        exists: bool,
    ) -> tuple[bool, dict[str, Column] | None, TableMapping]:
        """Inside the table's transaction: create, truncate or check the target table, which
        ``exists`` or not (as ``table_setup`` asked).

        Returns (created, the existing table's columns or None, the mapping the table has: a
        new table leaves out a generated column it cannot make). Raises TableFailed to stop.
        """
        schema = self.options.target_schema
        target = sql.Identifier(schema, tm.target)
        if tm.target in self._made:
            # Citus: made and distributed by this run, still empty, with its unique indexes
            self._check_parents_copied(tgt, tm)
            made = made_mapping(tm, table)[0]
            later = split_new_table_indexes(made, table, schema, keys_later=False)[1]
            self._pending_indexes[tm.target] = later
            return True, None, made
        if not exists:
            if self.citus_mode:  # a CSV import on Citus: its parents are there, or it fails
                self._check_parents_copied(tgt, tm)
            self.emit(TableProgress(tm.source, tm.target, Phase.CREATING))
            tm, unmade = made_mapping(tm, table)
            for why in unmade:
                self.emit(LogMessage(why, "warning"))
            keys_later = self._keys_after_load(tm, table)
            table, said = fit_unique_to_target(tgt, tm, table)
            try:
                made = make_enum_types(tgt, tm, table, schema)
                tgt.execute(create_table(tm, table, schema, keys=not keys_later))
            except TypeClash as exc:
                raise TableFailed(
                    f"{tm.target} was not made, so it was not copied. {exc}", str(exc)
                ) from exc
            except psycopg.errors.UndefinedObject as exc:
                why = missing_type(tm, exc, table)
                if why is None:
                    raise
                raise TableFailed(
                    f"{tm.target} was not made, so it was not copied. {why}", str(exc)
                ) from exc
            for message in made:
                self.emit(message)
            placement = placement_statement(tm, schema, self.mappings) if self.citus_mode else None
            if placement is not None:  # CSV import on Citus: distributed while still empty
                tgt.execute(placement)
            if self.citus_mode:  # its foreign keys come after the loads, if it commits
                self._made_in_load.add(tm.target)
            # on the empty table: a row that breaks a CHECK (or a unique index that must be
            # there during the load) is refused by the load, by itself
            said += add_checks_before_load(tgt, tm, table, schema)
            self._pending_indexes[tm.target], made_now = indexes_before_load(
                tgt, tm, table, schema, keys_later
            )
            for message in [*said, *made_now]:
                self.emit(message)
            if keys_later:
                keys = add_keys(tm, table, schema)
                self._pending_keys[tm.target] = [keys] if keys is not None else []
            if (
                self.options.create_foreign_keys
                and self.catalog is not None
                and not self.citus_mode
            ):
                statements = foreign_keys(tm, table, self.mappings, schema)
                if statements and self._fks_after_load(tm, table):
                    self._pending_fks[tm.target] = statements
                else:
                    for statement in statements:
                        tgt.execute(statement)
            return True, None, tm
        if tm.if_exists == IfExists.FAIL:
            raise TableFailed(
                f"The table {tm.target} already exists in the target, so it was not touched. "
                f"Choose {self.options.if_exists_choices} for it, or give it another name.",
                f"relation {schema}.{tm.target} exists",
            )
        existing = {c.name: c for c in _target_columns(tgt, tm.target, schema)}
        missing = [cm.target for cm in tm.included_columns if cm.target not in existing]
        if missing:
            raise TableFailed(
                f"The existing table {tm.target} has no column {', '.join(missing)}. Rename the "
                "column on the Columns page (--rename-column TABLE.COLUMN=NEW), leave it out "
                "there, or choose another target table (--rename-table).",
                f"target columns: {', '.join(existing)}",
            )
        loaded = {cm.target for cm in tm.included_columns}
        required = [
            c.name
            for c in existing.values()
            if c.not_null and c.name not in loaded
            and c.default is None and not c.identity and c.generated is None
        ]  # fmt: skip
        if required:
            # each row would be refused alone, as "t.c is empty", when the cause is the column
            raise TableFailed(
                f"The existing table {tm.target} requires a value in {', '.join(required)} "
                "(NOT NULL, no default), which this migration does not copy into it, so every "
                "row would be refused. Give the column a default on the target (or let it take "
                "NULL), or copy a column into it.",
                f"required target columns not loaded: {', '.join(required)}",
            )
        if tm.if_exists == IfExists.REPLACE:
            # Other tables' foreign keys would forbid the TRUNCATE: set them aside for this
            # transaction and put them back after the load, which checks every referring row
            # against the new rows. A rollback restores them as they were.
            self._set_aside[tm.target] = _referring_foreign_keys(tgt, schema, tm.target)
            for fk in self._set_aside[tm.target]:
                tgt.execute(
                    sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                        sql.Identifier(fk.schema, fk.table), sql.Identifier(fk.name)
                    )
                )
            tgt.execute(sql.SQL("TRUNCATE {}").format(target))
        return False, existing, tm

    def _keys_after_load(self, tm: TableMapping, table: Table) -> bool:
        """Whether a new table can get its PRIMARY KEY and UNIQUE after the load.

        Only where no duplicate can reach it: rows come from a source table that enforces the
        same keys on columns of the same types (a CSV file enforces nothing; a changed type,
        say a rounded numeric, could make two values equal). Not on Citus, where keys are
        part of distributing the table, nor on a table that refers to itself.
        """
        if (
            not self.options.keys_after_load
            or self.citus_mode
            or not self.reads_database
            or tm.target in self._checks_during_load
        ):
            return False
        if any(fk.ref_table == table.name for fk in table.foreign_keys):
            return False
        key_columns = (
            set(table.primary_key).union(*table.unique) if table.unique else set(table.primary_key)
        )
        if not key_columns:
            return False
        for name in key_columns:
            cm, col = tm.column(name), table.column(name)
            if cm is None or col is None or not cm.include or cm.target_type != col.type:
                return False
        return True

    def _set_aside_indexes(
        self,
        tgt: psycopg.Connection,
        tm: TableMapping,
        table: Table,
        existing: dict[str, Column] | None,
        before: int,
        same: bool,
    ) -> None:
        """An existing table that is empty for its load (an append to an empty table, or a
        replace): the indexes that cannot change a row's outcome are built after the load
        (``indexes_after_load.py``), in the same transaction."""
        if (
            existing is None  # a new table: its keys are made after the load already
            or before
            or not same  # a changed type could make two values equal
            or not self.options.keys_after_load
            or self.citus_mode
            or not self.reads_database
            or tm.target in self._checks_during_load
        ):
            return
        schema = self.options.target_schema
        indexes = indexes_to_set_aside(tgt, schema, tm, table)
        if indexes:
            drop_indexes(tgt, schema, tm.target, indexes)
            self._pending_keys[tm.target] = build_statements(schema, tm.target, indexes)

    def _after_the_load(
        self, tgt: psycopg.Connection, tm: TableMapping, table: Table, forward_only: bool
    ) -> None:
        """A loaded table's keys and foreign keys, and its sequences moved to the source's next
        ids: two round trips, not one or three per statement. Pipelined and without savepoints
        of their own: a failure rolls the table's transaction back, and ``_load_once`` loads it
        again, checking each row."""
        schema = self.options.target_schema
        keys = self._pending_keys.pop(tm.target, [])
        fks = self._pending_fks.pop(tm.target, ())
        columns = [cm.target for cm in tm.included_columns]
        try:
            with tgt.pipeline():
                if keys:
                    # room to sort the keys in memory (64 MB by default spills a 1M-row index
                    # to disk); SET LOCAL ends with the table's transaction
                    tgt.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for statement in [*keys, *fks]:
                    tgt.execute(statement)
                sequences = ask_target_sequences(tgt, schema, tm.target, columns)
        except psycopg.errors.UniqueViolation as exc:
            detail = (exc.diag.message_detail or "") if exc.diag else ""
            raise _DeferredCheckFailed(
                f"{tm.target} has rows with the same key ({detail.strip() or exc}).", str(exc)
            ) from exc
        except psycopg.errors.ForeignKeyViolation as exc:
            detail = (exc.diag.message_detail or "") if exc.diag else ""
            raise _DeferredCheckFailed(
                f"Some rows of {tm.target} refer to rows that are not in the target "
                f"({detail.strip() or exc}).",
                str(exc),
            ) from exc
        move_sequences(
            tgt, schema, tm.target, sequences.fetchall(), _states(tm, table), forward_only
        )

    def _move_sequences(
        self, tgt: psycopg.Connection, tm: TableMapping, table: Table | None, forward_only: bool
    ) -> None:
        """After explicit ids were loaded: each identity or serial sequence set so the next
        INSERT gets the source's next id, or one past the loaded ids (``move_statement``)."""
        schema = self.options.target_schema
        columns = [cm.target for cm in tm.included_columns]
        found = ask_target_sequences(tgt, schema, tm.target, columns).fetchall()
        move_sequences(tgt, schema, tm.target, found, _states(tm, table), forward_only)

    def _checks_and_referring_keys(
        self, tgt: psycopg.Connection, tm: TableMapping, table: Table, created: bool
    ) -> None:
        """In the loaded table's transaction: a table this run made gets the CHECKs the source
        has NOT VALID, NOT VALID too, and its other indexes (an existing table is left as it
        is); then the foreign keys a replace set aside are put back."""
        schema = self.options.target_schema
        if created or tm.target in self._made:
            for message in add_checks_after_load(tgt, tm, table, schema):
                self.emit(message)
            indexes = self._pending_indexes.pop(tm.target, [])
            for message in make_indexes(tgt, tm, table, schema, indexes, loaded=True):
                self.emit(message)
        self._restore_foreign_keys(tgt, tm)

    def _fks_after_load(self, tm: TableMapping, table: Table) -> bool:
        """Whether a new table's foreign keys can be checked once, after the load, instead of
        row by row (about a third of the load time for a child table).

        Only when every parent is copied in this same run without a rejected row: then the
        source's own foreign keys guarantee each row finds its parent. Anything else keeps the
        row-by-row check, so a missing parent is isolated to its row.
        """
        if (
            not self.options.keys_after_load
            or self.citus_mode
            or not self.reads_database
            or tm.target in self._checks_during_load
        ):
            return False
        by_source = {r.source: r for r in self.report.tables}
        for parent in table.parents:
            report = by_source.get(parent)
            if report is None or report.status != Phase.DONE or report.rows_rejected:
                return False
        return True

    def _restore_foreign_keys(self, tgt: psycopg.Connection, tm: TableMapping) -> None:
        """Put back the foreign keys ``_prepare_target`` set aside; they check every referring
        row, so a replace cannot leave another table pointing at a row that is gone."""
        for fk in self._set_aside.pop(tm.target, []):
            try:
                with tgt.transaction():
                    # the definition is the server's own text for its constraint (from
                    # pg_get_constraintdef), not anything a user typed
                    tgt.execute(
                        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                            sql.Identifier(fk.schema, fk.table),
                            sql.Identifier(fk.name),
                            sql.SQL(fk.definition),
                        )
                    )
            except psycopg.errors.ForeignKeyViolation as exc:
                detail = (exc.diag.message_detail or "") if exc.diag else ""
                raise TableFailed(
                    f"Replacing the rows of {tm.target} would leave rows of {fk.table} without "
                    f"the {tm.target} they refer to ({detail.strip() or exc}). {tm.target} was "
                    f"left as it was. Replace {fk.table} in the same migration, or choose "
                    "'Add rows' (--if-exists append).",
                    str(exc),
                ) from exc


def _target_columns(conn: psycopg.Connection, table: str, schema: str) -> list[Column]:
    # attgenerated: a generated column is computed by the target, never loaded (PostgreSQL 12+;
    # older targets have none)
    generated = (
        "CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END"
        if conn.info.server_version >= 120000
        else "NULL::text"
    )
    # a default (not a generated column's expression) and an identity fill a column no row gives
    default = (
        "CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END"
        if conn.info.server_version >= 120000
        else "pg_get_expr(d.adbin, d.adrelid)"
    )
    rows = conn.execute(
        sql.SQL(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atttypid, "
            + generated
            + ", "
            + default
            + ", a.attidentity::text"
            + " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum"
        ),
        [schema, table],
    ).fetchall()
    return [
        Column(
            name,
            typ,
            notnull,
            default,
            identity={"a": "always", "d": "by default"}.get(ident, ""),
            type_oid=oid,
            generated=expr,
        )
        for name, typ, notnull, oid, expr, default, ident in rows
    ]


class _DeferredCheckFailed(TableFailed):
    """A key or foreign key checked after the load found bad rows; the table is loaded again
    with row-by-row checks."""


@dataclass(frozen=True)
class _ReferringKey:
    schema: str
    table: str
    name: str
    definition: str


def _referring_foreign_keys(
    conn: psycopg.Connection, schema: str, table: str
) -> list[_ReferringKey]:
    """Foreign keys of other tables that point at this one."""
    rows = conn.execute(
        "SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid) "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE k.contype = 'f' AND k.conrelid <> k.confrelid "
        "AND k.confrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))",
        [schema, table],
    ).fetchall()
    return [_ReferringKey(*row) for row in rows]


def _states(tm: TableMapping, table: Table | None) -> dict[str, SequenceState]:
    """The source's sequences (read by the run, or carried by a package) by target column."""
    return source_states(table, {cm.source: cm.target for cm in tm.included_columns})


def refuse_lossy(
    table: str, columns: list[str], source_types: list[str], target_types: list[str]
) -> None:
    """An existing table's types are known only during the run: one that would silently change
    values fails the table before a row is written (a new table's are checked before the run)."""
    reasons = [
        f"{c}: {why}"
        for c, s, t in zip(columns, source_types, target_types, strict=True)
        if (why := lossy_change(s, t))
    ]
    if reasons:
        raise TableFailed(
            f"The existing table {table} would change values on the way in ("
            + "; ".join(reasons)
            + "), so it was not touched. Widen those columns in the target, or copy into a new "
            "table.",
            "; ".join(reasons),
        )
