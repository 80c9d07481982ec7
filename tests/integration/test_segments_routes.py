"""Around a bad row (``segments.py``): the rows before it go again as one COPY, the bad row alone,
the rows after it start the next segment, and segments after an error are sized from how far
apart the bad rows are, so batches get cut between two COPYs. Each route the rows can come by
(binary COPY, CSV COPY, a CSV file) meets a bad row at the start, in the middle, at the end,
and spread over the table, plus a connection killed in the middle of bad rows; each ends with
every good row in the target exactly once, with its content, and every bad row in the error
log with its row number.

Descriptions with line breaks in every third course make a CSV row span several physical
lines, which the error's line number counts. Segments are small (64 kB) and a COPY's own cost
is set low (0.5-1 kB, whatever is measured) so the sized-down segments cut the 50-row batches.
"""

from __future__ import annotations

import csv
import itertools
import time
from pathlib import Path

import pytest
from psycopg import sql
from test_transient_faults import MID_LOAD, Killer

from coursemig_gui.core import segments
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.csvfiles import csv_file_name
from coursemig_gui.core.engine import likely_refused
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage, Phase, TableProgress
from coursemig_gui.core.mapping import IfExists, default_mappings
from coursemig_gui.core.options import MigrationOptions

ROUTES = ["binary", "csv", "file"]


@pytest.fixture(autouse=True)
def small_segments(monkeypatch) -> None:
    monkeypatch.setattr(segments, "SEGMENT_BYTES", 64 << 10)
    monkeypatch.setattr(segments, "COPY_COST_BYTES", 1 << 10)
    monkeypatch.setattr(segments, "COPY_COST_RANGE", (1 << 9, 1 << 10))
    # the keys put there before would be named by the source and read first
    # (test_likely_refused.py); these tests are about meeting them inside the segments
    monkeypatch.setattr(likely_refused, "KEYS_BEFORE_LIMIT", 0)


def _mapping(source_db, if_exists: IfExists):
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    (tm,) = default_mappings(catalog, ["courses_course"])
    tm.if_exists = if_exists
    return [tm]


def _arrange(source_db, target_db, tmp_path: Path, route: str) -> list[str]:
    """Line breaks in some descriptions; the target's keyed ``course``, empty; for the file
    route the source table as a CSV file. Returns the source's pids in reading order."""
    with source_db.admin_connect() as conn:
        conn.execute(
            "UPDATE courses_course SET description = 'first line\nsecond \"line\"\n' "
            "|| coalesce(description, '') WHERE pid IN (SELECT pid FROM (SELECT pid, "
            "row_number() OVER (ORDER BY ctid) AS n FROM courses_course) q WHERE n % 3 = 1)"
        )
        conn.execute("VACUUM FULL courses_course")  # the reading order is ctid order again
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _mapping(source_db, IfExists.FAIL),
        MigrationOptions(create_foreign_keys=False, rejects_dir=str(tmp_path / "first")),
        lambda event: None,
    )
    assert report.exit_code == 0, report.headline()
    with target_db.admin_connect() as conn:
        conn.execute("TRUNCATE course")
    if route == "file":
        (tm,) = _mapping(source_db, IfExists.APPEND)
        columns = sql.SQL(", ").join(sql.Identifier(c.source) for c in tm.included_columns)
        folder = tmp_path / "csv"
        folder.mkdir()
        with (
            source_db.admin_connect() as conn,
            (folder / csv_file_name("courses_course")).open("wb") as f,
            conn.cursor().copy(
                sql.SQL("COPY courses_course ({}) TO STDOUT (FORMAT csv, HEADER)").format(columns)
            ) as copy,
        ):
            for chunk in copy:
                f.write(chunk)
    return [r[0] for r in source_db.rows("SELECT pid FROM courses_course ORDER BY ctid")]


def _clash(target_db, pids: list[str]) -> None:
    with target_db.admin_connect() as conn:
        for pid in pids:
            conn.execute(
                "INSERT INTO course (pid, slug, course_number, title, program_id) "
                "VALUES (%s, %s, '1', 't', 'p')",
                [pid, f"clash-{pid}-x"],
            )


def _load(source_db, target_db, tmp_path: Path, route: str, on_event=None):
    options = MigrationOptions(
        batch_rows=50,
        create_foreign_keys=False,
        rejects_dir=str(tmp_path / "rejects"),
        binary=route == "binary",
    )
    if route == "file":
        options.route = Route.IMPORT
        options.csv_dir = str(tmp_path / "csv")
    return run_migration(
        None if route == "file" else source_db.endpoint,
        target_db.endpoint,
        _mapping(source_db, IfExists.APPEND),
        options,
        on_event or (lambda event: None),
    )


def _rejected_row_numbers(report) -> list[int]:
    errors = Path(report.tables[0].reject_file).parent / "errors.csv"
    with errors.open(newline="", encoding="utf-8") as f:
        return sorted(int(r["row"]) for r in csv.DictReader(f) if r["table"] != "")


def _check_each_row_once(source_db, target_db, clashing: list[str]) -> None:
    count, distinct = target_db.rows("SELECT count(*), count(DISTINCT pid) FROM course")[0]
    source = dict(source_db.rows("SELECT pid, description FROM courses_course"))
    assert count == distinct == len(source)
    got = target_db.rows("SELECT pid, slug, description FROM course")
    assert sorted(pid for pid, slug, _ in got if slug.endswith("-x")) == sorted(clashing)
    # every other row came from the source once, its content whole (line breaks and all)
    loaded = {pid: description for pid, slug, description in got if not slug.endswith("-x")}
    assert loaded == {pid: d for pid, d in source.items() if pid not in clashing}


