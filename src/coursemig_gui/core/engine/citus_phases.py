"""Citus, around the loads: create and distribute new tables while empty, then drop the ones
not loaded, add foreign keys between loaded tables and move sequences."""

from __future__ import annotations

from dataclasses import replace

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import (
    ForeignKey,
    table_exists,
)
from coursemig_gui.core.citus.messages import citus_error_kind, explain_citus_error
from coursemig_gui.core.citus.placement import (
    creation_order,
    distribution_target_column,
    held_placements,
    placement_statement,
    placement_words,
)
from coursemig_gui.core.ddl import (
    create_table,
    foreign_key_list,
    foreign_key_statement,
    missing_type,
)
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.engine.table_outcome import parent_not_copied_sentence
from coursemig_gui.core.engine.target_constraints import (
    add_checks_before_load,
    fit_unique_to_target,
)
from coursemig_gui.core.engine.target_indexes import indexes_before_load
from coursemig_gui.core.engine.target_types import make_enum_types
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import (
    LogMessage,
    Phase,
    TableProgress,
)
from coursemig_gui.core.explain import explain_error
from coursemig_gui.core.generated_columns import made_mapping
from coursemig_gui.core.mapping import Placement, TableMapping
from coursemig_gui.core.report import TableReport
from coursemig_gui.core.transfer import TableFailed

# a parent with one of these is not in the target for good (a COMMIT of unknown outcome may be)
_NOT_COPIED = (Phase.FAILED, Phase.ROLLED_BACK, Phase.NOT_STARTED)


