"""One side of a comparison: (key..., hash) rows fetched on a thread of their own."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

import psycopg
from psycopg import sql


class HashStream:
    """One side's (key..., hash) rows, fetched on a thread of its own through a server-side
    cursor, so both servers hash and sort at the same time and the client merges while they
    send. A bounded queue keeps memory flat whatever the table's size."""

    BATCH = 10_000

    def __init__(self, conn: psycopg.Connection, query: sql.Composed, multiset: bool) -> None:
        self.conn = conn
        self.query = query
        self.multiset = multiset
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="coursemig-compare", daemon=True)

    def start(self) -> HashStream:
        self._thread.start()
        return self

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            with self.conn.cursor(name="coursemig_compare") as cur:
                cur.execute(self.query)
                while True:
                    rows = cur.fetchmany(self.BATCH)
                    if not rows:
                        break
                    if self.multiset:
                        rows = [(r[0], r[0]) for r in rows]  # the hash is the key
                    if not self._put(rows):
                        return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the merging thread
            self._put(exc)

    def rows(self) -> Iterator[tuple]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item

    def close(self) -> None:
        """Stop early (a cancel, keys out of order): interrupt the server, end the thread."""
        if not self._thread.is_alive():
            return
        self._stop.set()
        with contextlib.suppress(Exception):
            self.conn.cancel_safe(timeout=2.0)
        self._thread.join()


_END = object()
