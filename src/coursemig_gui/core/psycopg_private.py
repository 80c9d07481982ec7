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

from array import array

import psycopg
from psycopg.generators import _fetch_many
from psycopg.pq import ExecStatus
from psycopg.waiting import Wait


def copy_out_into(
    conn: psycopg.Connection, buf: bytearray, ends: array, most_rows: int, most_bytes: int
) -> bool:
    """Append COPY OUT rows to ``buf`` (each row's end offset to ``ends``) until it holds
    ``most_rows`` rows or ``most_bytes`` bytes, or the data ends; returns whether it ended.
    Raises the COPY's error when it ends with one."""
    return conn.wait(_copy_out_into(conn.pgconn, buf, ends, most_rows, most_bytes))


def _copy_out_into(pgconn, buf: bytearray, ends: array, most_rows: int, most_bytes: int):
    """A psycopg wait-generator for ``copy_out_into``. A row costs an append to the buffer and
    one to the offsets, no object of its own; it waits only when libpq holds no row."""
    get = pgconn.get_copy_data
    mark = ends.append
    while True:
        nbytes, data = get(1)
        if nbytes > 0:
            buf += data
            mark(len(buf))
            if len(ends) >= most_rows or len(buf) >= most_bytes:
                return False
            continue
        if nbytes == 0:
            while not (yield Wait.R):
                continue
            pgconn.consume_input()
            continue
        # -1: the data has ended; the statement's result follows
        results = yield from _fetch_many(pgconn)
        bad = [r for r in results if r.status != ExecStatus.COMMAND_OK]
        if bad:
            raise psycopg.errors.error_from_result(bad[0], encoding=pgconn._encoding)
        return True
