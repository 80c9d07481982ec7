"""The one place that decides how a table's run ends, and says so.

Before its COMMIT a table may be tried again from the start (a dropped connection, a failover):
its transaction is gone, so a second try cannot write a row twice. After COMMIT
(``report.committed``) nothing loads it again: a failure from then on, Stop included, leaves it
"copied, not verified", with a sentence saying the rows are in the target. Whatever is raised
inside one table fails that table with a sentence; it never ends the run.
"""

from __future__ import annotations

import re
import time
import traceback
from typing import Protocol

import psycopg

from coursemig_gui.core.catalog import Catalog
from coursemig_gui.core.engine.commit_point import CommitNotMade, CommitUnresolved
from coursemig_gui.core.engine.target_indexes import RowsBreakIndex
from coursemig_gui.core.engine.target_tables import _DeferredCheckFailed
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import (
    Cancelled,
    CancelToken,
    LogMessage,
    Phase,
    TableProgress,
    TableRestarted,
)
from coursemig_gui.core.explain import explain_error
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.rejects import RejectLog
from coursemig_gui.core.report import MigrationReport, TableReport, Verification
from coursemig_gui.core.transfer import TableFailed


class SessionNotOpened(FriendlyError):
    """A session a table starts on could not be opened: nothing of the table was written, so
    it may be tried again, if the server was only away for a moment (``passing``: restarting,
    a dropped link), not refusing (a wrong password)."""

    def __init__(self, error: FriendlyError) -> None:
        super().__init__(error.message, error.detail)
        cause = error.__cause__
        state = getattr(cause, "sqlstate", None) or ""
        # connection exceptions (08), the server starting or shutting down (57P), or no
        # answer at all (no SQLSTATE: refused, reset)
        self.passing = isinstance(cause, psycopg.OperationalError) and (
            not state or state.startswith(("08", "57P"))
        )


class SnapshotLost(FriendlyError):
    """The source's shared snapshot is gone (the source restarted, or the connection that
    held it broke): no further table can be read consistently with the ones already copied."""


class TableRun(Protocol):
    """What the run offers the outcome keeper."""

    options: MigrationOptions
    cancel: CancelToken
    mappings: list[TableMapping]
    report: MigrationReport
    catalog: Catalog | None
    rejects: RejectLog | None
    writes_database: bool
    _checks_during_load: set[str]

    def emit(self, event) -> None: ...

    def _table(self, tm: TableMapping, report: TableReport, started: float) -> None: ...

    def _forget_idle_sessions(self) -> None: ...


