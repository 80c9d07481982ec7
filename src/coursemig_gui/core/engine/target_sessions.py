"""The run's idle target sessions: the probe's, then each finished table's, handed to the next
table instead of opening a new one, since each new session costs a TLS and SCRAM handshake,
several round trips to a cloud server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import pq

from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.engine.session import open_session

# A session idle for longer is closed, not reused: a network in between may have dropped it
# without a word (Azure's load balancers forget an idle TCP connection after 4 minutes), and the
# next table would hang on it instead of starting.
KEEP_IDLE_SECONDS = 60.0


class TargetSessions:
    """Thread-safe: tables loading at once each take their own session."""

    def __init__(self, target: Endpoint) -> None:
        self._target = target
        self._idle: list[tuple[float, psycopg.Connection]] = []
        self._lock = threading.Lock()

    def take(self) -> psycopg.Connection:
        """An idle session still fit to use, else a new one."""
        while True:
            with self._lock:
                since, conn = self._idle.pop() if self._idle else (0.0, None)
            if conn is None:
                return open_session(self._target)
            if _fit(conn) and time.monotonic() - since <= KEEP_IDLE_SECONDS:
                return conn
            conn.close()

    def give_back(self, conn: psycopg.Connection) -> None:
        """A session a table is done with: kept when it is whole and outside any transaction
        (so nothing of that table can reach the next one), else closed."""
        if _fit(conn):
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
        with self._lock:
            idle, self._idle = self._idle, []
        for _, conn in idle:
            conn.close()


def _fit(conn: psycopg.Connection) -> bool:
    return (
        not conn.closed
        and not conn.broken
        and conn.info.transaction_status == pq.TransactionStatus.IDLE
    )
