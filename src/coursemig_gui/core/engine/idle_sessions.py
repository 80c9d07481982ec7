"""The run's idle sessions on one side, handed from one table to the next instead of opening a
new one: each new session costs a TLS and SCRAM handshake, several round trips to a cloud
server, and on the source a few more to join the run's snapshot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import pq

# A session idle for longer is closed, not reused: a network in between may have dropped it
# without a word (Azure's load balancers forget an idle TCP connection after 4 minutes), and the
# next table would hang on it instead of starting.
KEEP_IDLE_SECONDS = 60.0


class IdleSessions:
    """Thread-safe: tables loading at once each take their own session.

    ``state``: the transaction state a session is handed on in. A target session must be
    outside any transaction (IDLE), so nothing of one table's transaction reaches the next; a
    source session stays inside the run's read-only snapshot transaction (INTRANS), so the next
    table is read as of the same moment."""

    def __init__(self, open_new: Callable[[], psycopg.Connection], state: pq.TransactionStatus):
        self._open_new = open_new
        self._state = state
        self._idle: list[tuple[float, psycopg.Connection]] = []
        self._lock = threading.Lock()

    def take(self) -> psycopg.Connection:
        """An idle session still fit to use, else a new one."""
        while True:
            with self._lock:
                since, conn = self._idle.pop() if self._idle else (0.0, None)
            if conn is None:
                return self._open_new()
            if self._fit(conn) and time.monotonic() - since <= KEEP_IDLE_SECONDS:
                return conn
            conn.close()

    def give_back(self, conn: psycopg.Connection) -> None:
        """A session a table is done with: kept when it is whole and in the state it is handed
        on in (not in a failed transaction, not in the middle of a COPY), else closed."""
        if self._fit(conn):
            with self._lock:
                self._idle.append((time.monotonic(), conn))
        else:
            conn.close()

    @contextmanager
    def borrowed(self) -> Iterator[psycopg.Connection]:
        conn = self.take()
        try:
            yield conn
        finally:
            self.give_back(conn)

    def close(self) -> None:
        """Close the idle sessions (the pool stays usable: ``take`` opens new ones)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for _, conn in idle:
            conn.close()

    def _fit(self, conn: psycopg.Connection) -> bool:
        return not conn.closed and not conn.broken and conn.info.transaction_status == self._state