def run_table(run: TableRun, tm: TableMapping, report: TableReport) -> None:
    """Load one table, trying again from the start where that is safe; never raises, except
    ``SnapshotLost`` (which ends the whole run) and what is not an ``Exception``."""
    attempts = max(1, run.options.retries + 1) if run.writes_database else 1
    report.committed = False
    for attempt in range(1, attempts + 1):
        started = time.monotonic()
        if attempt > 1 and run.rejects is not None:
            run.rejects.discard(tm.target)  # the table starts again: so do its bad rows
        try:
            _load_once(run, tm, report, started)
            if attempt > 1:
                run.emit(
                    LogMessage(
                        f"{tm.target} was copied on try {attempt} of {attempts}, "
                        "from the start, so each row is in it once."
                    )
                )
            return
        except SnapshotLost as exc:
            report.status, report.rows_written = Phase.FAILED, 0
            report.message, report.detail = exc.message, exc.detail
            run.emit(TableProgress(tm.source, tm.target, report.status, message=report.message))
            raise
        except Exception as exc:  # noqa: BLE001 - every failure ends as this table's status
            retry = _settle(run, tm, report, exc, attempt, attempts)
        if retry:
            # the fault that broke this table's session (a restart, a failover) broke the idle
            # ones too, unseen until used: the next try starts on new ones
            run._forget_idle_sessions()
            run.emit(TableRestarted(tm.source, tm.target))
        else:
            report.seconds = time.monotonic() - started
            if run.rejects is not None and run.rejects.logged(tm.target) and not report.committed:
                # rolled back, but the rows it refused are listed: say where
                report.reject_file = str(run.rejects.reject_file(tm.target))
            run.emit(
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
            return
        time.sleep(min(2.0 * attempt, 5.0))


def _load_once(run: TableRun, tm: TableMapping, report: TableReport, started: float) -> None:
    try:
        run._table(tm, report, started)
    except (_DeferredCheckFailed, RowsBreakIndex) as exc:
        # Keys or foreign keys checked after the load found a bad row (the transaction was
        # rolled back): load the table again with the checks in place, so each bad row is
        # isolated and logged instead of failing the whole table.
        run._checks_during_load.add(tm.target)
        if run.rejects is not None:
            run.rejects.discard(tm.target)
        run.emit(TableRestarted(tm.source, tm.target))
        run.emit(
            LogMessage(
                f"{exc.message} Loading {tm.target} again, checking each row, to find them.",
                "warning",
                exc.detail,
            )
        )
        run._table(tm, report, time.monotonic())


def _connection_lost(exc: Exception) -> bool:
    """A dropped connection: the client's own, or one between Citus's coordinator and a worker
    (a worker restarting), which reaches the client as the statement's error: SQLSTATE 08…, or
    XX000 naming the connection."""
    if isinstance(exc, psycopg.OperationalError):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    state, text = exc.sqlstate or "", str(exc)
    return state.startswith("08") or (
        state == "XX000" and ("connection marked as essential" in text or "remote node" in text)
    )


def _settle(
    run: TableRun,
    tm: TableMapping,
    report: TableReport,
    exc: Exception,
    attempt: int,
    attempts: int,
) -> bool:
    """Set the table's status and sentence for ``exc``; True when it is to be tried again."""
    t = tm.target
    if report.committed:
        _not_verified(run, report, exc)
        return False
    report.rows_written = 0
    report.connection_lost = False
    report.verification, report.verification_detail = Verification.NOT_RUN, ""
    stopped = run.cancel.cancelled and isinstance(exc, Cancelled | psycopg.Error)
    if isinstance(exc, Cancelled) or stopped:
        # a Stop that interrupted a statement raises the server's "canceled": still a Stop
        report.status = Phase.ROLLED_BACK
        report.message = f"Stopped: {t} was rolled back and is as it was before."
        report.detail = ""
        return False
    report.status = Phase.FAILED
    if isinstance(exc, CommitUnresolved):
        report.status = Phase.COMMIT_UNKNOWN
        report.message, report.detail = exc.message, exc.detail
        return False
    if isinstance(exc, CommitNotMade):
        friendly = explain_error(exc.cause)
        report.detail = friendly.detail
        if attempt < attempts:
            run.emit(
                LogMessage(
                    f"The connection to the target broke during the COMMIT of {t}; "
                    "the target says it was not committed, so it is copied again "
                    f"from the start (try {attempt + 1} of {attempts}).",
                    "warning",
                    friendly.detail,
                )
            )
            return True
        report.message = (
            f"{t} could not be finished: the connection broke while it was being "
            "committed, and the target says it was not. It is as it was before."
        )
        return False
    if isinstance(exc, SessionNotOpened):
        report.message = f"{t} was not started: {exc.message}"
        report.detail = exc.detail
        if attempt < attempts and exc.passing:
            run.emit(
                LogMessage(
                    f"{t} could not start ({exc.message}); trying again "
                    f"(try {attempt + 1} of {attempts}).",
                    "warning",
                    exc.detail,
                )
            )
            return True
        return False
    if isinstance(exc, FriendlyError):  # TableFailed included: its sentence says it all
        report.message, report.detail = exc.message, exc.detail
        if isinstance(exc, TableFailed) and exc.result is not None:  # the last progress lags
            report.rows_read, report.rows_rejected = exc.result.rows_read, exc.result.rows_rejected
        return False
    if _connection_lost(exc):
        # A dropped connection, a failover, a restart before COMMIT: the table's transaction
        # is gone with it, so starting the table again cannot write a row twice.
        report.connection_lost = True
        friendly = explain_error(exc)
        report.message = (
            f"{t} could not be finished: {friendly.message} It was rolled back "
            "and is as it was before."
        )
        report.detail = friendly.detail
        # A statement timeout (QueryCanceled) would only strike again: no retry.
        if attempt < attempts and not isinstance(exc, psycopg.errors.QueryCanceled):
            run.emit(
                LogMessage(
                    f"The connection was lost while copying {t}; starting it "
                    f"again (try {attempt + 1} of {attempts}).",
                    "warning",
                    friendly.detail,
                )
            )
            return True
        return False
    if isinstance(exc, psycopg.Error):
        friendly = explain_error(exc)
        parent = _parent_not_copied(run, tm, exc)
        if parent is not None:
            report.message = parent_not_copied_sentence(t, parent)
            report.detail = friendly.detail
            return False
        report.message = f"{t} could not be copied and was left as it was. {friendly.message}"
        report.detail = friendly.detail
        return False
    if isinstance(exc, OSError):  # a CSV file or folder on this computer
        where = f" {exc.filename}" if exc.filename else ""
        report.message = (
            f"{t} could not be copied: the file{where} could not be written or "
            f"read ({exc.strerror or exc}). Check the folder, and that the disk "
            "has room, then run it again."
        )
        report.detail = str(exc)
        return False
    if isinstance(exc, ValueError):  # a value from the profile CourseMig cannot use
        report.message = f"{t} could not be copied and was left as it was: {_sentence(exc)}"
        report.detail = "".join(traceback.format_exception(exc))
        return False
    report.message = (
        f"{t} could not be copied because of a problem inside CourseMig, and was "
        "left as it was. The other tables were not affected. Please send the "
        "details to CourseMig's makers."
    )
    report.detail = "".join(traceback.format_exception(exc))
    return False


def parent_not_copied_sentence(table: str, parent: str) -> str:
    """Why ``table`` was not copied: its parent ``parent`` of this run is not in the target."""
    return (
        f"{table} could not be copied and was left as it was: its parent table {parent} "
        f"was not copied, so {table}'s foreign key to it could not be made. Copy {parent} "
        f"first (its own line says why it was not), then {table}."
    )


_MISSING_RELATION = re.compile(r'relation "(?:[^"]*\.)?([^".]+)" does not exist')


def _parent_not_copied(run: TableRun, tm: TableMapping, exc: psycopg.Error) -> str | None:
    """The target name of a table of this run that ``tm`` refers to and that is not in the
    target because this run did not copy it (it failed, was stopped or not started), when
    ``exc`` is the server saying that table does not exist; else None."""
    if not isinstance(exc, psycopg.errors.UndefinedTable):
        return None
    found = _MISSING_RELATION.search(str(exc))
    if found is None or found.group(1) == tm.target:
        return None
    missing = found.group(1)
    parent = next((m for m in run.mappings if m.target == missing), None)
    table = run.catalog.table(tm.source) if run.catalog is not None else None
    if parent is None or table is None:
        return None
    if not any(fk.ref_table == parent.source for fk in table.foreign_keys):
        return None
    status = next((t.status for t in run.report.tables if t.source == parent.source), None)
    not_copied = (Phase.FAILED, Phase.ROLLED_BACK, Phase.NOT_STARTED, Phase.COMMIT_UNKNOWN)
    return missing if status in not_copied else None


def _not_verified(run: TableRun, report: TableReport, exc: BaseException) -> None:
    t = report.target
    if isinstance(exc, Cancelled) or run.cancel.cancelled:
        why = "you pressed Stop while it was being checked."
        detail = ""
    elif isinstance(exc, psycopg.Error | FriendlyError):
        friendly = exc if isinstance(exc, FriendlyError) else explain_error(exc)
        # what happened, without the advice to "try again": the table must not be copied again
        why, detail = _first_sentence(friendly.message), friendly.detail
    else:
        why = _sentence(exc)
        detail = "".join(traceback.format_exception(exc))
    report.status = Phase.COPIED_NOT_VERIFIED
    report.verification = Verification.NOT_RUN
    report.verification_detail = "not checked: " + why.rstrip(".")
    rows = f"Its {report.rows_written:,} rows" if report.rows_written else "Its rows"
    report.message = (
        f"{t} was copied and committed, but it could not be verified: {why} "
        f"{rows} are in the target: do not copy it again with 'Add rows' (--if-exists "
        "append). To check it, compare its row count with the source's, or run it again with "
        "'Replace all rows' (--if-exists replace)."
    )
    report.detail = detail


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if text.endswith(".") else text + "."
