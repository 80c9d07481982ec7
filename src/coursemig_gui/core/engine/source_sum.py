"""The source's side of the servers' check, computed while the table loads: a second source
connection in the same snapshot sums the rows as the target receives them, so after the load
only the target's side remains to wait for."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg

from coursemig_gui.core.engine.server_checksum import ServerCheck, Sums, server_checksum
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import CancelToken


class SourceSumDuringLoad:
    """Started before the load; ``result()`` is the source's ``Sums``, or None when it could
    not be had this way (no second connection, no hash function), and the caller sums on its
    own connection instead."""

    def __init__(
        self,
        open_source: Callable[[], psycopg.Connection],
        check: ServerCheck,
        cancel: CancelToken,
    ) -> None:
        self._open_source = open_source
        self._check = check
        self._cancel = cancel
        self._conn: psycopg.Connection | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="verify-source")
        self._future = self._pool.submit(self._sum)

    def _sum(self) -> Sums | None:
        try:
            conn = self._conn = self._open_source()
        except (psycopg.Error, FriendlyError):
            return None
        self._cancel.watch(conn)
        try:
            return server_checksum(conn, self._check.source, self._check.source_values)
        except (psycopg.DataError, psycopg.ProgrammingError, psycopg.OperationalError):
            return None
        finally:
            self._cancel.unwatch(conn)
            conn.close()

    def result(self) -> Sums | None:
        """The sum; a Stop while waiting for it (its query cancelled) is raised as a Stop,
        not taken for a server that cannot sum."""
        sums = self._future.result()
        self._cancel.check()
        return sums

    def close(self) -> None:
        """Stop a sum still running (a load that failed or was stopped) and wait for it."""
        conn = self._conn
        if not self._future.done() and conn is not None and not conn.closed:
            try:
                conn.cancel_safe(timeout=2.0)
            except Exception:  # noqa: BLE001 - a broken connection ends the query anyway
                pass
        self._pool.shutdown(wait=True)
