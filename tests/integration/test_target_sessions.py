"""Tables load one after another over one target session (each new one costs a TLS and SCRAM
handshake), counted by the target server itself; a session is handed on only when it is whole,
outside any transaction and not idle for long."""

from __future__ import annotations

import re
import time

from psycopg import sql

from coursemig_gui.cli import main
from coursemig_gui.core.engine import target_sessions
from coursemig_gui.core.engine.target_sessions import TargetSessions

APP_TABLES = 9  # the fixture Django project's courses app


def _logins(target_db, run) -> int:
    """How many sessions the role opened on the test's database while ``run`` ran, as the
    server's own log says (``log_connections``, on for the test's length only)."""
    _log_connections(target_db, "on")
    log = target_db.server.log_file
    start = log.stat().st_size
    try:
        run()
    finally:
        _log_connections(target_db, None)
    with log.open("rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    pattern = rf"connection authorized: user={target_db.user} database={target_db.dbname}\b"
    return len(re.findall(pattern, text))


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


def test_a_whole_app_loads_over_one_target_session(source_db, target_db, tmp_path):
    def run():
        code = main(["migrate", "--source", source_db.url, "--target", target_db.url,
                     "--app", "courses", "--rename-reserved", "-q",
                     "--rejects-dir", str(tmp_path / "rejects")])  # fmt: skip
        assert code == 0

    # the load's one session, and one the foreign keys' and sequences' steps after it open
    assert _logins(target_db, run) <= 2


def test_a_session_in_a_transaction_or_idle_too_long_is_not_handed_on(target_db, monkeypatch):
    sessions = TargetSessions(target_db.endpoint)
    first = sessions.take()
    sessions.give_back(first)
    assert sessions.take() is first  # idle and whole: handed on

    first.execute("BEGIN")
    sessions.give_back(first)  # a table's transaction still open: never handed on
    assert first.closed
    second = sessions.take()
    assert second is not first

    monkeypatch.setattr(target_sessions, "KEEP_IDLE_SECONDS", 0.0)
    sessions.give_back(second)
    third = sessions.take()  # idle for longer than allowed: closed, a new one opened
    assert third is not second and second.closed
    sessions.give_back(third)
    sessions.close()
    assert third.closed
