"""One table, inside its own target transaction: open the connections, prepare the target,
load it from the source (an export is ``table_export.py``, an import ``table_import.py``),
verify and finish."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import count_rows, table_exists
from coursemig_gui.core.content_checksum import RowsChecksum
from coursemig_gui.core.csvfiles import csv_file_name
from coursemig_gui.core.engine.commit_point import TableTransaction
from coursemig_gui.core.engine.likely_refused import read_first
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.server_checksum import may_decide, server_check, sums_before
from coursemig_gui.core.engine.session import open_session, pin_session
from coursemig_gui.core.engine.source_sum import SourceSumDuringLoad, worth_a_second_session
from coursemig_gui.core.engine.table_export import TableExport
from coursemig_gui.core.engine.table_import import TableImport
from coursemig_gui.core.engine.table_outcome import SessionNotOpened, SnapshotLost
from coursemig_gui.core.engine.target_tables import (
    TargetTables,
    refuse_lossy,
    table_setup,
)
from coursemig_gui.core.engine.verify import say_computed, verify_loaded
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import (
    LogMessage,
    Phase,
    ProgressThrottle,
    RejectedRow,
    TableProgress,
)
from coursemig_gui.core.export_package import package_entry
from coursemig_gui.core.generated_columns import computed_by_target, loaded_columns
from coursemig_gui.core.mapping import IfExists, TableMapping
from coursemig_gui.core.options import OnError
from coursemig_gui.core.report import TableReport, Verification
from coursemig_gui.core.transfer import DatabaseRows, LoadPolicy, LoadResult, TableLoader


class TableLoad(TargetTables, TableExport, TableImport):
    """Mixed into the run: loading one table."""

    # -- one table -----------------------------------------------------------------------------

    def _open_source(self) -> psycopg.Connection:
        conn = None
        try:
            conn = open_session(self.source)
            with conn.pipeline():  # one round trip, with the settings below
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                conn.execute(
                    sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(self.snapshot))
                )
                pin_session(conn)
        except (psycopg.Error, FriendlyError) as exc:
            if conn is not None:
                conn.close()
            if self._snapshot_alive():
                raise
            raise SnapshotLost(
                "The source database restarted (or the connection that held its snapshot broke) "
                "during the run, so the tables not yet copied could no longer be read as of the "
                "same moment as those already copied, and were not started. To finish the job, "
                "run the same migration again, choosing 'Skip' (--if-exists skip) for the tables "
                "already copied.",
                str(exc),
            ) from exc
        return conn

    def _snapshot_alive(self) -> bool:
        conn = self._snapshot_conn
        if conn is None or conn.closed or conn.broken:
            return False
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _table(self, tm: TableMapping, report: TableReport, started: float) -> None:
        for pending in (
            self._pending_keys,
            self._pending_fks,
            self._set_aside,
            self._pending_indexes,
        ):
            pending.pop(tm.target, None)  # left over from an attempt that was rolled back
        report.rows_read = report.rows_written = report.rows_rejected = 0
        report.status = Phase.WAITING
        report.message = report.detail = ""
        src = tgt = None
        try:
            try:
                src = self._source_sessions.take() if self.reads_database else None
                if self.writes_database:
                    # a test run keeps its one connection (and transaction) open to the end
                    tgt = self.rehearsal.connection if self.rehearsal else self._target_session()
            except SnapshotLost:
                raise
            except FriendlyError as exc:
                raise SessionNotOpened(exc) from exc
            for conn in (src, tgt):
                if conn is not None:
                    self.cancel.watch(conn)
            self.cancel.check()
            if self.options.route == Route.EXPORT:
                self._export(tm, report, src, started)
            elif self.options.route == Route.IMPORT:
                self._import(tm, report, tgt, started)
            else:
                self._direct(tm, report, src, tgt, started)
        finally:
            # whole and in their state: the next table's, saving a handshake and, on the
            # source, joining the snapshot again
            if tgt is not None:
                self.cancel.unwatch(tgt)
                if not self.rehearsal:
                    self._target_sessions.give_back(tgt)
            if src is not None:
                self.cancel.unwatch(src)
                self._source_sessions.give_back(src)

    def _progress(
        self, tm: TableMapping, report: TableReport, phase: Phase, started: float, total: int
    ) -> callable:
        throttle = ProgressThrottle(0.2)

        def update(result: LoadResult) -> None:
            report.rows_read, report.rows_written = result.rows_read, result.rows_written
            report.rows_rejected = result.rows_rejected
            if throttle.due():
                self.emit(
                    TableProgress(
                        tm.source,
                        tm.target,
                        phase,
                        result.rows_read,
                        max(total, result.rows_read),
                        result.bytes_read,
                        result.rows_rejected,
                        time.monotonic() - started,
                    )
                )

        return update

    def _policy(self) -> LoadPolicy:
        return LoadPolicy(
            stop_on_error=self.options.on_error == OnError.STOP,
            max_rejects=self.options.max_rejects if self.options.on_error == OnError.SKIP else 0,
            max_reject_percent=self.options.max_reject_percent,
        )

    def _on_reject(self, row: RejectedRow) -> None:
        self.emit(row)

    def _direct(self, tm: TableMapping, report: TableReport, src, tgt, started: float) -> None:
        table = self.catalog.table(tm.source)
        schema = self.options.target_schema
        target = sql.Identifier(schema, tm.target)
        keep_csv = self.options.route == Route.DIRECT_KEEP_CSV
        before = 0
        if (
            tm.if_exists == IfExists.SKIP
            and tm.target not in self._made
            and table_exists(tgt, tm.target, schema)
        ):
            self._skipped(tm, report)
            return
        stream = source_sum = None
        tx = self._table_transaction(tgt, tm, report)
        try:
            with tx:
                created, existing, made = self._prepare_target(
                    tm, tgt, table, report, exists=tx.first_row is not None
                )
                # the target computes its generated columns: they are neither read nor loaded,
                # and the checks below compare the columns loaded (``loaded``)
                columns = loaded_columns(made, table, existing)
                loaded = replace(made, columns=columns)
                computed = computed_by_target(made, columns)
                source_types = [table.column(cm.source).type for cm in columns]
                target_types = (
                    [existing[cm.target].type for cm in columns]
                    if existing is not None
                    else [cm.target_type for cm in columns]
                )
                if existing is not None:
                    refuse_lossy(
                        tm.target, [cm.target for cm in columns], source_types, target_types
                    )
                same_types = source_types == target_types
                # Binary is about 1.4x faster, but only safe when the server need not convert.
                fmt = "binary" if (self.options.binary and same_types and not keep_csv) else "csv"
                type_oids = [table.column(cm.source).type_oid for cm in columns]
                check = server_check(
                    self.options, loaded, fmt, source_types, target_types, type_oids
                )
                if existing is not None and tm.if_exists == IfExists.APPEND:
                    before = check.rows_before = count_rows(tgt, tm.target, schema)
                    if before and self.options.verify:  # hashed now, taken off the sum later
                        check.before = sums_before(tgt, target, check.target_values)
                self._set_aside_indexes(tgt, made, table, existing, before, same_types)
                read_from = sql.Identifier(self.options.source_schema, tm.source)
                if (
                    self.options.verify
                    and may_decide(check, src, tgt)
                    and worth_a_second_session(table)
                ):
                    source_sum = SourceSumDuringLoad(self._source_sessions, check, self.cancel)
                # copying starts with reading the rows named first, which takes a read of the table
                self.emit(TableProgress(tm.source, tm.target, Phase.COPYING, 0, table.row_estimate))
                leaving_out, first = None, []
                if not keep_csv:  # the kept CSV file is the table in its own order
                    leaving_out, first = read_first(
                        src,
                        tgt,
                        read_from,
                        schema,
                        loaded,
                        table,
                        existing,
                        target_types,
                        before,
                        fmt,
                    )
                stream = DatabaseRows(
                    src,
                    read_from,
                    [cm.source for cm in columns],
                    fmt,
                    self.options.batch_rows,
                    self.options.batch_bytes,
                    tee=(self.csv_dir / csv_file_name(tm.source)) if keep_csv else None,
                    leaving_out=leaving_out,
                )
                loader = TableLoader(
                    tgt,
                    target,
                    [cm.target for cm in columns],
                    fmt,
                    table_name=tm.source,
                    target_name=tm.target,
                    header=stream.csv_header(),
                    policy=self._policy(),
                    rejects=self.rejects,
                    on_reject=self._on_reject,
                    cancel=self.cancel,
                    source_type_oids=type_oids,
                    text_type_oids=frozenset(
                        col.enum.oid
                        for cm in columns
                        if (col := table.column(cm.source)) is not None and col.enum is not None
                    ),
                )
                kept = RowsChecksum()  # the kept file's, for the package's manifest
                result = loader.load(
                    kept.through(stream.batches()) if keep_csv else stream.batches(),
                    self._progress(tm, report, Phase.COPYING, started, table.row_estimate),
                    likely_refused=first,
                )
                stream.close()  # the reader thread is done before anything else happens
                self.cancel.check()
                if not self.citus_mode:  # on Citus, after the foreign keys (_after_loads)
                    self._after_the_load(tgt, made, table, existing is not None)
                # a replace's set-aside keys come back in its own transaction, on Citus too:
                # later they could no longer refuse the replace (found on a real cluster)
                self._checks_and_referring_keys(tgt, made, table, created)
            # committed: from here on the table is never loaded again
            report.rows_read, report.rows_written = result.rows_read, result.rows_written
            report.rows_rejected = result.rows_rejected
            if keep_csv:
                report.csv_file = str(self.csv_dir / csv_file_name(tm.source))
                self._exported[tm.source] = package_entry(
                    table,
                    [cm.source for cm in columns],
                    Path(report.csv_file),
                    kept.rows,
                    kept.value,
                    [cm.source for cm in made.included_columns if cm.target in computed],
                )
            if result.rows_rejected:
                report.reject_file = str(self.rejects.reject_file(tm.target))
            if self.options.verify:
                self.emit(
                    TableProgress(
                        tm.source,
                        tm.target,
                        Phase.VERIFYING,
                        result.rows_read,
                        result.rows_read,
                        result.bytes_read,
                        result.rows_rejected,
                        time.monotonic() - started,
                    )
                )
                self.cancel.check()
                verify_loaded(
                    src,
                    tx.connection,
                    check,
                    loaded,
                    report,
                    result,
                    source_types,
                    target_types,
                    self.cancel,
                    source_sum.result() if source_sum is not None else None,
                )
                say_computed(report, computed)
        finally:
            if stream is not None:
                stream.close()  # on every path, before its connection closes
            if source_sum is not None:
                source_sum.close()
            if tx.replacement is not None:
                self.cancel.unwatch(tx.replacement)
            tx.close()
        self._finish(tm, report, started)

    def _table_transaction(self, tgt, tm: TableMapping, report: TableReport) -> TableTransaction:
        def resolved(status: str) -> None:
            said = (
                "it was committed, so it is not copied again"
                if status == "committed"
                else ("it was not committed")
            )
            self.emit(
                LogMessage(
                    f"The connection to the target broke during the COMMIT of "
                    f"{tm.target}; the target says {said}.",
                    "warning",
                )
            )

        def reopen():
            conn = open_session(self.target)
            self.cancel.watch(conn)
            return conn

        schema = self.options.target_schema
        return TableTransaction(
            tgt, report, reopen, resolved, lambda conn: table_setup(conn, tm.target, schema)
        )

    def _skipped(self, tm: TableMapping, report: TableReport) -> None:
        report.status = Phase.SKIPPED
        report.message = f"{tm.target} already exists and was skipped, as chosen."
        self.emit(TableProgress(tm.source, tm.target, Phase.SKIPPED, message=report.message))

    def _finish(self, tm: TableMapping, report: TableReport, started: float) -> None:
        report.seconds = time.monotonic() - started
        report.status = Phase.DONE_WITH_REJECTS if report.rows_rejected else Phase.DONE
        if report.verification == Verification.MISMATCH:
            report.message = (
                f"Copied, but the check found a difference: {report.verification_detail}."
            )
        elif report.rows_rejected and not report.rows_written:
            report.message = (
                f"None of its rows could be copied: all {report.rows_rejected} were refused "
                f"(in an append, often because they are all there already); they are in "
                f"{report.reject_file}."
            )
        elif report.rows_rejected:
            report.message = (
                f"{report.rows_rejected} rows could not be copied; they are in "
                f"{report.reject_file}."
            )
        self.emit(
            TableProgress(
                tm.source,
                tm.target,
                report.status,
                report.rows_read,
                report.rows_read,
                0,
                report.rows_rejected,
                report.seconds,
                report.message,
            )
        )
