"""Tables load one after another over one target session and one source session (each new one
costs a TLS and SCRAM handshake, and on the source joining the snapshot again), counted by the
servers themselves; a session is handed on only when it is whole, in its state (the target's
outside any transaction, the source's inside the snapshot's) and not idle for long."""

from __future__ import annotations

import re
import time

import psycopg
from psycopg import pq, sql

from coursemig_gui.cli import main
from coursemig_gui.core.engine import idle_sessions
from coursemig_gui.core.engine.idle_sessions import IdleSessions
from coursemig_gui.core.engine.session import open_session

APP_TABLES = 9  # the fixture Django project's courses app


def _logins(run, *dbs) -> list[int]:
    """How many sessions each database's role opened on it while ``run`` ran, as the servers'
    own logs say (``log_connections``, on for the test's length only)."""
    starts = []
    for db in dbs:
        _log_connections(db, "on")
        starts.append(db.server.log_file.stat().st_size)
    try:
        run()
    finally:
        for db in dbs:
            _log_connections(db, None)
    counts = []
    for db, start in zip(dbs, starts, strict=True):
        with db.server.log_file.open("rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
        pattern = rf"connection authorized: user={db.user} database={db.dbname}\b"
        counts.append(len(re.findall(pattern, text)))
    return counts


def _log_connections(target_db, value: str | None) -> None:
    with target_db.admin_connect() as conn:
        if value is None:
            conn.execute("ALTER SYSTEM RESET log_connections")
        else:
            conn.execute(
                sql.SQL("ALTER SYSTEM SET log_connections = {}").format(sql.Literal(value))
            )
        conn.execute("SELECT pg_reload_conf()")
    wanted = value or "off"
    for _ in range(100):  # the postmaster reads the file again on its own time
        with target_db.admin_connect() as conn:
            if conn.execute("SHOW log_connections").fetchone()[0] == wanted:
                return
        time.sleep(0.05)
    raise AssertionError("the target server did not take log_connections")


def test_a_whole_app_loads_over_one_session_on_each_side(source_db, target_db, tmp_path):
    def run():
        code = main(["migrate", "--source", source_db.url, "--target", target_db.url,
                     "--app", "courses", "--rename-reserved", "-q", "--loaders", "1",
                     "--rejects-dir", str(tmp_path / "rejects")])  # fmt: skip
        assert code == 0

    source, target = _logins(run, source_db, target_db)
    # source: the catalog's and snapshot's, the tables' rows', and one summing beside the load
    # of the one table big enough for it (a small one sums after its load, on its own session)
    assert source <= 3
    # target: the load's one session, and one the foreign keys' and sequences' steps open
    assert target <= 2


def test_a_session_in_a_transaction_or_idle_too_long_is_not_handed_on(target_db, monkeypatch):
    sessions = IdleSessions(lambda: open_session(target_db.endpoint), pq.TransactionStatus.IDLE)
    first = sessions.take()
    sessions.give_back(first)
    assert sessions.take() is first  # idle and whole: handed on

    first.execute("BEGIN")
    sessions.give_back(first)  # a table's transaction still open: never handed on
    assert first.closed
    second = sessions.take()
    assert second is not first

    monkeypatch.setattr(idle_sessions, "KEEP_IDLE_SECONDS", 0.0)
    sessions.give_back(second)
    third = sessions.take()  # idle for longer than allowed: closed, a new one opened
    assert third is not second and second.closed
    sessions.give_back(third)
    sessions.close()
    assert third.closed


def test_a_source_session_is_handed_on_only_inside_its_transaction(source_db):
    def in_snapshot():
        conn = open_session(source_db.endpoint)
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return conn

    sessions = IdleSessions(in_snapshot, pq.TransactionStatus.INTRANS)
    first = sessions.take()
    sessions.give_back(first)
    assert sessions.take() is first  # still inside its transaction: handed on

    try:
        first.execute("SELECT 1 / 0")  # a failed transaction: never handed on
    except psycopg.errors.DivisionByZero:
        pass
    sessions.give_back(first)
    assert first.closed
    second = sessions.take()
    second.execute("COMMIT")  # out of the snapshot's transaction: never handed on
    sessions.give_back(second)
    assert second.closed
    sessions.close()