class CitusPhases:
    """Mixed into the run: the Citus steps before and after every load."""

    def _create_and_distribute(
        self, ordered: list[TableMapping], reports: dict[str, TableReport]
    ) -> None:
        """Create each new table and distribute it while empty, one transaction per table, so
        a table Citus refuses is not left half-made. Existing tables keep their placement."""
        schema = self.options.target_schema
        with self._target_sessions.borrowed() as tgt:  # the probe's connection, used at once
            for tm in creation_order(ordered):
                if self.cancel.cancelled:
                    break
                table = self.catalog.table(tm.source)
                if table is None or table_exists(tgt, tm.target, schema):
                    if table is not None:
                        self._say_existing_placement(tgt, tm)
                    continue
                self.emit(TableProgress(tm.source, tm.target, Phase.CREATING))
                table, said = fit_unique_to_target(tgt, tm, table)
                new, unmade = made_mapping(tm, table)
                said += [LogMessage(why, "warning") for why in unmade]
                try:
                    with tgt.transaction():
                        made = make_enum_types(tgt, new, table, schema)
                        tgt.execute(create_table(new, table, schema))
                        placement = placement_statement(new, schema, self.mappings)
                        if placement is not None:
                            tgt.execute(placement)
                        made += said + add_checks_before_load(tgt, new, table, schema)
                        # its unique indexes while empty; the others after its load
                        made += indexes_before_load(tgt, new, table, schema, False)[1]
                except (psycopg.Error, ValueError) as exc:
                    friendly = explain_error(exc) if isinstance(exc, psycopg.Error) else None
                    why = (
                        explain_citus_error(exc, tm)
                        or missing_type(tm, exc, table)
                        or (friendly.message if friendly else str(exc))
                    )
                    report = reports[tm.source]
                    report.status = Phase.FAILED
                    report.message = (
                        f"{tm.target} could not be created as a {tm.placement.value} "
                        f"table, so it was not copied. {why}"
                    )
                    report.detail = friendly.detail if friendly else str(exc)
                    self.emit(
                        TableProgress(tm.source, tm.target, Phase.FAILED, message=report.message)
                    )
                    continue
                self._made.add(tm.target)
                for message in made:
                    self.emit(message)

    def _say_existing_placement(self, tgt: psycopg.Connection, tm: TableMapping) -> None:
        """An existing table keeps the placement it has: said, and how it differs from the
        plan's, which the report and the hand-over must not take for what the cluster holds."""
        held, column = held_placements(tgt, self.options.target_schema, [tm.target]).get(
            tm.target, (Placement.LOCAL, None)
        )
        planned = distribution_target_column(tm) if tm.placement == Placement.DISTRIBUTED else None
        if (held, column) == (tm.placement, planned):
            if held != Placement.LOCAL:
                self.emit(
                    LogMessage(
                        f"{tm.target} already exists in the target; its placement on the "
                        "cluster is left as it is."
                    )
                )
            return
        self.emit(
            LogMessage(
                f"{tm.target} already exists in the target as "
                f"{placement_words(held, column)}, not {placement_words(tm.placement, planned)} "
                "as planned: it stays as it is (a run does not move an existing table), and "
                "the report says where it is.",
                "warning",
            )
        )

    def _check_parents_copied(self, tgt: psycopg.Connection, tm: TableMapping) -> None:
        """Before a table made for this run loads: raise TableFailed when a parent of this run
        is not in the target for good (made for the run and not copied, so removed again after
        the loads, or never made). Its foreign key, added after the loads on Citus, could never
        be made, and its rows would point at nothing: it fails as on plain PostgreSQL."""
        table = self.catalog.table(tm.source) if self.catalog is not None else None
        if table is None or not self.options.create_foreign_keys:
            return
        schema = self.options.target_schema
        status = {t.source: t.status for t in self.report.tables}
        for _fk, parent, _statement in foreign_key_list(tm, table, self.mappings, schema):
            if parent.source == tm.source or status.get(parent.source) not in _NOT_COPIED:
                continue
            if parent.target in self._made or not table_exists(tgt, parent.target, schema):
                raise TableFailed(
                    parent_not_copied_sentence(tm.target, parent.target),
                    f"{parent.target}: {status[parent.source]}",
                )

    def _after_loads(self, ordered: list[TableMapping], reports: dict[str, TableReport]) -> None:
        """Citus, after every load: drop the tables this run created but did not load, add the
        foreign keys between loaded tables, then move sequences past the loaded ids. Each step
        that fails is said in ``report.problems``, so it reaches the exit code and headline."""
        schema = self.options.target_schema
        loaded = {tm.target for tm in ordered if reports[tm.source].committed}
        # a table whose COMMIT has an unknown outcome may hold its rows: it is left for a look
        unknown = {tm.target for tm in ordered if reports[tm.source].status == Phase.COMMIT_UNKNOWN}
        unloaded = [
            tm for tm in ordered if tm.target in self._made and tm.target not in loaded | unknown
        ]
        try:
            tgt = open_session(self.target)
        except FriendlyError as exc:
            self._step_failed(
                None,
                "The steps after the copy (foreign keys between the tables, "
                "moving sequences past the copied ids) could not be done",
                exc,
            )
            return
        with tgt:
            for tm in unloaded:
                # made for this run and never filled: gone again, as on plain PostgreSQL
                try:
                    tgt.execute(
                        sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, tm.target))
                    )
                except psycopg.Error as exc:
                    self._step_failed(
                        reports[tm.source],
                        f"{tm.target} was created for this run "
                        "but not copied, and it could not be removed again",
                        exc,
                    )
                    continue
                self._made.discard(tm.target)
                self.emit(
                    LogMessage(
                        f"{tm.target} was created for this run but not copied, so it "
                        "was removed again."
                    )
                )
            if self.options.create_foreign_keys and self.catalog is not None:
                usable = [m for m in self.mappings if m.target not in {u.target for u in unloaded}]
                for tm in ordered:
                    table = self.catalog.table(tm.source)
                    made = tm.target in self._made or tm.target in self._made_in_load
                    if not made or tm.target not in loaded or table is None:
                        continue
                    for fk, parent, statement in foreign_key_list(tm, table, usable, schema):
                        try:
                            self._add_foreign_key(tgt, tm, parent, fk, statement)
                        except psycopg.Error as exc:
                            why = explain_citus_error(exc, tm)
                            self._step_failed(
                                reports[tm.source],
                                f"{tm.target} was copied, but one "
                                "of its foreign keys could not be added",
                                exc,
                                why,
                                statement.as_string(None),
                            )
            self._read_placements(tgt, ordered, reports)
            if self.options.route != Route.IMPORT:  # an import moves them in its own transaction
                for tm in ordered:
                    if tm.target not in loaded:
                        continue
                    try:
                        self._move_sequences(
                            tgt,
                            tm,
                            self.catalog.table(tm.source) if self.catalog else None,
                            tm.target not in self._made,
                        )
                    except psycopg.Error as exc:
                        self._step_failed(
                            reports[tm.source],
                            f"the sequences of {tm.target} were "
                            "not moved past the copied ids, so the app's next new "
                            f"row in {tm.target} would fail on a duplicate id",
                            exc,
                        )

    def _read_placements(
        self, tgt: psycopg.Connection, ordered: list[TableMapping], reports: dict[str, TableReport]
    ) -> None:
        """Where each table of the run is on the cluster, from Citus's catalog, for the report
        (and the hand-over written from it): the plan is not what an existing table holds."""
        try:
            held = held_placements(tgt, self.options.target_schema, [tm.target for tm in ordered])
        except psycopg.Error as exc:
            why = explain_error(exc)
            self.emit(
                LogMessage(
                    f"Where the tables are on the cluster could not be read: {why.message}",
                    "warning",
                    why.detail,
                )
            )
            return
        for tm in ordered:
            if tm.target in held:
                placement, column = held[tm.target]
                reports[tm.source].placement = placement.value
                reports[tm.source].distribution_column = column

    def _add_foreign_key(
        self,
        tgt: psycopg.Connection,
        tm: TableMapping,
        parent: TableMapping,
        fk: ForeignKey,
        statement: sql.Composed,
    ) -> None:
        """One foreign key, as the source has it; where Citus refuses its ON DELETE or ON
        UPDATE action (between distributed tables), again without that action, said in the
        log. Anything else Citus refuses is raised."""
        while True:
            try:
                with tgt.transaction():
                    tgt.execute(statement)
                return
            except psycopg.errors.FeatureNotSupported as exc:
                kind = citus_error_kind(exc)
                if kind == "fk_on_delete_action" and fk.on_delete != "NO ACTION":
                    action, fk = f"ON DELETE {fk.on_delete}", replace(fk, on_delete="NO ACTION")
                    instead = f"deleting a row of {parent.target} that rows of {tm.target} refer to is refused"
                elif kind == "fk_on_update_action" and fk.on_update != "NO ACTION":
                    action, fk = f"ON UPDATE {fk.on_update}", replace(fk, on_update="NO ACTION")
                    instead = f"changing the key of a row of {parent.target} that rows of {tm.target} refer to is refused"
                else:
                    raise
            retry = foreign_key_statement(tm, parent, fk, self.options.target_schema)
            if retry is None:
                raise RuntimeError("a foreign key lost its columns")  # cannot happen
            statement = retry
            self.emit(
                LogMessage(
                    f"Citus does not run {action} on a foreign key between distributed tables, "
                    f"so the foreign key of {tm.target} to {parent.target} is added without it: "
                    f"{instead}, as the source would not do.",
                    "warning",
                    statement.as_string(None),
                )
            )

    def _step_failed(
        self,
        report: TableReport | None,
        what: str,
        exc: BaseException,
        why: str | None = None,
        statement: str = "",
    ) -> None:
        """A step after the loads failed: said for the run and, if it is one table's, for it."""
        friendly = exc if isinstance(exc, FriendlyError) else explain_error(exc)
        what = f"{what[0].upper()}{what[1:]}"
        text = f"{what}: {why or friendly.message}"
        self.report.problems.append(f"{what}." if report is not None else text)
        if report is not None:
            report.message = f"{report.message} {text}".strip()
        self.emit(LogMessage(text, "error", f"{statement}\n{friendly.detail}".strip()))
