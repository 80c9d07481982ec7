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
