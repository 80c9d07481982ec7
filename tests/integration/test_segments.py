"""The optimistic path (one COPY per segment, the careful path only for a segment that met a bad
row): a bad row at the start, in the middle and at the end of a table, several bad rows, and a
connection killed in the middle, each end with every good row in the target exactly once and
every bad row in the reject file with its row number.

Segments are made small (64 kB, about 240 course rows, batches of 50 rows) so the sample's
3,547 courses span many segments, and a bad row's segment, the short segments after it and the
doubling back up are all crossed.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from test_transient_faults import MID_LOAD, Killer

from coursemig_gui.core import segments
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine import likely_refused
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage, Phase, TableProgress
from coursemig_gui.core.mapping import IfExists, default_mappings
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification


@pytest.fixture(autouse=True)
def small_segments(monkeypatch) -> None:
    monkeypatch.setattr(segments, "SEGMENT_BYTES", 64 << 10)
    # the keys put there before would be named by the source and read first
    # (test_likely_refused.py); these tests are about meeting them inside the segments
    monkeypatch.setattr(likely_refused, "KEYS_BEFORE_LIMIT", 0)


def _course_mapping(source_db, if_exists: IfExists = IfExists.FAIL):
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    (tm,) = default_mappings(catalog, ["courses_course"])
    tm.if_exists = if_exists
    return [tm]


def _source_pids(source_db) -> list[str]:
    """The source's rows in the order COPY reads them."""
    return [r[0] for r in source_db.rows("SELECT pid FROM courses_course ORDER BY ctid")]


def _prepare_target(source_db, target_db, tmp_path: Path) -> None:
    """The target's ``course`` with its keys, as CourseMig makes it, and empty."""
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _course_mapping(source_db),
        MigrationOptions(create_foreign_keys=False, rejects_dir=str(tmp_path / "first")),
        lambda event: None,
    )
    assert report.exit_code == 0
    with target_db.admin_connect() as conn:
        conn.execute("TRUNCATE course")


def _append(source_db, target_db, tmp_path: Path, on_event=None):
    return run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _course_mapping(source_db, IfExists.APPEND),
        MigrationOptions(
            batch_rows=50, create_foreign_keys=False, rejects_dir=str(tmp_path / "rejects")
        ),
        on_event or (lambda event: None),
    )


def _rejected_row_numbers(report) -> list[int]:
    errors = Path(report.tables[0].reject_file).parent / "errors.csv"
    with errors.open(newline="", encoding="utf-8") as f:
        return sorted(int(r["row"]) for r in csv.DictReader(f) if r["table"] == "course")


def _check_each_row_once(source_db, target_db, clashing: list[str]) -> None:
    expected = set(_source_pids(source_db))
    count, distinct = target_db.rows("SELECT count(*), count(DISTINCT pid) FROM course")[0]
    assert count == distinct == len(expected)
    # the clashing rows are the ones put there before (slug ends in -x), the rest came from
    # the source once each
    got = dict(target_db.rows("SELECT pid, slug FROM course"))
    assert set(got) == expected
    assert sorted(p for p, slug in got.items() if slug.endswith("-x")) == sorted(clashing)


@pytest.mark.parametrize("where", ["start", "middle", "end", "spread"])
def test_bad_rows_anywhere_are_rejected_and_every_other_row_lands_once(
    source_db, target_db, tmp_path, where
):
    _prepare_target(source_db, target_db, tmp_path)
    pids = _source_pids(source_db)
    positions = {
        "start": [0],
        "middle": [len(pids) // 2],
        "end": [len(pids) - 1],
        "spread": list(range(7, len(pids), len(pids) // 9)),
    }[where]
    clashing = [pids[i] for i in positions]
    with target_db.admin_connect() as conn:
        for pid in clashing:
            conn.execute(
                "INSERT INTO course (pid, slug, course_number, title, program_id) "
                "VALUES (%s, %s, '1', 't', 'p')",
                [pid, f"clash-{pid}-x"],
            )
    report = _append(source_db, target_db, tmp_path)
    course = report.tables[0]
    assert report.exit_code == 3, report.headline()
    assert course.status == Phase.DONE_WITH_REJECTS
    assert course.rows_rejected == len(clashing)
    assert course.rows_read == len(pids)
    assert course.rows_written == len(pids) - len(clashing)
    # the rows there before are hashed before the load and the rejected ones taken off the
    # source's sum, so the added rows' content is compared, not just counted
    assert course.verification == Verification.MATCH, course.verification_detail
    assert f"added to the {len(clashing)} already there" in course.verification_detail
    # the error log names each row by its place in the source
    assert _rejected_row_numbers(report) == [i + 1 for i in positions]
    _check_each_row_once(source_db, target_db, clashing)


def test_clean_table_in_many_segments_is_verified(source_db, target_db, tmp_path):
    _prepare_target(source_db, target_db, tmp_path)
    report = _append(source_db, target_db, tmp_path)
    course = report.tables[0]
    assert report.exit_code == 0
    assert course.verification == Verification.MATCH  # empty before: the full checksum
    _check_each_row_once(source_db, target_db, [])


def test_connection_killed_in_the_middle_of_the_segments(source_db, target_db, tmp_path):
    """Killed after some segments went in (their savepoints released, the table's transaction
    still open): the table starts again from its first row, and ends with each row once."""
    _prepare_target(source_db, target_db, tmp_path)
    pids = _source_pids(source_db)
    killer = Killer(target_db, MID_LOAD, target_db.user)
    events: list = []

    def on_event(event) -> None:
        events.append(event)
        if (
            isinstance(event, TableProgress)
            and event.target == "course"
            and event.phase == Phase.COPYING
        ):
            if event.rows_done >= len(pids) // 2:
                killer.kill_now()
            else:
                time.sleep(0.25)  # past the progress throttle: the next batch reports too

    try:
        report = _append(source_db, target_db, tmp_path, on_event)
    finally:
        killer.close()
    assert killer.killed, "nothing was killed: the test did not test anything"
    assert report.exit_code == 0, report.headline()
    texts = [e.text for e in events if isinstance(e, LogMessage)]
    assert "The connection was lost while copying course; starting it again (try 2 of 3)." in texts
    assert report.tables[0].rows_written == len(pids)
    _check_each_row_once(source_db, target_db, [])
