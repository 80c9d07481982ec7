"""Orders and runs a whole migration, and builds its report.

One snapshot of the source for every table (so foreign keys hold between them); parents before
children; each table in one target transaction, so a cancel, a failure or a crash leaves it as
it was before.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from coursemig_gui.core.catalog import Catalog, Column, Table, read_catalog, table_exists
from coursemig_gui.core.citus import (
    CitusInfo,
    creation_order,
    detect_citus,
    explain_citus_error,
    load_stages,
    placement_statement,
    require_citus,
    validate_placements,
)
from coursemig_gui.core.connection import explain_error
from coursemig_gui.core.csvfiles import csv_file_name, file_batches, pg_encoding, read_layout
from coursemig_gui.core.ddl import add_keys, create_table, foreign_keys
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import (
    Cancelled,
    CancelToken,
    EventCallback,
    LogMessage,
    Phase,
    RejectedRow,
    TableProgress,
    ignore_events,
)
from coursemig_gui.core.mapping import IfExists, Placement, Problem, TableMapping, validate
from coursemig_gui.core.options import MigrationOptions, OnError, Route
from coursemig_gui.core.paths import new_run_dir
from coursemig_gui.core.rejects import RejectLog
from coursemig_gui.core.report import MigrationReport, TableReport, Verification
from coursemig_gui.core.transfer import (
    DatabaseRows,
    LoadPolicy,
    LoadResult,
    ProgressThrottle,
    TableFailed,
    TableLoader,
    csv_line,
    table_checksum,
)

# Session settings that make both sides write values the same way, so checksums compare.
_SESSION = ("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'",
            "SET extra_float_digits = 3", "SET bytea_output = 'hex'")  # fmt: skip


def load_order(mappings: list[TableMapping], catalog: Catalog | None) -> list[TableMapping]:
    """Parents before children (foreign keys), otherwise in the given order."""
    included = [m for m in mappings if m.include]
    if catalog is None:
        return included
    by_source = {m.source: m for m in included}
    done: set[str] = set()
    ordered: list[TableMapping] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting:
            return  # a cycle: keep the given order for its members
        visiting.add(name)
        table = catalog.table(name)
        for parent in sorted(table.parents if table else ()):
            if parent in by_source:
                visit(parent)
        visiting.discard(name)
        done.add(name)
        ordered.append(by_source[name])

    for m in included:
        visit(m.source)
    return ordered


def connect(conninfo: str, **kw) -> psycopg.Connection:
    """Connect for the engine: autocommit (transactions are explicit), plain errors."""
    if str(conninfo_to_dict(conninfo).get("port", "")) == "6432":
        # Azure's PgBouncer in transaction mode: a prepared statement would land on another
        # server connection
        kw.setdefault("prepare_threshold", None)
    try:
        conn = psycopg.connect(conninfo, autocommit=True, **kw)
    except psycopg.Error as exc:
        raise explain_error(exc) from exc
    for statement in _SESSION:
        conn.execute(statement)
    return conn


def run_migration(
    source: str | None,
    target: str | None,
    mappings: list[TableMapping],
    options: MigrationOptions,
    on_event: EventCallback = ignore_events,
    cancel: CancelToken | None = None,
) -> MigrationReport:
    """Run a whole migration; blocking. Never raises for what a user can meet: problems end up
    in the report (``report.message`` for the run, ``TableReport.message`` per table)."""
    run = _Run(source, target, mappings, options, on_event, cancel or CancelToken())
    try:
        run.execute()
    except FriendlyError as exc:
        run.report.message, run.report.detail = exc.message, exc.detail
    except psycopg.Error as exc:
        friendly = explain_error(exc)
        run.report.message, run.report.detail = friendly.message, friendly.detail
    finally:
        run.close()
        run.report.finished = datetime.now().isoformat(timespec="seconds")
    if run.report.message:
        on_event(LogMessage(run.report.message, "error", run.report.detail))
    return run.report


class _Run:
    def __init__(
        self,
        source: str | None,
        target: str | None,
        mappings: list[TableMapping],
        options: MigrationOptions,
        on_event: EventCallback,
        cancel: CancelToken,
    ) -> None:
        self.source = source
        self.target = target
        self.mappings = mappings
        self.options = options
        self.cancel = cancel
        self.report = MigrationReport(route=options.route.value)
        self._event_lock = threading.Lock()
        self._on_event = on_event
        self.catalog: Catalog | None = None
        self.snapshot: str | None = None
        self._snapshot_conn: psycopg.Connection | None = None
        self.rejects: RejectLog | None = None
        self.citus: CitusInfo | None = None  # detected once per run, on the target
        self._made: set[str] = set()  # Citus: tables created (and distributed) before the loads
        self._set_aside: dict[str, list[_ReferringKey]] = {}  # replace: other tables' FKs
        self._pending_keys: dict[str, sql.Composed | None] = {}  # new tables: keys after load
        self._pending_fks: dict[str, tuple[sql.Composed, ...]] = {}  # and their foreign keys
        self._checks_during_load: set[str] = set()  # tables whose deferred checks failed once

    def emit(self, event) -> None:
        with self._event_lock:
            self._on_event(event)

    # -- the run -------------------------------------------------------------------------------

    @property
    def reads_database(self) -> bool:
        return self.options.route in (Route.DIRECT, Route.DIRECT_KEEP_CSV, Route.EXPORT)

    @property
    def writes_database(self) -> bool:
        return self.options.route in (Route.DIRECT, Route.DIRECT_KEEP_CSV, Route.IMPORT)

    @property
    def csv_dir(self) -> Path:
        if not self.options.csv_dir:
            raise FriendlyError("Choose a folder for the CSV files.", "csv_dir is not set")
        return Path(self.options.csv_dir)

    def execute(self) -> None:
        if self.reads_database:
            if not self.source:
                raise FriendlyError("Connect to the source database first.", "no source")
            self._snapshot_conn = connect(self.source)
            self.catalog = read_catalog(self._snapshot_conn, self.options.source_schema)
            problems = validate(self.mappings, self.catalog)
            if self.writes_database:  # an export puts nothing on a cluster: placement is moot
                problems += validate_placements(
                    self.mappings, self.catalog, foreign_keys=self.options.create_foreign_keys
                )
            self._stop_on_errors(problems)
            # One snapshot for every table: what a child table refers to is in its parent.
            self._snapshot_conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self.snapshot = self._snapshot_conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        if self.writes_database:
            if not self.target:
                raise FriendlyError("Connect to the target database first.", "no target")
            with connect(self.target) as probe:  # a bad password fails before any table starts
                self.citus = detect_citus(probe)
            self._stop_on_errors(require_citus(self.mappings, self.citus))
            if self.citus is not None:
                self.emit(LogMessage(f"The target runs {self.citus.summary()}."))
        if self.options.route in (Route.EXPORT, Route.DIRECT_KEEP_CSV):
            self.csv_dir.mkdir(parents=True, exist_ok=True)
        folder = (
            Path(self.options.rejects_dir) if self.options.rejects_dir else new_run_dir("rejects")
        )
        self.rejects = RejectLog(folder)

        ordered = load_order(self.mappings, self.catalog)
        reports = {tm.source: TableReport(tm.source, tm.target) for tm in ordered}
        self.report.tables = list(reports.values())
        for tm in ordered:
            self.emit(TableProgress(tm.source, tm.target, Phase.WAITING,
                                    rows_total=self._estimate(tm)))  # fmt: skip
        if not self.citus_mode:
            self._load(ordered, reports)
        else:
            # Citus: create and distribute every new table while empty, load reference and
            # local tables (each commits), then distributed ones; FKs and sequences after.
            try:
                if self.catalog is not None and self.options.route != Route.IMPORT:
                    self._create_and_distribute(ordered, reports)
                for stage in load_stages(ordered):
                    self._load([tm for tm in stage if reports[tm.source].status == Phase.WAITING],
                               reports)  # fmt: skip
            finally:
                self._after_loads(ordered, reports)
        self.report.cancelled = self.cancel.cancelled

    @property
    def citus_mode(self) -> bool:
        """The target has Citus (or the test stand-in): placements, and the Citus order."""
        return self.citus is not None

    def _stop_on_errors(self, problems: list[Problem]) -> None:
        """Warnings are logged; errors stop the run before anything is written."""
        errors = [p for p in problems if p.is_error]
        for p in problems:
            if not p.is_error:
                self.emit(LogMessage(p.message, "warning"))
        if errors:
            raise FriendlyError(
                "The migration cannot start: " + " ".join(p.message for p in errors),
                "\n".join(f"{p.table}: {p.message}" for p in errors),
            )

    def _load(self, ordered: list[TableMapping], reports: dict[str, TableReport]) -> None:
        if self.options.loaders <= 1 or len(ordered) <= 1:
            for tm in ordered:
                if self.cancel.cancelled:
                    self._not_started(reports[tm.source])
                    continue
                self._table_with_retries(tm, reports[tm.source])
        else:
            self._parallel(ordered, reports)

    def _parallel(self, ordered: list[TableMapping], reports: dict[str, TableReport]) -> None:
        """Several tables at once; a child starts only after its parents have finished.

        ``options.loaders`` caps how many tables load at once, each over its own source and
        target connections (sharing the source snapshot). On Citus each COPY into a
        distributed table also opens one connection per shard on the worker nodes, so the
        cap multiplies those: keep it low on a small cluster.
        """
        names = {tm.source for tm in ordered}  # parents in an earlier stage are already done
        parents = {
            tm.source: {
                p
                for p in (
                    self.catalog.table(tm.source).parents
                    if self.catalog and self.catalog.table(tm.source)
                    else set()
                )
                if p in names
            }  # fmt: skip
            for tm in ordered
        }
        pending = list(ordered)
        finished: set[str] = set()
        running: dict[Future, str] = {}
        with ThreadPoolExecutor(
            self.options.loaders, thread_name_prefix="coursemig-loader"
        ) as pool:
            while pending or running:
                if self.cancel.cancelled:
                    for tm in pending:
                        self._not_started(reports[tm.source])
                    pending = []
                ready = [tm for tm in pending if parents[tm.source] <= finished]
                for tm in ready:
                    if len(running) >= self.options.loaders:
                        break
                    pending.remove(tm)
                    running[pool.submit(self._table_with_retries, tm, reports[tm.source])] = (
                        tm.source
                    )
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    finished.add(running.pop(future))
                    future.result()

    def _not_started(self, report: TableReport) -> None:
        report.status = Phase.SKIPPED
        report.message = "Not started: the migration was stopped."
        self.emit(
            TableProgress(report.source, report.target, Phase.SKIPPED, message=report.message)
        )

    def _estimate(self, tm: TableMapping) -> int:
        table = self.catalog.table(tm.source) if self.catalog else None
        return table.row_estimate if table else 0

    def _table_with_retries(self, tm: TableMapping, report: TableReport) -> None:
        attempts = max(1, self.options.retries + 1) if self.writes_database else 1
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            if attempt > 1 and self.rejects is not None:
                self.rejects.discard(tm.target)  # the table starts again: so do its bad rows
            try:
                try:
                    self._table(tm, report, started)
                except _DeferredCheckFailed as exc:
                    # Keys or foreign keys checked after the load found a bad row: load the
                    # table again with the checks in place, so each bad row is isolated and
                    # logged instead of failing the whole table.
                    self._checks_during_load.add(tm.target)
                    self.rejects.discard(tm.target)
                    self.emit(LogMessage(f"{exc.message} Loading {tm.target} again, checking "
                                         "each row, to find them.", "warning", exc.detail))  # fmt: skip
                    started = time.monotonic()
                    self._table(tm, report, started)
                if attempt > 1:
                    self.emit(LogMessage(f"{tm.target} was copied on try {attempt} of {attempts}, "
                                         "from the start, so each row is in it once."))  # fmt: skip
                return
            except Cancelled:
                report.status = Phase.ROLLED_BACK
                report.rows_written = 0
                report.message = f"Stopped: {tm.target} was rolled back and is as it was before."
            except TableFailed as exc:
                report.status = Phase.FAILED
                report.rows_written = 0
                report.message, report.detail = exc.message, exc.detail
            except FriendlyError as exc:
                report.status = Phase.FAILED
                report.rows_written = 0
                report.message, report.detail = exc.message, exc.detail
            except psycopg.OperationalError as exc:
                # A dropped connection, a failover, a restart: the table's transaction is gone
                # with it, so starting the table again cannot write a row twice.
                friendly = explain_error(exc)
                report.status = Phase.FAILED
                report.rows_written = 0
                report.message = (f"{tm.target} could not be finished: {friendly.message} "
                                  f"It was rolled back and is as it was before.")  # fmt: skip
                report.detail = friendly.detail
                # A statement timeout (QueryCanceled) would only strike again: no retry.
                transient = not isinstance(exc, psycopg.errors.QueryCanceled)
                if attempt < attempts and transient and not self.cancel.cancelled:
                    self.emit(LogMessage(f"The connection was lost while copying {tm.target}; "
                                         f"starting it again (try {attempt + 1} of {attempts}).",
                                         "warning", friendly.detail))  # fmt: skip
                    time.sleep(min(2.0 * attempt, 5.0))
                    continue
            except psycopg.Error as exc:
                friendly = explain_error(exc)
                report.status = Phase.FAILED
                report.rows_written = 0
                report.message = (
                    f"{tm.target} could not be copied and was left as it was. {friendly.message}"
                )
                report.detail = friendly.detail
            report.seconds = time.monotonic() - started
            self.emit(TableProgress(tm.source, tm.target, report.status, report.rows_read,
                                    report.rows_read, 0, report.rows_rejected, report.seconds,
                                    report.message))  # fmt: skip
            return

    # -- one table -----------------------------------------------------------------------------

    def _open_source(self) -> psycopg.Connection:
        conn = connect(self.source)
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(self.snapshot)))
        return conn

    def _table(self, tm: TableMapping, report: TableReport, started: float) -> None:
        for pending in (self._pending_keys, self._pending_fks, self._set_aside):
            pending.pop(tm.target, None)  # left over from an attempt that was rolled back
        report.rows_read = report.rows_written = report.rows_rejected = 0
        report.status = Phase.WAITING
        report.message = report.detail = ""
        conns: list[psycopg.Connection] = []
        try:
            src = self._open_source() if self.reads_database else None
            if src:
                conns.append(src)
                self.cancel.watch(src)
            tgt = connect(self.target) if self.writes_database else None
            if tgt:
                conns.append(tgt)
                self.cancel.watch(tgt)
            self.cancel.check()
            if self.options.route == Route.EXPORT:
                self._export(tm, report, src, started)
            elif self.options.route == Route.IMPORT:
                self._import(tm, report, tgt, started)
            else:
                self._direct(tm, report, src, tgt, started)
        finally:
            for conn in conns:
                self.cancel.unwatch(conn)
                conn.close()

    def _progress(self, tm: TableMapping, report: TableReport, phase: Phase, started: float,
                  total: int) -> callable:  # fmt: skip
        throttle = ProgressThrottle(0.2)

        def update(result: LoadResult) -> None:
            report.rows_read, report.rows_written = result.rows_read, result.rows_written
            report.rows_rejected = result.rows_rejected
            if throttle.due():
                self.emit(TableProgress(tm.source, tm.target, phase, result.rows_read,
                                        max(total, result.rows_read), result.bytes_read,
                                        result.rows_rejected, time.monotonic() - started))  # fmt: skip

        return update

    def _policy(self) -> LoadPolicy:
        return LoadPolicy(
            stop_on_error=self.options.on_error == OnError.STOP,
            max_rejects=self.options.max_rejects if self.options.on_error == OnError.SKIP else 0,
            max_reject_percent=self.options.max_reject_percent,
        )

    def _on_reject(self, row: RejectedRow) -> None:
        self.emit(row)

    def _prepare_target(
        self, tm: TableMapping, tgt: psycopg.Connection, table: Table, report: TableReport
    ) -> tuple[bool, dict[str, Column] | None]:
        """Inside the table's transaction: create, truncate or check the target table.

        Returns (created, the existing table's columns or None). Raises TableFailed to stop.
        """
        schema = self.options.target_schema
        target = sql.Identifier(schema, tm.target)
        tgt.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a hand-made table's deferred FK would
        # otherwise report its violations at COMMIT, where they cannot be traced to a row
        if tm.target in self._made:
            return True, None  # Citus: created and distributed by this run, still empty
        if not table_exists(tgt, tm.target, schema):
            self.emit(TableProgress(tm.source, tm.target, Phase.CREATING))
            keys_later = self._keys_after_load(tm, table)
            tgt.execute(create_table(tm, table, schema, keys=not keys_later))
            if keys_later:
                self._pending_keys[tm.target] = add_keys(tm, table, schema)
            placement = placement_statement(tm, schema, self.mappings) if self.citus_mode else None
            if placement is not None:  # CSV import on Citus: distributed while still empty
                tgt.execute(placement)
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
            return True, None
        if tm.if_exists == IfExists.FAIL:
            raise TableFailed(
                f"The table {tm.target} already exists in the target, so it was not touched. "
                "Choose 'Add rows', 'Replace all rows' or 'Skip' for it, or give it another name.",
                f"relation {schema}.{tm.target} exists",
            )
        existing = {c.name: c for c in _target_columns(tgt, tm.target, schema)}
        missing = [cm.target for cm in tm.included_columns if cm.target not in existing]
        if missing:
            raise TableFailed(
                f"The existing table {tm.target} has no column {', '.join(missing)}. Rename the "
                "column on the Columns page, leave it out, or choose another target table.",
                f"target columns: {', '.join(existing)}",
            )
        if tm.if_exists == IfExists.REPLACE:
            # Other tables' foreign keys would forbid the TRUNCATE: set them aside for this
            # transaction and put them back after the load, which checks every referring row
            # against the new rows. A rollback restores them as they were.
            self._set_aside[tm.target] = _referring_foreign_keys(tgt, schema, tm.target)
            for fk in self._set_aside[tm.target]:
                tgt.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(fk.schema, fk.table), sql.Identifier(fk.name)))  # fmt: skip
            tgt.execute(sql.SQL("TRUNCATE {}").format(target))
        return False, existing

    def _keys_after_load(self, tm: TableMapping, table: Table) -> bool:
        """Whether a new table can get its PRIMARY KEY and UNIQUE after the load.

        Only where no duplicate can reach it: rows come from a source table that enforces the
        same keys on columns of the same types (a CSV file enforces nothing; a changed type,
        say a rounded numeric, could make two values equal). Not on Citus, where keys are
        part of distributing the table, nor on a table that refers to itself.
        """
        if (not self.options.keys_after_load or self.citus_mode or not self.reads_database
                or tm.target in self._checks_during_load):  # fmt: skip
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

    def _add_pending_keys(self, tgt: psycopg.Connection, tm: TableMapping) -> None:
        statement = self._pending_keys.pop(tm.target, None)
        if statement is None:
            return
        try:
            with tgt.transaction():
                # room to sort the keys in memory (64 MB by default spills a 1M-row index to
                # disk); SET LOCAL ends with the table's transaction
                tgt.execute("SET LOCAL maintenance_work_mem = '256MB'")
                tgt.execute(statement)
        except psycopg.errors.UniqueViolation as exc:
            detail = (exc.diag.message_detail or "") if exc.diag else ""
            raise _DeferredCheckFailed(
                f"{tm.target} has rows with the same key ({detail.strip() or exc}).", str(exc)
            ) from exc

    def _fks_after_load(self, tm: TableMapping, table: Table) -> bool:
        """Whether a new table's foreign keys can be checked once, after the load, instead of
        row by row (about a third of the load time for a child table).

        Only when every parent is copied in this same run without a rejected row: then the
        source's own foreign keys guarantee each row finds its parent. Anything else keeps the
        row-by-row check, so a missing parent is isolated to its row.
        """
        if (not self.options.keys_after_load or self.citus_mode or not self.reads_database
                or tm.target in self._checks_during_load):  # fmt: skip
            return False
        by_source = {r.source: r for r in self.report.tables}
        for parent in table.parents:
            report = by_source.get(parent)
            if report is None or report.status != Phase.DONE or report.rows_rejected:
                return False
        return True

    def _add_pending_foreign_keys(self, tgt: psycopg.Connection, tm: TableMapping) -> None:
        statements = self._pending_fks.pop(tm.target, ())
        for statement in statements:
            try:
                with tgt.transaction():
                    tgt.execute(statement)
            except psycopg.errors.ForeignKeyViolation as exc:
                detail = (exc.diag.message_detail or "") if exc.diag else ""
                raise _DeferredCheckFailed(
                    f"Some rows of {tm.target} refer to rows that are not in the target "
                    f"({detail.strip() or exc}).",
                    str(exc),
                ) from exc

    def _restore_foreign_keys(self, tgt: psycopg.Connection, tm: TableMapping) -> None:
        """Put back the foreign keys ``_prepare_target`` set aside; they check every referring
        row, so a replace cannot leave another table pointing at a row that is gone."""
        for fk in self._set_aside.pop(tm.target, []):
            try:
                with tgt.transaction():
                    # the definition is the server's own text for its constraint (from
                    # pg_get_constraintdef), not anything a user typed
                    tgt.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                        sql.Identifier(fk.schema, fk.table), sql.Identifier(fk.name),
                        sql.SQL(fk.definition)))  # fmt: skip
            except psycopg.errors.ForeignKeyViolation as exc:
                detail = (exc.diag.message_detail or "") if exc.diag else ""
                raise TableFailed(
                    f"Replacing the rows of {tm.target} would leave rows of {fk.table} without "
                    f"the {tm.target} they refer to ({detail.strip() or exc}). {tm.target} was "
                    f"left as it was. Replace {fk.table} in the same migration, or choose "
                    "'Add rows'.",
                    str(exc),
                ) from exc

    def _direct(self, tm: TableMapping, report: TableReport, src, tgt, started: float) -> None:
        table = self.catalog.table(tm.source)
        schema = self.options.target_schema
        target = sql.Identifier(schema, tm.target)
        keep_csv = self.options.route == Route.DIRECT_KEEP_CSV
        columns = tm.included_columns
        before = 0
        with tgt.transaction():
            if (tm.if_exists == IfExists.SKIP and tm.target not in self._made
                    and table_exists(tgt, tm.target, schema)):  # fmt: skip
                report.status = Phase.SKIPPED
                report.message = f"{tm.target} already exists and was skipped, as chosen."
                self.emit(
                    TableProgress(tm.source, tm.target, Phase.SKIPPED, message=report.message)
                )
                return
            created, existing = self._prepare_target(tm, tgt, table, report)
            if existing is not None and tm.if_exists == IfExists.APPEND:
                before = tgt.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[
                    0
                ]
            source_types = [table.column(cm.source).type for cm in columns]
            target_types = ([existing[cm.target].type for cm in columns] if existing is not None
                            else [cm.target_type for cm in columns])  # fmt: skip
            same_types = source_types == target_types
            # Binary is about 1.4x faster, but only safe when the server need not convert.
            fmt = "binary" if (self.options.binary and same_types and not keep_csv) else "csv"
            stream = DatabaseRows(
                src, sql.Identifier(self.options.source_schema, tm.source),
                [cm.source for cm in columns], fmt, self.options.batch_rows,
                self.options.batch_bytes,
                tee=(self.csv_dir / csv_file_name(tm.source)) if keep_csv else None,
            )  # fmt: skip
            loader = TableLoader(
                tgt, target, [cm.target for cm in columns], fmt,
                table_name=tm.source, target_name=tm.target, header=stream.csv_header(),
                policy=self._policy(), rejects=self.rejects, on_reject=self._on_reject,
                cancel=self.cancel, source_type_oids=[table.column(cm.source).type_oid for cm in columns],
                checksum=self.options.verify,
            )  # fmt: skip
            self.emit(TableProgress(tm.source, tm.target, Phase.COPYING, 0, table.row_estimate))
            result = loader.load(stream.batches(), self._progress(tm, report, Phase.COPYING, started,
                                                                   table.row_estimate))  # fmt: skip
            self.cancel.check()
            if not self.citus_mode:  # on Citus, after the foreign keys (_after_loads)
                self._add_pending_keys(tgt, tm)
                self._add_pending_foreign_keys(tgt, tm)
                self._restore_foreign_keys(tgt, tm)
                _move_sequences(tgt, schema, tm.target, [cm.target for cm in columns])
        report.rows_read, report.rows_written = result.rows_read, result.rows_written
        report.rows_rejected = result.rows_rejected
        if keep_csv:
            report.csv_file = str(self.csv_dir / csv_file_name(tm.source))
        if result.rows_rejected:
            report.reject_file = str(self.rejects.reject_file(tm.target))
        if self.options.verify:
            self.emit(TableProgress(tm.source, tm.target, Phase.VERIFYING, result.rows_read,
                                    result.rows_read, result.bytes_read, result.rows_rejected,
                                    time.monotonic() - started))  # fmt: skip
            self._verify(tm, report, tgt, result, fmt, same_types, before)
        self._finish(tm, report, started)

    def _verify(
        self, tm, report, tgt, result: LoadResult, fmt: str, same_types: bool, before: int
    ) -> None:
        target = sql.Identifier(self.options.target_schema, tm.target)
        columns = [cm.target for cm in tm.included_columns]
        if before:
            count = tgt.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[0]
            ok = count == before + result.rows_written
            report.verification = Verification.COUNTS_MATCH if ok else Verification.MISMATCH
            report.verification_detail = (f"{before} rows were there before, {result.rows_written} "
                                           f"added, {count} now")  # fmt: skip
            return
        count, checksum = table_checksum(tgt, target, columns, fmt)
        if count != result.rows_written:
            report.verification = Verification.MISMATCH
            report.verification_detail = (
                f"{result.rows_written} rows written, {count} in the target"
            )
        elif checksum == result.checksum:
            report.verification = Verification.MATCH
            report.verification_detail = f"{count} rows; content checksum matches"
        elif not same_types:
            report.verification = Verification.COUNTS_MATCH
            report.verification_detail = (
                "counts match; content is written differently because column types change"
            )
        else:
            report.verification = Verification.MISMATCH
            report.verification_detail = f"{count} rows, but their content differs from the source"

    def _finish(self, tm: TableMapping, report: TableReport, started: float) -> None:
        report.seconds = time.monotonic() - started
        report.status = Phase.DONE_WITH_REJECTS if report.rows_rejected else Phase.DONE
        if report.verification == Verification.MISMATCH:
            report.message = (
                f"Copied, but the check found a difference: {report.verification_detail}."
            )
        elif report.rows_rejected:
            report.message = (f"{report.rows_rejected} rows could not be copied; they are in "
                              f"{report.reject_file}.")  # fmt: skip
        self.emit(TableProgress(tm.source, tm.target, report.status, report.rows_read,
                                report.rows_read, 0, report.rows_rejected, report.seconds,
                                report.message))  # fmt: skip

    def _export(self, tm: TableMapping, report: TableReport, src, started: float) -> None:
        table = self.catalog.table(tm.source)
        path = self.csv_dir / csv_file_name(tm.source)
        columns = [cm.source for cm in tm.included_columns]
        stream = DatabaseRows(src, sql.Identifier(self.options.source_schema, tm.source), columns,
                              "csv", self.options.batch_rows, self.options.batch_bytes, tee=path)  # fmt: skip
        self.emit(TableProgress(tm.source, tm.target, Phase.EXPORTING, 0, table.row_estimate))
        update = self._progress(tm, report, Phase.EXPORTING, started, table.row_estimate)
        result = LoadResult()
        for batch in stream.batches():
            self.cancel.check()
            result.rows_read += len(batch.rows)
            result.rows_written += len(batch.rows)
            result.bytes_read += sum(map(len, batch.rows))
            update(result)
        report.rows_read = report.rows_written = result.rows_read
        report.csv_file = str(path)
        report.verification = Verification.NOT_RUN
        self._finish(tm, report, started)

    def _import(self, tm: TableMapping, report: TableReport, tgt, started: float) -> None:
        schema = self.options.target_schema
        target = sql.Identifier(schema, tm.target)
        path = self.csv_dir / csv_file_name(tm.source)
        layout = read_layout(path, self.options.csv_encoding,
                             self.options.csv_delimiter if self.options.csv_delimiter else None)  # fmt: skip
        # Columns are matched by name, never by position: the user's file had program_id last.
        by_source = {cm.source: cm for cm in tm.columns}
        by_target = {cm.target: cm for cm in tm.columns}
        target_columns: list[str] = []
        for name in layout.columns:
            cm = by_source.get(name) or by_target.get(name)
            if cm is not None and not cm.include:
                raise TableFailed(f"{path.name} has the column {name}, which is left out for "
                                  f"{tm.target}. Include it, or remove it from the file.", "")  # fmt: skip
            target_columns.append(cm.target if cm else name)
        table = _table_from_mapping(tm, layout.columns, target_columns)
        before = 0
        with tgt.transaction():
            if tm.if_exists == IfExists.SKIP and table_exists(tgt, tm.target, schema):
                report.status = Phase.SKIPPED
                report.message = f"{tm.target} already exists and was skipped, as chosen."
                self.emit(
                    TableProgress(tm.source, tm.target, Phase.SKIPPED, message=report.message)
                )
                return
            import_mapping = TableMapping(tm.source, tm.target, [
                _column_mapping_for(name, tname, tm) for name, tname in zip(layout.columns, target_columns,
                                                                             strict=True)
            ], if_exists=tm.if_exists)  # fmt: skip
            _, existing = self._prepare_target(import_mapping, tgt, table, report)
            if existing is not None and tm.if_exists == IfExists.APPEND:
                before = tgt.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[
                    0
                ]
            options = sql.SQL("DELIMITER {}, ENCODING {}").format(
                sql.Literal(layout.delimiter), sql.Literal(pg_encoding(layout.encoding))
            )
            loader = TableLoader(
                tgt, target, target_columns, "csv", table_name=path.name, target_name=tm.target,
                header=csv_line(layout.columns), policy=self._policy(), rejects=self.rejects,
                on_reject=self._on_reject, cancel=self.cancel, copy_options=options,
            )  # fmt: skip
            size = path.stat().st_size
            estimate = max(1, size // 200)
            self.emit(TableProgress(tm.source, tm.target, Phase.COPYING, 0, estimate))
            result = loader.load(
                file_batches(layout, self.options.batch_rows, self.options.batch_bytes),
                self._progress(tm, report, Phase.COPYING, started, estimate),
            )
            self.cancel.check()
            self._restore_foreign_keys(tgt, tm)
            _move_sequences(tgt, schema, tm.target, target_columns)
        report.rows_read, report.rows_written = result.rows_read, result.rows_written
        report.rows_rejected = result.rows_rejected
        report.csv_file = str(path)
        if result.rows_rejected:
            report.reject_file = str(self.rejects.reject_file(tm.target))
        if self.options.verify:
            count = tgt.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[0]
            ok = count == before + result.rows_written
            report.verification = Verification.COUNTS_MATCH if ok else Verification.MISMATCH
            report.verification_detail = (
                f"{count} rows in {tm.target}, {result.rows_written} loaded from the file"
            )
        self._finish(tm, report, started)

    # -- Citus ---------------------------------------------------------------------------------

    def _create_and_distribute(
        self, ordered: list[TableMapping], reports: dict[str, TableReport]
    ) -> None:
        """Create each new table and distribute it while empty, one transaction per table, so
        a table Citus refuses is not left half-made. Existing tables keep their placement."""
        schema = self.options.target_schema
        with connect(self.target) as tgt:
            for tm in creation_order(ordered):
                if self.cancel.cancelled:
                    break
                table = self.catalog.table(tm.source)
                if table is None or table_exists(tgt, tm.target, schema):
                    if table is not None and tm.placement != Placement.LOCAL:
                        self.emit(LogMessage(f"{tm.target} already exists in the target; its "
                                             "placement on the cluster is left as it is."))  # fmt: skip
                    continue
                self.emit(TableProgress(tm.source, tm.target, Phase.CREATING))
                try:
                    with tgt.transaction():
                        tgt.execute(create_table(tm, table, schema))
                        placement = placement_statement(tm, schema, self.mappings)
                        if placement is not None:
                            tgt.execute(placement)
                except (psycopg.Error, ValueError) as exc:
                    friendly = explain_error(exc) if isinstance(exc, psycopg.Error) else None
                    why = explain_citus_error(exc, tm) or (
                        friendly.message if friendly else str(exc)
                    )
                    report = reports[tm.source]
                    report.status = Phase.FAILED
                    report.message = (f"{tm.target} could not be created as a {tm.placement.value} "
                                      f"table, so it was not copied. {why}")  # fmt: skip
                    report.detail = friendly.detail if friendly else str(exc)
                    self.emit(
                        TableProgress(tm.source, tm.target, Phase.FAILED, message=report.message)
                    )
                    continue
                self._made.add(tm.target)

    def _after_loads(self, ordered: list[TableMapping], reports: dict[str, TableReport]) -> None:
        """Citus, after every load: drop the tables this run created but did not load, add the
        foreign keys between loaded tables, then move sequences past the loaded ids."""
        schema = self.options.target_schema
        loaded = {tm.target for tm in ordered
                  if reports[tm.source].status in (Phase.DONE, Phase.DONE_WITH_REJECTS)}  # fmt: skip
        unloaded = [tm for tm in ordered if tm.target in self._made and tm.target not in loaded]
        with connect(self.target) as tgt:
            for tm in unloaded:
                # made for this run and never filled: gone again, as on plain PostgreSQL
                tgt.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, tm.target))
                )
                self._made.discard(tm.target)
                self.emit(LogMessage(f"{tm.target} was created for this run but not copied, so it "
                                     "was removed again."))  # fmt: skip
            if self.options.create_foreign_keys and self.catalog is not None:
                usable = [m for m in self.mappings if m.target not in {u.target for u in unloaded}]
                for tm in ordered:
                    table = self.catalog.table(tm.source)
                    if tm.target not in self._made or tm.target not in loaded or table is None:
                        continue
                    for statement in foreign_keys(tm, table, usable, schema):
                        try:
                            with tgt.transaction():
                                tgt.execute(statement)
                        except psycopg.Error as exc:
                            friendly = explain_error(exc)
                            why = explain_citus_error(exc, tm) or friendly.message
                            text = (f"{tm.target} was copied, but one of its foreign keys could not "
                                    f"be added: {why}")  # fmt: skip
                            report = reports[tm.source]
                            report.message = f"{report.message} {text}".strip()
                            self.emit(LogMessage(text, "warning",
                                                 f"{statement.as_string(tgt)}\n{friendly.detail}"))  # fmt: skip
            if self.options.route != Route.IMPORT:  # an import moves them in its own transaction
                for tm in ordered:
                    if tm.target in loaded:
                        _move_sequences(
                            tgt, schema, tm.target, [cm.target for cm in tm.included_columns]
                        )

    def close(self) -> None:
        if self._snapshot_conn is not None:
            self._snapshot_conn.close()
        if self.rejects is not None:
            self.rejects.close()


def _column_mapping_for(name: str, target_name: str, tm: TableMapping):
    from coursemig_gui.core.mapping import ColumnMapping

    cm = tm.column(name) or next((c for c in tm.columns if c.target == name), None)
    return ColumnMapping(name, target_name, cm.target_type if cm else "text")


def _table_from_mapping(
    tm: TableMapping, file_columns: list[str], target_columns: list[str]
) -> Table:
    """What to create for a CSV import when the target table is missing: the profile's types
    where it has them, text otherwise (the server casts text on load)."""
    cols = []
    for position, name in enumerate(file_columns, start=1):
        cm = tm.column(name) or next((c for c in tm.columns if c.target == name), None)
        cols.append(Column(name, cm.target_type if cm else "text", False, position=position))
    return Table(name=tm.source, columns=tuple(cols))


def _target_columns(conn: psycopg.Connection, table: str, schema: str) -> list[Column]:
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atttypid "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [schema, table],
    ).fetchall()
    return [Column(name, typ, notnull, type_oid=oid) for name, typ, notnull, oid in rows]


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


def _move_sequences(conn: psycopg.Connection, schema: str, table: str, columns: list[str]) -> None:
    """After explicit ids were loaded, move identities and serial sequences past the largest
    value, or the application's next INSERT would fail on a duplicate id."""
    for column in columns:
        row = conn.execute(
            "SELECT pg_get_serial_sequence(format('%%I.%%I', %s::text, %s::text), %s)",
            [schema, table, column],
        ).fetchone()
        if not row or not row[0]:
            continue
        conn.execute(
            sql.SQL(
                "SELECT setval({seq}::regclass, m) FROM (SELECT max({col}) AS m FROM {tbl}) s "
                "WHERE m IS NOT NULL"
            ).format(
                seq=sql.Literal(row[0]),
                col=sql.Identifier(column),
                tbl=sql.Identifier(schema, table),
            )  # fmt: skip
        )
