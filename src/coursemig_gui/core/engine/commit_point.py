"""A table's target transaction, and its COMMIT as the point of no return.

Before COMMIT anything may go wrong and the table is as it was: it can be loaded again from the
start. After COMMIT its rows are in the target for good, and nothing may load it again. In
between lies one moment of doubt: the connection breaks while COMMIT is in flight. The
transaction's id is recorded inside the transaction, so after reconnecting the target can be
asked how it ended (``pg_xact_status``) instead of guessing. On Citus the coordinator's
transaction decides, and that is the one asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

import psycopg
from psycopg import pq, sql

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.explain import explain_error

_STEP = sql.Identifier("coursemig_table")
_SAVEPOINT = sql.SQL("SAVEPOINT {}").format(_STEP)
_RELEASE = sql.SQL("RELEASE SAVEPOINT {}").format(_STEP)
_UNDO_SAVEPOINT = [sql.SQL("ROLLBACK TO SAVEPOINT {}").format(_STEP), _RELEASE]

# How long to keep asking while the target still reports the transaction in progress (its
# backend has not noticed the broken connection yet) or cannot be reached (restarting).
RESOLVE_SECONDS = 30.0


class CommitNotMade(Exception):
    """The connection broke during COMMIT and the target says the transaction was aborted: the
    table is as it was before, and loading it again cannot write a row twice."""

    def __init__(self, table: str, cause: BaseException) -> None:
        super().__init__(f"{table}: the COMMIT did not happen ({cause})")
        self.table = table
        self.cause = cause


class CommitUnresolved(FriendlyError):
    """The connection broke during COMMIT and the target could not say how it ended."""


def current_xact_id(conn: psycopg.Connection) -> psycopg.Cursor:
    """The id of the transaction in progress (one is assigned now if it had none), as a
    cursor to fetch it from: in a pipeline, fetching at once would cost a round trip of its
    own."""
    function = "pg_current_xact_id" if conn.info.server_version >= 130000 else "txid_current"
    return conn.execute(f"SELECT {function}()::text")


def xact_status(conn: psycopg.Connection, xid: str) -> str | None:
    """'committed', 'aborted', 'in progress', or None when the target no longer knows."""
    if conn.info.server_version >= 130000:
        query = "SELECT pg_xact_status(%s::xid8)"
    else:
        query = "SELECT txid_status(%s::bigint)"
    return conn.execute(query, [xid]).fetchone()[0]


class TableTransaction:
    """``with TableTransaction(...) as tx:`` around everything a table writes.

    Leaving the block commits. When the connection breaks during that COMMIT, the outcome is
    resolved: committed (``report.committed`` is set, and ``tx.connection`` is a fresh session
    to verify with), aborted (raises ``CommitNotMade``), or unknown (raises
    ``CommitUnresolved``). ``report.committed`` is set once the rows are in for good, so whoever
    handles a later failure knows the table must not be loaded again.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        report,
        reopen: Callable[[], psycopg.Connection],
        on_resolved: Callable[[str], None] = lambda status: None,
        setup: Callable[[psycopg.Connection], psycopg.Cursor | None] = lambda conn: None,
    ) -> None:
        # run first inside the transaction, in its first round trip (session settings); the
        # first row of the cursor it returns, if any, is kept as ``first_row``
        self.setup = setup
        self.first_row: tuple | None = None
        self.conn = conn
        self.report = report
        self.reopen = reopen
        self.on_resolved = on_resolved
        self.xid: str | None = None
        self.replacement: psycopg.Connection | None = None
        # inside a test run's transaction, a savepoint of its own
        self._nested = conn.info.transaction_status == pq.TransactionStatus.INTRANS

    def __enter__(self) -> TableTransaction:
        # BEGIN, the setup and the id in one round trip (pipelined). Explicit statements, not
        # psycopg's conn.transaction(): entered in a pipeline, it keeps the connection in the
        # pipeline to its end, and COPY cannot run in one
        try:
            with self.conn.pipeline():
                self.conn.execute(_SAVEPOINT if self._nested else sql.SQL("BEGIN"))
                first = self.setup(self.conn)
                xid = current_xact_id(self.conn)
            self.xid = str(xid.fetchone()[0])
            self.first_row = first.fetchone() if first is not None else None
        except BaseException:
            self._roll_back()  # the block never runs, so __exit__ never does
            raise
        return self

    def _roll_back(self) -> None:
        if self.conn.closed or self.conn.broken:
            return  # the server rolls the transaction back by itself
        try:
            if self._nested:
                for step in _UNDO_SAVEPOINT:
                    self.conn.execute(step)
            elif self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")
        except psycopg.Error:
            pass  # a dead connection: the same

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc_type is not None:
            self._roll_back()
            return False
        if self._nested:  # a test run: its own transaction ends it, always rolled back
            self.conn.execute(_RELEASE)
            self.report.committed = True  # as far as the test run goes: never loaded again
            return False
        try:
            self.conn.execute("COMMIT")
        except psycopg.Error as error:
            if not (self.conn.broken or self.conn.closed):
                raise  # the server answered: the transaction was rolled back
            self._resolve(error)
        self.report.committed = True
        return False

    @property
    def connection(self) -> psycopg.Connection:
        """The connection to go on with after the block (a fresh one if the old one broke)."""
        return self.replacement or self.conn

    def close(self) -> None:
        if self.replacement is not None:
            self.replacement.close()
            self.replacement = None

    def _resolve(self, error: psycopg.Error) -> None:
        table = self.report.target
        status, asked = None, False
        deadline = time.monotonic() + RESOLVE_SECONDS
        while True:
            conn = None
            try:
                conn = self.reopen()
                status, asked = xact_status(conn, self.xid), True
            except (psycopg.Error, FriendlyError):
                status = None
            if status == "committed":
                self.replacement = conn
                self.on_resolved(status)
                return
            if conn is not None:
                conn.close()
            if status == "aborted":
                self.on_resolved(status)
                raise CommitNotMade(table, error) from error
            if (status is None and asked) or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        friendly = explain_error(error)
        said = f"says it is still {status}" if status else "could not be asked"
        raise CommitUnresolved(
            f"The connection to the target broke while {table} was being committed, and the "
            f"target {said}, so CourseMig cannot tell whether its rows went in. Look at {table} "
            "in the target before running it again: if it holds the rows, choose 'Skip' "
            "(--if-exists skip) for it; if not, run it again.",
            f"transaction {self.xid}: {status or 'no answer'}\n{friendly.detail}",
        ) from error
