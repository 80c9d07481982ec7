"""Transient faults on the real Citus cluster, made to happen mid-table: the coordinator's
connection to a worker is killed, or a worker restarts, while a distributed table is loading.
The engine retries that table from the start, and each row ends up in it once."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from citus_cluster import placements_in_cluster
from test_citus import mappings_for
from test_transient_faults import Killer, _check_course_once

from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.events import Phase, TableProgress
from coursemig_gui.core.mapping import IfExists
from coursemig_gui.core.options import MigrationOptions

pytestmark = pytest.mark.faults

PLACEMENTS = {"courses_program": "reference", "courses_course": "distributed:pid"}


@dataclass
class _WorkerDb:
    """What ``Killer`` needs to find and end backends on one worker (as its superuser)."""

    admin: str


def _mappings(source_db):
    return mappings_for(source_db, PLACEMENTS, list(PLACEMENTS))


def test_citus_worker_connection_killed_mid_table_is_retried(citus_cluster, source_db, citus_db):
    # the coordinator's connections to worker 1, which it opened as citus for course's shards
    worker = citus_cluster.workers[0]
    killer = Killer(_WorkerDb(worker.admin_conninfo("citus")), "true", "citus")
    events: list = []
    try:
        report = run_migration(
            source_db.endpoint,
            citus_db.endpoint,
            _mappings(source_db),
            MigrationOptions(batch_rows=100),
            _kill_once_rows_reached_workers("course", killer, events),
        )
    finally:
        killer.close()
    _check_course_once(source_db, citus_db, report, events, killer)
    assert placements_in_cluster(citus_db)["course"][:2] == ("h", "pid")


def _kill_once_rows_reached_workers(table: str, killer: Killer, events: list):
    """Kill after 1,000 rows: a clean table streams in one COPY, and the coordinator opens its
    worker connections only as rows arrive (the first batch may still sit in the client's
    buffer). Waiting a little at each progress event gets one per batch past the throttle."""

    def on_event(event) -> None:
        events.append(event)
        if isinstance(event, TableProgress) and event.target == table:
            if event.phase == Phase.COPYING and event.rows_done >= 1000:
                killer.kill_now()
            elif event.phase == Phase.COPYING:
                time.sleep(0.25)

    return on_event


def test_citus_worker_restart_mid_table_is_retried(citus_cluster, source_db, citus_db):
    worker = citus_cluster.workers[1]
    restarted: list[bool] = []
    events: list = []

    def on_event(event) -> None:
        events.append(event)
        if (
            not restarted
            and isinstance(event, TableProgress)
            and event.target == "course"
            and event.phase == Phase.COPYING
            and event.rows_done > 0
        ):
            restarted.append(True)
            worker.restart()  # fast shutdown: every open connection to it ends

    report = run_migration(
        source_db.endpoint,
        citus_db.endpoint,
        _mappings(source_db),
        MigrationOptions(batch_rows=100),
        on_event,
    )

    class _Restarted:
        killed = restarted

    _check_course_once(source_db, citus_db, report, events, _Restarted)


def test_citus_a_stopped_worker_is_named_not_the_target(citus_cluster, source_db, citus_db):
    """A worker node down for the whole run: the coordinator (the target) answers, but cannot
    reach the worker. The sentence said "Nothing is accepting database connections at the
    server. Check the host and the port", which sends the user to settings that are right."""
    mappings = mappings_for(source_db, PLACEMENTS, ["courses_program"])
    first = run_migration(source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions())
    assert first.exit_code == 0, first.headline()
    with citus_db.admin_connect() as conn:
        conn.execute("TRUNCATE program")
    mappings = _mappings(source_db)
    next(m for m in mappings if m.target == "program").if_exists = IfExists.APPEND
    worker = citus_cluster.workers[0]
    worker.stop()
    try:
        report = run_migration(
            source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions(retries=1)
        )
    finally:
        worker.start()
    said = (
        f"The target's Citus coordinator could not reach its worker node 127.0.0.1:{worker.port} "
        "(Connection refused). The target itself answered: the worker node may be stopped, "
        "restarting or out of reach. Check the cluster's nodes (on Azure, the cluster's page in "
        "the portal), then run the migration again."
    )
    by_name = {t.target: t for t in report.tables}
    assert by_name["program"].status == Phase.FAILED
    assert by_name["program"].message == (
        f"program could not be finished: {said} It was rolled back and is as it was before."
    )
    assert by_name["course"].status == Phase.FAILED
    assert by_name["course"].message == (
        f"course could not be created as a distributed table, so it was not copied. {said}"
    )
    assert report.exit_code == 1
    assert citus_db.rows("SELECT count(*) FROM program") == [(0,)]
    assert "course" not in placements_in_cluster(citus_db)
