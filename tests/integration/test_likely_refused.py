"""Rows the source names as likely refused (``engine/likely_refused.py``) are read first and sent
one by one; the rest stream in segments that meet no bad row. For keys already in the target, a
value too long for a narrowed column and NULL for a NOT NULL column, with the bad rows at the
start, in the middle, at the end and spread, over binary and CSV COPY, and with the connection
killed in the middle: every good row ends in the target exactly once with its content, every
bad row in the error log once, with its number in the source's read order.

A spy on ``segments._around_bad_row`` shows that no segment met a bad row: the rows really went
the way this module is about (the load would end right either way).
"""

from __future__ import annotations

import threading
import time

import pytest
from psycopg import sql
from test_segments_routes import (
    _arrange,
    _assert_clashes_rejected,
    _check_each_row_once,
    _clash,
    _killed_halfway_among_bad_rows,
    _load,
    _mapping,
    _rejected_row_numbers,
)

from coursemig_gui.core import segments, source_rows
from coursemig_gui.core.engine import likely_refused
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.events import CancelToken, Phase
from coursemig_gui.core.mapping import IfExists
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification

ROUTES = ["binary", "csv"]


@pytest.fixture(autouse=True)
def small_segments(monkeypatch) -> None:
    monkeypatch.setattr(segments, "SEGMENT_BYTES", 64 << 10)


@pytest.fixture
def segment_errors(monkeypatch) -> list:
    """Every bad row a segment met (none, when the source named them all)."""
    met: list = []
    real = segments._around_bad_row

    def spy(*args, **kwargs):
        met.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(segments, "_around_bad_row", spy)
    return met


