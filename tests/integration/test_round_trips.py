"""The servers' sums go in one round trip (each costs tens of milliseconds to a cloud server, more
than a small table's query), counted in libpq's own trace of what the client sent; a failure
leaves the session where it was, inside or outside its transaction."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import pq, sql

from coursemig_gui.core.engine.session import open_session, pinned_query

SUM = sql.SQL("SELECT sum(g) FROM generate_series(1, 10) g")


def _syncs(conn, tmp_path, action) -> int:
    """How many times the client asked the server to answer (protocol Sync or simple Query)
    while ``action`` ran: each is one round trip."""
    trace = tmp_path / "trace.txt"
    with trace.open("w") as f:
        conn.pgconn.trace(f.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            action()
        finally:
            conn.pgconn.untrace()
    sent = [line.split("\t") for line in trace.read_text().splitlines()]
    return sum(1 for fields in sent if fields[0] == "F" and fields[2] in ("Sync", "Query"))


def test_a_sum_outside_a_transaction_is_one_round_trip(target_db, tmp_path):
    with open_session(target_db.endpoint) as conn:
        got = []
        assert _syncs(conn, tmp_path, lambda: got.append(pinned_query(conn, SUM).fetchone())) == 1
        assert got == [(55,)]
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE


def test_a_sum_inside_a_transaction_is_one_round_trip_and_keeps_it(target_db, tmp_path):
    with open_session(target_db.endpoint) as conn:
        conn.execute("BEGIN")
        conn.execute("CREATE TEMP TABLE kept (a int)")
        got = []
        assert _syncs(conn, tmp_path, lambda: got.append(pinned_query(conn, SUM).fetchone())) == 1
        assert got == [(55,)]
        assert conn.info.transaction_status == pq.TransactionStatus.INTRANS
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
        conn.execute("ROLLBACK")


@pytest.mark.parametrize("inside", [False, True], ids=["outside", "inside a transaction"])
def test_a_failed_sum_is_raised_and_the_session_is_where_it_was(target_db, inside):
    with open_session(target_db.endpoint) as conn:
        if inside:
            conn.execute("BEGIN")
            conn.execute("CREATE TEMP TABLE kept (a int)")
        with pytest.raises(psycopg.errors.DivisionByZero):
            pinned_query(conn, sql.SQL("SELECT 1 / 0"))
        if inside:
            assert conn.info.transaction_status == pq.TransactionStatus.INTRANS
            assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
            conn.execute("ROLLBACK")
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)
