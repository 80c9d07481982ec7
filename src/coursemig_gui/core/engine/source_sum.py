"""The source's side of the servers' check, computed while the table loads: a second source
connection in the same snapshot sums the rows as the target receives them, so after the load
only the target's side remains to wait for."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg

from coursemig_gui.core.catalog import Table
from coursemig_gui.core.engine.idle_sessions import IdleSessions
from coursemig_gui.core.engine.server_checksum import ServerCheck, Sums, server_checksum
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import CancelToken


class SourceSumDuringLoad:
    """Started before the load; ``result()`` is the source's ``Sums``, or None when it could
    not be had this way (no second connection, no hash function), and the caller sums on its
    own connection instead."""

    def __init__(self, sessions: IdleSessions, check: ServerCheck, cancel: CancelToken) -> None:
        self._sessions = sessions
        self._check = check
        self._cancel = cancel
        self._conn: psycopg.Connection | None = None  # while it sums; then the next table's
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="verify-source")
        self._future = self._pool.submit(self._sum)

    def _sum(self) -> Sums | None:
        try:
            conn = self._sessions.take()
        except (psycopg.Error, FriendlyError):
            return None
        with self._lock:
            self._conn = conn
        self._cancel.watch(conn)
        try:
            return server_checksum(conn, self._check.source, self._check.source_values)
        except (psycopg.DataError, psycopg.ProgrammingError, psycopg.OperationalError):
            return None
        finally:
            with self._lock:  # after this, close() can no longer cancel it
                self._conn = None
            self._cancel.unwatch(conn)
            self._sessions.give_back(conn)  # still in the snapshot: the next table's

    def result(self) -> Sums | None:
        """The sum; a Stop while waiting for it (its query cancelled) is raised as a Stop,
        not taken for a server that cannot sum."""
        sums = self._future.result()
        self._cancel.check()
        return sums

    def close(self) -> None:
        """Stop a sum still running (a load that failed or was stopped) and wait for it. Under
        the lock: once the session is handed on, another table's query must not be cancelled."""
        with self._lock:
            conn = self._conn
            if conn is not None and not conn.closed:
                try:
                    conn.cancel_safe(timeout=2.0)
                except Exception:  # noqa: BLE001 - a broken connection ends the query anyway
                    pass
        self._pool.shutdown(wait=True)


# Below this many rows (by the source's estimate) the source sums a table after its load, on
# the table's own session, beside the target's sum: a second session, which would let it sum
# during the load, costs more than the sum (about 6 ms per 10,000 course rows).
SUM_DURING_LOAD_FROM = 50_000


def worth_a_second_session(table: Table) -> bool:
    """Whether the source's sum of ``table`` should run during its load, on a second session:
    not for a table the source knows to be small."""
    return not (table.row_estimate_known and table.row_estimate < SUM_DURING_LOAD_FROM)
