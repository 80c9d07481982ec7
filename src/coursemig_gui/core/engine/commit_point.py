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

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.explain import explain_error

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
        setup: Callable[[psycopg.Connection], None] = lambda conn: None,
    ) -> None:
        self.setup = setup  # run first inside the transaction (session settings)
        self.conn = conn
        self.report = report
        self.reopen = reopen
        self.on_resolved = on_resolved
        self.xid: str | None = None
        self.replacement: psycopg.Connection | None = None
        self._tx = conn.transaction()

    def __enter__(self) -> TableTransaction:
        self._tx.__enter__()
        # the settings and the id in one round trip (pipelined); not BEGIN too: a psycopg
        # transaction entered in a pipeline keeps the connection in it to its end, and COPY
        # cannot run in one
        with self.conn.pipeline():
            self.setup(self.conn)
            xid = current_xact_id(self.conn)
        self.xid = str(xid.fetchone()[0])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc_type is not None:
            try:
                self._tx.__exit__(exc_type, exc, tb)  # ROLLBACK
            except psycopg.Error:
                pass  # a dead connection: the server rolls the transaction back by itself
            return False
        try:
            self._tx.__exit__(None, None, None)  # COMMIT
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
            "in the target before running it again: if it holds the rows, choose 'Skip' for it; "
            "if not, run it again.",
            f"transaction {self.xid}: {status or 'no answer'}\n{friendly.detail}",
        ) from error
