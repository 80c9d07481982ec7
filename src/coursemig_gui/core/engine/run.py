"""Orders and runs a whole migration, and builds its report.

One snapshot of the source for every table (so foreign keys hold between them); parents before
children; each table in one target transaction, so a cancel, a failure or a crash leaves it as
it was before."""

from __future__ import annotations

import threading
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import pq, sql

from coursemig_gui.core.catalog import (
    Catalog,
    read_catalog,
)
from coursemig_gui.core.citus.detection import CitusInfo, detect_citus
from coursemig_gui.core.citus.placement import load_stages
from coursemig_gui.core.citus.rules import require_citus, validate_placements
from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.engine.citus_phases import CitusPhases
from coursemig_gui.core.engine.idle_sessions import IdleSessions
from coursemig_gui.core.engine.rehearsal import CITUS_LIMITS, Rehearsal, rehearsal_options
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.engine.skipped_rows import skipped_rows_log
from coursemig_gui.core.engine.table_load import TableLoad
from coursemig_gui.core.engine.table_outcome import SnapshotLost, run_table
from coursemig_gui.core.engine.target_tables import _ReferringKey
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import (
    FINAL_PHASES,
    CancelToken,
    EventCallback,
    LogMessage,
    Phase,
    TableProgress,
    ignore_events,
)
from coursemig_gui.core.explain import explain_error
from coursemig_gui.core.export_package import (
    MANIFEST_NAME,
    SCHEMA_NAME,
    Package,
    PackageTable,
    named_as,
    read_package,
    remove_manifest,
    write_package,
)
from coursemig_gui.core.index_statements import IndexStatement
from coursemig_gui.core.mapping import Problem, TableMapping, validate
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.package_schema import schema_script
from coursemig_gui.core.package_zip import zip_package
from coursemig_gui.core.plan import load_order
from coursemig_gui.core.rejects import RejectLog
from coursemig_gui.core.report import MigrationReport, TableReport
from coursemig_gui.core.sequences import ask_positions, unread_sentences, with_positions

# Tables loaded at once when the options leave it to CourseMig: a small table mostly waits for
# round trips, and three at once hide most of them (a Django app's 9 tables over a 30 ms link:
# 2.6 s against 4.3 s one at a time; benchmarks/bench_slow_link.py). On Citus one, since each
# COPY into a distributed table opens a connection per shard on every worker.
AUTO_LOADERS = 3


def loaders_for(options: MigrationOptions, citus: bool) -> int:
    """How many tables load at once: the options' number, or when it is 0 (automatic),
    ``AUTO_LOADERS``, or 1 on Citus."""
    if options.loaders > 0:
        return options.loaders
    return 1 if citus else AUTO_LOADERS


def run_migration(
    source: Endpoint | None,
    target: Endpoint | None,
    mappings: list[TableMapping],
    options: MigrationOptions,
    on_event: EventCallback = ignore_events,
    cancel: CancelToken | None = None,
    test_run: bool = False,
    source_session: psycopg.Connection | None = None,
    catalog: Catalog | None = None,
) -> MigrationReport:
    """Run a whole migration; blocking. Never raises for what a user can meet: problems end up
    in the report (``report.message`` for the run, ``TableReport.message`` per table).

    ``test_run``: do everything inside one target transaction and roll it back (rehearsal).
    ``source_session``: an engine session on the source that the caller just opened (the CLI,
    which read ``catalog`` on it a moment ago): the run takes it over, and closes it, instead of
    connecting and reading the catalog again."""
    run = _Run(source, target, mappings, options, on_event, cancel or CancelToken(), test_run)
    run._snapshot_conn, run.catalog = source_session, catalog
    try:
        options.check()  # as given (a test run's own drop the CSV folder): before any write
        run.execute()
    except (FriendlyError, psycopg.Error) as exc:
        friendly = exc if isinstance(exc, FriendlyError) else explain_error(exc)
        run.report.message, run.report.detail = friendly.message, friendly.detail
        if run.cancel.cancelled and not run.report.tables:
            # a Stop while connecting (a server that does not answer): said as the stop it is
            run.report.cancelled = True
            run.report.message = (
                "Stopped before any table was started; nothing was written. (The run was "
                f"still getting ready: {friendly.message})"
            )
    except Exception as exc:  # noqa: BLE001 - a bug must still end in a report, not a traceback
        run.report.message = (
            "CourseMig stopped because of a problem inside it. Tables not finished were left "
            "as they were. Please send the details to CourseMig's makers."
        )
        run.report.detail = "".join(traceback.format_exception(exc))
    finally:
        run.close()
        for t in run.report.tables:
            if t.status not in FINAL_PHASES:  # the run ended before this table did
                t.status = Phase.NOT_STARTED
                t.message = t.message or "Not started: the migration stopped first."
        run.report.finished = datetime.now().isoformat(timespec="seconds")
    if run.report.message:
        on_event(LogMessage(run.report.message, "error", run.report.detail))
    return run.report


