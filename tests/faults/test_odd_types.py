"""Odd types on the way from one PostgreSQL to another: a changed type that drops part of each
value without a word from the server, and the check's sentence after a very large bad row."""

from __future__ import annotations

import pytest
from fault_helpers import mappings_for

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.ddl import create_table
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.mapping import IfExists
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification

_EVENTS = """
CREATE TABLE events (
    id integer PRIMARY KEY,
    at timestamp,
    at_tz timestamptz,
    span tsrange,
    span_tz tstzrange,
    stamps timestamptz[]
);
INSERT INTO events VALUES
    (1, '2026-03-01 10:00', '2026-03-01 10:00+05', '[2026-03-01 10:00, 2026-03-02 11:30)',
     '[2026-03-01 10:00+05, 2026-03-02 11:30+05)', '{"2026-03-01 10:00+05"}'),
    (2, NULL, NULL, NULL, NULL, NULL);
ALTER TABLE events OWNER TO django;
"""


def _migrate(source_db, target_db, mappings, tmp_path):
    return run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings,
        MigrationOptions(rejects_dir=str(tmp_path / "rejects")),
        lambda event: None,
    )


@pytest.mark.parametrize(
    ("column", "new_type", "lost"),
    [
        ("at", "time", "date"),  # '2026-03-01 10:00' arrived as 10:00, and the run said 0
        ("at_tz", "time with time zone", "date"),
        ("span", "daterange", "time of day"),  # [2026-03-01, 2026-03-02)
        ("span_tz", "tsrange", "time zone"),
        ("stamps", "timestamp without time zone[]", "time zone"),
    ],
)
@pytest.mark.parametrize("existing", [False, True], ids=["new table", "existing table"])
def test_a_change_that_drops_part_of_each_value_is_refused_before_a_row_is_written(
    source_db, target_db, tmp_path, column, new_type, lost, existing
):
    """A time takes a whole timestamp and keeps its clock time; a range or an array converts
    each of its values: the server says nothing, and where no cast reads the values back
    (time, daterange), the check could only count the rows."""
    with source_db.admin_connect() as conn:
        conn.execute(_EVENTS)
    mappings = mappings_for(source_db, ["events"])
    tm = mappings[0]
    tm.column(column).target_type = new_type
    if existing:  # the target's own type, known only once the run looks at the table
        with open_session(source_db.endpoint) as conn:
            table = read_catalog(conn).table("events")
        with target_db.connect(autocommit=True) as conn:
            conn.execute(create_table(tm, table, "public"))
        tm.column(column).target_type = table.column(column).type
        tm.if_exists = IfExists.APPEND
    report = _migrate(source_db, target_db, mappings, tmp_path)
    said = f"{report.message} {report.tables[0].message if report.tables else ''}"
    assert report.exit_code == (1 if existing else 2), said
    assert f"{column}: " in said and f"no {lost}" in said, said
    assert target_db.rows("SELECT count(*) FROM pg_class WHERE relname = 'events'") == [
        (1 if existing else 0,)
    ]
    if existing:
        assert target_db.rows("SELECT count(*) FROM events") == [(0,)]


def test_a_change_that_keeps_every_value_still_runs(source_db, target_db, tmp_path):
    """The rule names only what is lost: a timestamp range read as one with a time zone (in
    UTC, as every run reads it) keeps every value. No cast reads a range back as another, so
    the check counts the rows and says so."""
    with source_db.admin_connect() as conn:
        conn.execute(_EVENTS)
    mappings = mappings_for(source_db, ["events"])
    mappings[0].column("span").target_type = "tstzrange"
    report = _migrate(source_db, target_db, mappings, tmp_path)
    assert report.exit_code == 0, report.headline()
    (events,) = report.tables
    assert events.verification == Verification.COUNTS_MATCH
    assert "span (tsrange -> tstzrange)" in events.verification_detail


def test_one_very_large_rejected_row_is_not_called_too_many_rows(
    empty_source_db, target_db, tmp_path
):
    """The rejected rows are kept for the check up to 16 MB: past that the check counts the
    rows, and its sentence gives that reason (it read 'too many rows were rejected' for one)."""
    with empty_source_db.admin_connect() as conn:
        conn.execute("CREATE TABLE notes (id integer PRIMARY KEY, body text)")
        conn.execute(
            "INSERT INTO notes SELECT g, CASE g WHEN 1 THEN repeat('x', 17 << 20) ELSE 'short' "
            "END FROM generate_series(1, 20) g"
        )
        conn.execute("ALTER TABLE notes OWNER TO django")
    mappings = mappings_for(empty_source_db, ["notes"])
    mappings[0].column("body").target_type = "varchar(100)"
    report = _migrate(empty_source_db, target_db, mappings, tmp_path)
    (notes,) = report.tables
    assert report.exit_code == 3 and notes.rows_rejected == 1, notes.message
    assert notes.verification == Verification.COUNTS_MATCH
    assert notes.verification_detail == (
        "19 rows in the target, 19 written; the content was not compared, because the "
        "rejected rows came to more than 16 MB, too much to keep for the check"
    )
    assert (tmp_path / "rejects" / "notes.rejected.csv").stat().st_size > 17 << 20


@pytest.mark.parametrize(
    ("column", "new_type", "kept"),
    [
        ("ratio", "numeric(10,2)", "2 decimal places"),  # 1.23456 arrived as 1.23
        ("took", "interval hour to minute", "nothing smaller than minutes"),  # seconds dropped
    ],
)
def test_a_rounding_change_is_refused_even_without_the_check(
    empty_source_db, target_db, tmp_path, column, new_type, kept
):
    """With the check on, the values read back differed and the table was marked different;
    with --no-verify the run ended 'copied' (exit 0) with every value rounded. Like a numeric's
    scale, these are named before the run, whether or not the check runs."""
    with empty_source_db.admin_connect() as conn:
        conn.execute("CREATE TABLE laps (id integer PRIMARY KEY, ratio float8, took interval)")
        conn.execute("INSERT INTO laps VALUES (1, 1.23456, '1 day 02:03:04'), (2, NULL, NULL)")
        conn.execute("ALTER TABLE laps OWNER TO django")
    mappings = mappings_for(empty_source_db, ["laps"])
    mappings[0].column(column).target_type = new_type
    report = run_migration(
        empty_source_db.endpoint,
        target_db.endpoint,
        mappings,
        MigrationOptions(rejects_dir=str(tmp_path / "rejects"), verify=False),
        lambda event: None,
    )
    assert report.exit_code == 2, report.headline()
    assert f"laps.{column}: {new_type} keeps {kept}" in report.message, report.message
    assert target_db.rows("SELECT count(*) FROM pg_class WHERE relname = 'laps'") == [(0,)]
