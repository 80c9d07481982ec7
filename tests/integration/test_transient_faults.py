"""Transient faults: a connection killed in the middle of a table (as a failover, a maintenance
restart or a dropped network would) is retried from the start of that table, and the table
ends with each row exactly once.

The kill is real: an admin connection in another thread calls pg_terminate_backend() on the
engine's backend, found in pg_stat_activity by user name, while the table is being copied.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import sql

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage, Phase, TableProgress
from coursemig_gui.core.mapping import Placement, default_mappings
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification

pytestmark = pytest.mark.faults

TABLES = ["courses_program", "courses_course"]
# the engine's target backend in the middle of a table: it has written (an xid), or its COPY is
# open (a segment's rows stream in one COPY, and may not have reached a row yet on Citus, where
# the table was created in an earlier transaction)
MID_LOAD = "(backend_xid IS NOT NULL OR query LIKE 'COPY %%')"


class Killer:
    """Terminates one backend from an admin connection in its own thread, when asked.

    ``kill_now`` is called from the engine's progress callback (between two batches of the
    table) and waits until the backend is gone, so the engine's next statement meets a dead
    connection: the fault lands mid-table every time, not by luck of timing.
    """

    def __init__(self, db, where: str, user: str) -> None:
        self.db = db
        self.where = where  # a condition on pg_stat_activity that picks the victim
        self.user = user
        self.killed: list[int] = []
        self._asked = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-killer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if not self._asked.wait(60):
            return
        try:
            with psycopg.connect(self.db.admin, autocommit=True) as conn:
                query = sql.SQL(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND usename = %s AND pid <> pg_backend_pid() AND " + self.where
                )
                pids = [r[0] for r in conn.execute(query, [self.user]).fetchall()]
                for pid in pids:
                    # ::integer: Citus adds a pg_terminate_backend(bigint) for its global pids
                    conn.execute("SELECT pg_terminate_backend(%s::integer, 5000)", [pid])
                self.killed = pids
        finally:
            self._done.set()

    def kill_now(self) -> None:
        if self._asked.is_set():
            return
        self._asked.set()
        assert self._done.wait(30), "the killer did not finish"

    def close(self) -> None:
        self._asked.set()
        self._thread.join(10)


def _kill_during(table: str, killer: Killer, events: list, phase: Phase = Phase.COPYING):
    def on_event(event) -> None:
        events.append(event)
        if (
            isinstance(event, TableProgress)
            and event.target == table
            and event.phase == phase
            and (event.rows_done > 0 or phase != Phase.COPYING)
        ):
            killer.kill_now()

    return on_event


def _mappings(source_db, placements: dict[str, str] | None = None):
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, TABLES)
    for tm in mappings:
        kind, _, column = (placements or {}).get(tm.source, "local").partition(":")
        tm.placement, tm.distribution_column = Placement(kind), column or None
    return mappings


def _check_course_once(source_db, target_db, report, events, killer) -> None:
    assert killer.killed, "nothing was killed: the test did not test anything"
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    course = next(t for t in report.tables if t.target == "course")
    assert course.status == Phase.DONE
    assert course.verification == Verification.MATCH
    expected = source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    count, distinct = target_db.rows("SELECT count(*), count(DISTINCT pid) FROM course")[0]
    assert count == distinct == expected == course.rows_written
    texts = [e.text for e in events if isinstance(e, LogMessage)]
    assert "The connection was lost while copying course; starting it again (try 2 of 3)." in texts
    assert "course was copied on try 2 of 3, from the start, so each row is in it once." in texts


def test_target_connection_killed_mid_table_is_retried(source_db, target_db):
    # the engine's target backend in the middle of the table's transaction (it has written)
    killer = Killer(target_db, MID_LOAD, target_db.user)
    events: list = []
    try:
        report = run_migration(
            source_db.endpoint,
            target_db.endpoint,
            _mappings(source_db),
            MigrationOptions(batch_rows=100),
            _kill_during("course", killer, events),
        )
    finally:
        killer.close()
    _check_course_once(source_db, target_db, report, events, killer)
    # the foreign key to program is there, as on any plain run
    assert (
        target_db.rows(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'course'::regclass "
            "AND contype = 'f'"
        )[0][0]
        == 1
    )


def test_source_connection_killed_mid_table_is_retried(source_db, target_db):
    # The table's source connection, not the one that holds the shared snapshot. Killed as the
    # target table is created: a table this small is read whole into the client's buffers at
    # once, so a kill during the COPY itself would come too late to be noticed.
    killer = Killer(source_db, "query NOT LIKE '%%pg_export_snapshot%%'", source_db.user)
    events: list = []
    try:
        report = run_migration(
            source_db.endpoint,
            target_db.endpoint,
            _mappings(source_db),
            MigrationOptions(batch_rows=100),
            _kill_during("course", killer, events, Phase.CREATING),
        )
    finally:
        killer.close()
    _check_course_once(source_db, target_db, report, events, killer)


def test_a_table_that_keeps_failing_is_given_up_after_the_retries(source_db, target_db):
    """Every try is killed: after options.retries the table fails, and is as it was before."""
    mappings = _mappings(source_db)
    events: list = []

    def on_event(event) -> None:
        events.append(event)
        if (
            isinstance(event, TableProgress)
            and event.target == "course"
            and event.phase == Phase.COPYING
            and event.rows_done > 0
        ):
            killer = Killer(target_db, MID_LOAD, target_db.user)
            killer.kill_now()
            killer.close()

    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings,
        MigrationOptions(batch_rows=100, retries=1),
        on_event,
    )
    course = next(t for t in report.tables if t.target == "course")
    assert course.status == Phase.FAILED
    assert course.message.startswith("course could not be finished: ")
    assert course.message.endswith("It was rolled back and is as it was before.")
    assert report.exit_code == 1
    assert target_db.rows("SELECT to_regclass('public.course')") == [(None,)]
    tries = [e.text for e in events if isinstance(e, LogMessage) and "starting it again" in e.text]
    assert tries == [
        "The connection was lost while copying course; starting it again (try 2 of 2)."
    ]
