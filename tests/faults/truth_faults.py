"""Fault hooks for the truthful-outcome tests (issue 12).

Each hook makes one fault happen at one exact moment on the real target server, from a superuser
connection of its own: nothing in the engine is patched. A plain module (imported as
``truth_faults``, like ``fault_helpers``), not a conftest.

- ``Killer.kill_now()``: terminate the engine's backends of one role, called from the engine's
  own progress callback, so the fault lands at the phase the event announces (verification
  after COMMIT, say).
- ``commit_killer()``: a thread that waits until an engine backend is running COMMIT and is
  held there by the server, then terminates it. The COMMIT is held either by ``slow_commit``
  (a deferred constraint trigger that sleeps before the commit is written: the kill leaves the
  transaction aborted) or by ``commit_waits_for_standby`` (synchronous replication to a standby
  that does not exist: the commit is written but not acknowledged, so the kill leaves it
  committed). Either way the client only sees its connection drop during COMMIT.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
from psycopg import sql


def _victims(conn: psycopg.Connection, user: str, where: str) -> list[int]:
    query = sql.SQL(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = %s "
        "AND pid <> pg_backend_pid() AND {}"
    ).format(sql.SQL(where))
    return [r[0] for r in conn.execute(query, [user]).fetchall()]


class Killer:
    """Terminates the backends of ``user`` in the test database matching ``where``, once."""

    def __init__(self, db, user: str, where: str = "true") -> None:
        self.db = db
        self.user = user
        self.where = where
        self.killed: list[int] = []

    def kill_now(self) -> None:
        if self.killed:
            return
        with psycopg.connect(self.db.admin, autocommit=True) as conn:
            pids = _victims(conn, self.user, self.where)
            for pid in pids:
                conn.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        self.killed = pids or [-1]  # -1: asked, found nothing (the test then fails on it)


class CommitKiller:
    """Kills the first backend of ``user`` seen running COMMIT while waiting on ``wait_event``,
    then calls ``after`` (which releases whatever held the COMMIT)."""

    def __init__(self, db, user: str, wait_event: str, after: Callable[[], None]) -> None:
        self.db = db
        self.user = user
        self.wait_event = wait_event
        self.after = after
        self.killed: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-commit-killer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with psycopg.connect(self.db.admin, autocommit=True) as conn:
                where = sql.SQL("state = 'active' AND query = 'COMMIT' AND wait_event = {}").format(
                    sql.Literal(self.wait_event)
                )
                deadline = time.monotonic() + 120
                while not self._stop.is_set() and time.monotonic() < deadline:
                    pids = _victims(conn, self.user, where.as_string(conn))
                    if pids:
                        for pid in pids:
                            conn.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
                        self.killed = pids
                        return
                    time.sleep(0.02)
        finally:
            self.after()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(30)


_SLOW_COMMIT = """
CREATE FUNCTION public.truth_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- fired at COMMIT (deferred), once per transaction: the server holds the COMMIT here
    IF current_setting('truth.deferred', true) = 'on'
       AND current_setting('truth.slept', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('truth.slept', 'on', true);
        PERFORM pg_sleep({seconds});
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION public.truth_defer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the engine says SET CONSTRAINTS ALL IMMEDIATE; this puts the slow trigger back to COMMIT
    SET CONSTRAINTS truth_slow_commit DEFERRED;
    PERFORM set_config('truth.deferred', 'on', true);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER truth_slow_commit AFTER INSERT ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.truth_slow_commit();
-- BEFORE each INSERT/COPY statement, so its own rows' checks are deferred too (a clean table
-- streams in one COPY, and an AFTER trigger would come too late for its rows)
CREATE TRIGGER truth_defer BEFORE INSERT ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION public.truth_defer();
"""


def slow_commit(db, table: str, seconds: float = 30) -> Callable[[], None]:
    """Make every COMMIT of a transaction that inserted into ``table`` wait ``seconds`` on the
    server before it is written (wait event ``PgSleep``). Returns a function that removes it."""
    with db.admin_connect() as conn:
        conn.execute(
            sql.SQL(_SLOW_COMMIT).format(
                seconds=sql.Literal(seconds), table=sql.Identifier("public", table)
            )
        )

    def remove() -> None:
        with db.admin_connect() as conn:
            for trigger in ("truth_slow_commit", "truth_defer"):
                conn.execute(
                    sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                        sql.Identifier(trigger), sql.Identifier("public", table)
                    )
                )

    return remove


@contextlib.contextmanager
def commit_waits_for_standby(db, user: str) -> Iterator[Callable[[], None]]:
    """While inside: every COMMIT of ``user`` in the test database is written, then waits for a
    synchronous standby that never comes (wait event ``SyncRep``). Everyone else commits as
    usual. Yields ``release``, which ends the waiting for good (also done on the way out)."""
    server_admin = psycopg.connect(db.admin, autocommit=True)

    def settle() -> None:
        server_admin.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)  # the checkpointer notices the new standby list after the reload

    released = threading.Event()

    def release() -> None:
        if released.is_set():
            return
        released.set()
        server_admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
        server_admin.execute("ALTER SYSTEM RESET synchronous_commit")
        settle()

    try:
        server_admin.execute("ALTER SYSTEM SET synchronous_commit = 'local'")
        server_admin.execute(
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET synchronous_commit = 'on'").format(
                sql.Identifier(user), sql.Identifier(db.dbname)
            )
        )
        server_admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'truth_no_standby'")
        settle()
        yield release
    finally:
        release()
        server_admin.execute(
            sql.SQL("ALTER ROLE {} IN DATABASE {} RESET synchronous_commit").format(
                sql.Identifier(user), sql.Identifier(db.dbname)
            )
        )
        server_admin.close()