def _positions(where: str, count: int) -> list[int]:
    return {
        "start": [0],
        "middle": [count // 2],
        "end": [count - 1],
        "spread": [0, 1, *range(40, count, count // 9), count - 1],
    }[where]


@pytest.mark.parametrize("where", ["start", "middle", "end", "spread"])
@pytest.mark.parametrize("route", ROUTES)
def test_keys_already_there_are_read_first(
    source_db, target_db, tmp_path, route, where, segment_errors
):
    pids = _arrange(source_db, target_db, tmp_path, route)
    positions = _positions(where, len(pids))
    clashing = [pids[i] for i in positions]
    _clash(target_db, clashing)
    report = _load(source_db, target_db, tmp_path, route)
    _assert_clashes_rejected(report, pids, positions)
    course = report.tables[0]
    assert course.verification == Verification.MATCH, course.verification_detail
    _check_each_row_once(source_db, target_db, clashing)
    assert segment_errors == [], "a segment met a row the source had named"


@pytest.mark.parametrize("route", ROUTES)
def test_connection_killed_after_the_rows_read_first(
    source_db, target_db, tmp_path, route, segment_errors
):
    """Killed halfway through the segments, after the named rows were rejected: the table
    starts again (reading them first again) and ends with each row once."""
    pids = _arrange(source_db, target_db, tmp_path, route)
    _killed_halfway_among_bad_rows(source_db, target_db, tmp_path, route, pids)
    assert segment_errors == [], "a segment met a row the source had named"


def test_too_many_named_rows_load_as_before(source_db, target_db, tmp_path, monkeypatch):
    """More named rows than are kept in memory: none are read first, the segments meet them."""
    monkeypatch.setattr(source_rows, "LIKELY_REFUSED_ROWS", 2)
    pids = _arrange(source_db, target_db, tmp_path, "binary")
    positions = [0, 700, len(pids) - 1]
    clashing = [pids[i] for i in positions]
    _clash(target_db, clashing)
    met: list = []
    real = segments._around_bad_row
    monkeypatch.setattr(
        segments, "_around_bad_row", lambda *a, **k: met.append(a[3]) or real(*a, **k)
    )
    report = _load(source_db, target_db, tmp_path, "binary")
    assert report.tables[0].rows_rejected == len(clashing), report.headline()
    assert _rejected_row_numbers(report) == [i + 1 for i in positions]
    _check_each_row_once(source_db, target_db, clashing)
    assert len(met) == len(clashing)


def test_a_stop_while_the_source_names_rows_is_a_stop(source_db, target_db, tmp_path, monkeypatch):
    """The source takes its time naming rows (a condition that sleeps 10 ms a row: 35 s for
    the table); Stop after a second ends it at once, and the table is as it was."""
    pids = _arrange(source_db, target_db, tmp_path, "binary")
    _clash(target_db, pids[:1])
    slow = sql.SQL("pg_sleep(0.01) IS NOT NULL")
    monkeypatch.setattr(likely_refused, "likely_refused", lambda *args: slow)
    cancel = CancelToken()
    timer = threading.Timer(1.0, cancel.cancel)
    timer.start()
    started = time.monotonic()
    try:
        report = run_migration(
            source_db.endpoint,
            target_db.endpoint,
            _mapping(source_db, IfExists.APPEND),
            MigrationOptions(create_foreign_keys=False, rejects_dir=str(tmp_path / "rejects")),
            lambda event: None,
            cancel,
        )
    finally:
        timer.cancel()
    assert time.monotonic() - started < 15
    assert report.cancelled
    assert report.tables[0].status == Phase.ROLLED_BACK, report.headline()
    assert target_db.rows("SELECT pid FROM course") == [(pids[0],)]


def _pids_in_order(source_db) -> list[str]:
    return [r[0] for r in source_db.rows("SELECT pid FROM courses_course ORDER BY ctid")]


@pytest.mark.parametrize("where", ["start", "middle", "end", "spread"])
def test_values_too_long_for_a_narrowed_column(
    source_db, target_db, tmp_path, where, segment_errors
):
    """A new table whose ``title`` is as wide as the source's longest title: the titles made
    one character longer are named by the source and rejected by the target."""
    pids = _pids_in_order(source_db)
    positions = _positions(where, len(pids))
    longest = source_db.rows("SELECT max(char_length(title)) FROM courses_course")[0][0]
    with source_db.admin_connect() as conn:
        # written again in the same order, so the longer titles stay about where they were
        # (a row may fill an earlier page's gap)
        conn.execute("CREATE TEMP TABLE keep AS SELECT * FROM courses_course")
        conn.execute(
            "UPDATE keep SET title = repeat('t', %s) WHERE pid = ANY(%s)",
            [longest + 1, [pids[i] for i in positions]],
        )
        conn.execute("TRUNCATE courses_course CASCADE")
        conn.execute(
            "INSERT INTO courses_course SELECT * FROM keep "
            "ORDER BY array_position(%s::text[], pid::text)",
            [pids],
        )
    longer = {pids[i] for i in positions}
    pids = _pids_in_order(source_db)
    positions = [i for i, pid in enumerate(pids) if pid in longer]
    (tm,) = _mapping(source_db, IfExists.FAIL)
    tm.column("title").target_type = f"character varying({longest})"
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        [tm],
        MigrationOptions(
            batch_rows=50, create_foreign_keys=False, rejects_dir=str(tmp_path / "rejects")
        ),
        lambda event: None,
    )
    course = report.tables[0]
    assert report.exit_code == 3, report.headline()
    assert (course.rows_read, course.rows_rejected) == (len(pids), len(positions))
    assert _rejected_row_numbers(report) == [i + 1 for i in positions]
    assert course.verification == Verification.MATCH, course.verification_detail
    titles = dict(target_db.rows("SELECT pid, title FROM course"))
    source = dict(source_db.rows("SELECT pid, title FROM courses_course"))
    assert titles == {p: t for p, t in source.items() if p not in {pids[i] for i in positions}}
    assert segment_errors == [], "a segment met a row the source had named"


def test_null_for_a_not_null_column(source_db, target_db, tmp_path, segment_errors):
    """The target's ``credit`` is NOT NULL; the source's rows without one are named."""
    _arrange(source_db, target_db, tmp_path, "binary")
    with source_db.admin_connect() as conn:  # a few, within the table's limit of rejects
        conn.execute(
            "UPDATE courses_course SET credit = '3.0' WHERE credit IS NULL AND pid NOT IN "
            "(SELECT pid FROM courses_course WHERE credit IS NULL ORDER BY pid LIMIT 12)"
        )
    pids = _pids_in_order(source_db)
    nulls = {r[0] for r in source_db.rows("SELECT pid FROM courses_course WHERE credit IS NULL")}
    assert len(nulls) == 12, "the sample has no such rows"
    with target_db.admin_connect() as conn:
        conn.execute("ALTER TABLE course ALTER credit SET NOT NULL")
    report = _load(source_db, target_db, tmp_path, "binary")
    course = report.tables[0]
    assert (course.rows_read, course.rows_rejected) == (len(pids), len(nulls)), report.headline()
    assert _rejected_row_numbers(report) == [i + 1 for i, p in enumerate(pids) if p in nulls]
    assert {r[0] for r in target_db.rows("SELECT pid FROM course")} == set(pids) - nulls
    assert segment_errors == [], "a segment met a row the source had named"
