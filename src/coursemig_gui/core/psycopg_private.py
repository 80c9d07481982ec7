"""PRIVATE PSYCOPG API: every use of psycopg internals is in this module, and nowhere else.

Reading COPY OUT through psycopg's own row iterator waits once per row; reading every row libpq
already holds per wait halves the client's CPU per row (measured), and that needs psycopg's
generator machinery, which is not public API:

- ``psycopg.generators._fetch_many`` (collects the results after the COPY data ends),
- ``PGconn._encoding`` (the connection's Python encoding, for the error text),
- ``Connection.wait`` and ``psycopg.waiting.Wait`` (run a generator on the connection),
- ``psycopg.errors.error_from_result`` (an error result as its exception class).

``tests/integration/test_psycopg_private.py`` checks each of them and runs the reader against a real
server, so a psycopg release that changes them fails there, loudly, not in a migration.
``pyproject.toml`` pins psycopg to the minor versions tested.
"""

from __future__ import annotations

import psycopg
from psycopg.generators import _fetch_many
from psycopg.pq import ExecStatus
from psycopg.waiting import Wait


def copy_out_rows(conn: psycopg.Connection, most: int) -> tuple[list[bytes], bool]:
    """The COPY OUT rows libpq holds now (at most ``most``, waiting only when it holds none),
    and whether the data has ended. Raises the COPY's error when it ends with one."""
    return conn.wait(_copy_out_rows(conn.pgconn, most))


def _copy_out_rows(pgconn, most: int):
    """A psycopg wait-generator: ``(rows, ended)`` with the COPY OUT rows libpq can give
    without blocking (at most ``most``). Raises the COPY's error when it ends with one."""
    rows: list[bytes] = []
    while True:
        nbytes, data = pgconn.get_copy_data(1)
        if nbytes > 0:
            rows.append(bytes(data))
            if len(rows) >= most:
                return rows, False
            continue
        if nbytes == 0:
            if rows:
                return rows, False
            while not (yield Wait.R):
                continue
            pgconn.consume_input()
            continue
        # -1: the data has ended; the statement's result follows
        results = yield from _fetch_many(pgconn)
        bad = [r for r in results if r.status != ExecStatus.COMMAND_OK]
        if bad:
            raise psycopg.errors.error_from_result(bad[0], encoding=pgconn._encoding)
        return rows, True