class _Run(TableLoad, CitusPhases):
    def __init__(
        self,
        source: Endpoint | None,
        target: Endpoint | None,
        mappings: list[TableMapping],
        options: MigrationOptions,
        on_event: EventCallback,
        cancel: CancelToken,
        test_run: bool = False,
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
        # sessions handed from table to table: the target's outside a transaction, the
        # source's inside the run's snapshot
        self.loaders = loaders_for(options, citus=False)  # set again once the target is known
        self._target_sessions = IdleSessions(self._open_target, pq.TransactionStatus.IDLE)
        self._source_sessions = IdleSessions(self._open_source, pq.TransactionStatus.INTRANS)
        self.rejects: RejectLog | None = None
        self.citus: CitusInfo | None = None  # detected once per run, on the target
        self._made: set[str] = set()  # Citus: tables created (and distributed) before the loads
        self._made_in_load: set[str] = set()  # Citus import: created in their load's transaction
        self._set_aside: dict[str, list[_ReferringKey]] = {}  # replace: other tables' FKs
        self._pending_keys: dict[str, list[sql.Composed]] = {}  # keys/indexes after the load
        self._pending_fks: dict[str, tuple[sql.Composed, ...]] = {}  # and their foreign keys
        self._pending_indexes: dict[str, list[IndexStatement]] = {}  # a new table's, after it
        self._checks_during_load: set[str] = set()  # tables whose deferred checks failed once
        self.package: Package | None = None  # import: the export's manifest, when it has one
        self._exported: dict[str, PackageTable] = {}  # export: the tables written whole
        self.rehearsal: Rehearsal | None = None
        if test_run:
            self.options, self.report.notes = rehearsal_options(options)
            self.report.test_run = True
            self.rehearsal = Rehearsal(target) if target else None

    def emit(self, event) -> None:
        with self._event_lock:
            self._on_event(event)

    # -- the run -------------------------------------------------------------------------------

    @property
    def reads_database(self) -> bool:
        return self.options.route.reads_database

    @property
    def writes_database(self) -> bool:
        return self.options.route.writes_database

    @property
    def csv_dir(self) -> Path:
        if not self.options.csv_dir:
            raise FriendlyError("Choose a folder for the CSV files.", "csv_dir is not set")
        return Path(self.options.csv_dir)

    def execute(self) -> None:
        if not any(tm.include for tm in self.mappings):  # else "All 0 tables copied"
            raise FriendlyError(
                "The migration names no table to copy, so it did not start. Choose tables.",
                "no table is included",
            )
        if self.reads_database:
            if not self.source:
                raise FriendlyError("Connect to the source database first.", "no source")
            if self._snapshot_conn is None:
                self._snapshot_conn = open_session(self.source)
            if self.catalog is None or self.catalog.schema != self.options.source_schema:
                self.catalog = read_catalog(self._snapshot_conn, self.options.source_schema)
            problems = validate(self.mappings, self.catalog)
            if self.writes_database:  # an export puts nothing on a cluster: placement is moot
                problems += validate_placements(
                    self.mappings, self.catalog, foreign_keys=self.options.create_foreign_keys
                )
            self._stop_on_errors(problems)
            # One snapshot for every table: what a child table refers to is in its parent.
            sources = {tm.source for tm in self.mappings if tm.include}
            with self._snapshot_conn.pipeline():  # one round trip, the sequences' positions too
                self._snapshot_conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                exported = self._snapshot_conn.execute("SELECT pg_export_snapshot()")
                positions = ask_positions(self._snapshot_conn, self.catalog, sources)
            self.snapshot = exported.fetchone()[0]
            self.catalog = with_positions(self.catalog, positions)
            for sentence in unread_sentences(self.catalog, sources):
                self.emit(LogMessage(sentence, "warning"))
        if self.writes_database:
            if not self.target:
                raise FriendlyError("Connect to the target database first.", "no target")
            # a bad password fails before any table starts; the first table then loads over
            # this connection rather than opening another (each costs a TLS and SCRAM handshake)
            probe = open_session(self.target)
            try:
                self.citus = detect_citus(probe)
            finally:
                self._target_sessions.give_back(probe)
            self._stop_on_errors(require_citus(self.mappings, self.citus))
            if self.citus is not None:
                self.emit(LogMessage(f"The target runs {self.citus.summary()}."))
            self.loaders = loaders_for(self.options, self.citus is not None)
            if self.rehearsal is not None:
                if self.citus is not None:  # placements commit by themselves: not rehearsed
                    self.report.notes.append(CITUS_LIMITS)
                    self.emit(LogMessage(CITUS_LIMITS, "warning"))
                    self.citus = None
                self.rehearsal.begin()
                self.emit(LogMessage("Test run: the target checks every row, then everything is "
                                     "rolled back."))  # fmt: skip
        elif self.report.test_run:
            raise FriendlyError("A test run needs a target database: exporting CSV files "
                                "writes nothing to a database anyway.", "test run of an export")  # fmt: skip
        if self.options.route.writes_csv:
            try:
                self.csv_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # no table has started: nothing is written yet
                raise FriendlyError(
                    f"The CSV folder {self.csv_dir} could not be made: {exc.strerror or exc}. "
                    "Choose another folder for the CSV files.",
                    str(exc),
                ) from exc
            remove_manifest(self.csv_dir)  # it would vouch for files about to be replaced
        if self.options.route == Route.IMPORT:
            self.package = read_package(self.csv_dir)
            if self.package is not None:  # types, keys and order come from the export
                self.catalog = self.package.catalog()
                self.emit(
                    LogMessage(
                        f"{self.csv_dir} is an export package: each file is "
                        "checked against its manifest before it is loaded."
                    )
                )
        reads = self.csv_dir if self.options.route == Route.IMPORT else None
        self.rejects, said = skipped_rows_log(self.options, reads, self.mappings)
        if said:
            self.emit(LogMessage(said))

        ordered = load_order(self.mappings, self.catalog)
        reports = {tm.source: TableReport(tm.source, tm.target) for tm in ordered}
        self.report.tables = list(reports.values())
        for tm in ordered:
            self.emit(
                TableProgress(tm.source, tm.target, Phase.WAITING, rows_total=self._estimate(tm))
            )
        if not self.citus_mode:
            self._load(ordered, reports)
            self._write_package(ordered)
        else:
            # Citus: create and distribute every new table while empty, load reference and
            # local tables (each commits), then distributed ones; FKs and sequences after.
            try:
                if self.catalog is not None and self.options.route != Route.IMPORT:
                    self._create_and_distribute(ordered, reports)
                for stage in load_stages(ordered):
                    self._load(
                        [tm for tm in stage if reports[tm.source].status == Phase.WAITING], reports
                    )
            finally:
                self._after_loads(ordered, reports)
            self._write_package(ordered)
        self.report.cancelled = self.cancel.cancelled

    def _write_package(self, ordered: list[TableMapping]) -> None:
        """After every table of an export, or of a copy that keeps its CSV files: ``schema.sql``
        and the manifest, only when every file is whole. Kept files without them would lose
        every type, key and identity when handed over and imported elsewhere."""
        if not self.options.route.writes_csv or self.report.test_run:
            return  # a test run keeps no files
        entries = [self._exported.get(tm.source) for tm in ordered]
        if self.cancel.cancelled or None in entries:
            what = "export" if self.options.route == Route.EXPORT else "set of kept CSV files"
            self.emit(
                LogMessage(
                    f"The {what} is incomplete, so it has no manifest "
                    "(coursemig-export.json): an import will not treat these "
                    "files as a checked package.",
                    "warning",
                )
            )
            return
        entries = [named_as(e, tm) for e, tm in zip(entries, ordered, strict=True)]
        schema = schema_script(entries, ordered, self.options)
        write_package(self.csv_dir, entries, self.options.source_schema, schema)
        if self.options.csv_zip:
            names = [e.file for e in entries] + [SCHEMA_NAME, MANIFEST_NAME]
            packed = zip_package(self.csv_dir, names)
            self.emit(LogMessage(f"The export was also packed into {packed}."))

    @property
    def citus_mode(self) -> bool:
        """The target has Citus: placements, and the Citus order."""
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
        if self.loaders <= 1 or len(ordered) <= 1:
            for n, tm in enumerate(ordered):
                if self.cancel.cancelled:
                    self._not_started(reports[tm.source])
                    continue
                try:
                    self._table_with_retries(tm, reports[tm.source])
                except SnapshotLost:
                    for later in ordered[n + 1 :]:
                        self._not_started(reports[later.source], "the source's snapshot was lost")
                    raise
        else:
            self._parallel(ordered, reports)

    def _parallel(self, ordered: list[TableMapping], reports: dict[str, TableReport]) -> None:
        """Several tables at once; a child starts only after its parents have finished.

        ``self.loaders`` caps how many tables load at once, each over its own source and
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
            }
            for tm in ordered
        }
        pending = list(ordered)
        finished: set[str] = set()
        running: dict[Future, str] = {}
        lost: SnapshotLost | None = None
        with ThreadPoolExecutor(self.loaders, thread_name_prefix="coursemig-loader") as pool:
            while pending or running:
                if self.cancel.cancelled:
                    for tm in pending:
                        self._not_started(reports[tm.source])
                    pending = []
                ready = [tm for tm in pending if parents[tm.source] <= finished]
                for tm in ready:
                    if len(running) >= self.loaders:
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
                    try:
                        future.result()
                    except SnapshotLost as exc:  # no later table can start: let the others end
                        lost = exc
                        for tm in pending:
                            self._not_started(reports[tm.source], "the source's snapshot was lost")
                        pending = []
        if lost is not None:
            raise lost

    def _not_started(self, report: TableReport, why: str = "the migration was stopped") -> None:
        report.status = Phase.NOT_STARTED
        report.message = f"Not started: {why}."
        self.emit(
            TableProgress(report.source, report.target, report.status, message=report.message)
        )

    def _estimate(self, tm: TableMapping) -> int:
        table = self.catalog.table(tm.source) if self.catalog else None
        return table.row_estimate if table else 0

    def _table_with_retries(self, tm: TableMapping, report: TableReport) -> None:
        run_table(self, tm, report)

    def _target_session(self) -> psycopg.Connection:
        """A target session for one table: an idle one (the probe's, a finished table's), else
        a new one; ``_target_sessions.give_back`` it when the table is done."""
        return self._target_sessions.take()

    def _forget_idle_sessions(self) -> None:
        self._source_sessions.close()
        self._target_sessions.close()

    def _open_target(self) -> psycopg.Connection:
        if not self.target:
            raise FriendlyError("Connect to the target database first.", "no target")
        return open_session(self.target)

    def close(self) -> None:
        if self.rehearsal is not None:
            self.report.notes += self.rehearsal.end()
        if self._snapshot_conn is not None:
            self._snapshot_conn.close()
        self._source_sessions.close()
        self._target_sessions.close()
        if self.rejects is not None:
            self.rejects.close()