@pytest.mark.parametrize("where", ["start", "middle", "end", "spread"])
@pytest.mark.parametrize("route", ROUTES)
def test_bad_rows_on_every_route_each_row_once(source_db, target_db, tmp_path, route, where):
    pids = _arrange(source_db, target_db, tmp_path, route)
    positions = {
        "start": [0],
        "middle": [len(pids) // 2],
        "end": [len(pids) - 1],
        # the first two close together, then spread: the sized-down segments meet them
        "spread": [1, 4, *range(40, len(pids), len(pids) // 9)],
    }[where]
    clashing = [pids[i] for i in positions]
    _clash(target_db, clashing)
    report = _load(source_db, target_db, tmp_path, route)
    _assert_clashes_rejected(report, pids, positions)
    _check_each_row_once(source_db, target_db, clashing)


def _assert_clashes_rejected(report, pids: list, positions: list[int]) -> None:
    """The rows at ``positions`` (0-based, in the source's order) rejected, each with its
    number, and every other row written."""
    course = report.tables[0]
    assert report.exit_code == 3, report.headline()
    assert course.status == Phase.DONE_WITH_REJECTS
    assert (course.rows_read, course.rows_rejected) == (len(pids), len(positions))
    assert course.rows_written == len(pids) - len(positions)
    assert _rejected_row_numbers(report) == [i + 1 for i in positions]


@pytest.mark.parametrize("route", ROUTES)
def test_connection_killed_among_bad_rows(source_db, target_db, tmp_path, route, monkeypatch):
    """Killed halfway, after some bad rows were settled and while segments are small: the table
    starts again from its first row and ends with each row once, each bad row rejected once."""
    monkeypatch.setattr(segments, "COPY_COST_RANGE", (4 << 10, 4 << 10))  # fewer, slower steps
    pids = _arrange(source_db, target_db, tmp_path, route)
    _killed_halfway_among_bad_rows(source_db, target_db, tmp_path, route, pids)


def _killed_halfway_among_bad_rows(source_db, target_db, tmp_path, route, pids) -> None:
    """Every 300th row clashes; the target's connection is killed once half the rows are
    read. The table starts again and ends with each row once, each bad row rejected once."""
    clashing = [pids[i] for i in range(5, len(pids), 300)]
    _clash(target_db, clashing)
    killers: list[Killer] = []
    events: list = []

    def on_event(event) -> None:
        events.append(event)
        if isinstance(event, TableProgress) and event.phase == Phase.COPYING and not killers:
            if event.rows_done >= len(pids) // 2:
                killers.append(Killer(target_db, MID_LOAD, target_db.user))
                killers[0].kill_now()
            else:
                time.sleep(0.21)  # past the progress throttle: the next batch reports too

    try:
        report = _load(source_db, target_db, tmp_path, route, on_event)
    finally:
        for killer in killers:
            killer.close()
    assert killers and killers[0].killed, "nothing was killed: the test did not test anything"
    assert report.exit_code == 3, report.headline()
    texts = [e.text for e in events if isinstance(e, LogMessage)]
    assert "The connection was lost while copying course; starting it again (try 2 of 3)." in texts
    course = report.tables[0]
    assert (course.rows_written, course.rows_rejected) == (
        len(pids) - len(clashing),
        len(clashing),
    )
    _check_each_row_once(source_db, target_db, clashing)


@pytest.mark.parametrize("route", ["binary", "csv"])
def test_a_line_number_that_is_off_costs_retries_not_rows(
    source_db, target_db, tmp_path, route, monkeypatch
):
    """Should an error's line name a row after the bad one, the rows 'known good' include the
    bad row: their COPY fails and the careful path takes them. Named a row before it, the
    suspect goes in alone and the bad row fails in a later segment. Both end right."""
    pids = _arrange(source_db, target_db, tmp_path, route)
    positions = [3, 700, 701, len(pids) - 2]
    clashing = [pids[i] for i in positions]
    _clash(target_db, clashing)
    real = segments.copy_error_position
    shifts = itertools.cycle([+5, -2])

    def off_by_some(exc):
        line, column = real(exc)
        return (None if line is None else max(1, line + next(shifts))), column

    monkeypatch.setattr(segments, "copy_error_position", off_by_some)
    report = _load(source_db, target_db, tmp_path, route)
    assert report.tables[0].rows_rejected == len(clashing), report.headline()
    assert _rejected_row_numbers(report) == [i + 1 for i in positions]
    _check_each_row_once(source_db, target_db, clashing)


def test_an_error_without_a_line_is_bisected(source_db, target_db, tmp_path, monkeypatch):
    """Errors that name no line (foreign keys, Citus' workers): the careful path bisects the
    failed segment's batches."""
    pids = _arrange(source_db, target_db, tmp_path, "binary")
    positions = [0, 1, 1500, len(pids) - 1]
    clashing = [pids[i] for i in positions]
    _clash(target_db, clashing)
    monkeypatch.setattr(segments, "copy_error_position", lambda exc: (None, None))
    report = _load(source_db, target_db, tmp_path, "binary")
    assert _rejected_row_numbers(report) == [i + 1 for i in positions]
    _check_each_row_once(source_db, target_db, clashing)
