"""Verification on the servers is exactly as strict as reading every row back: one changed byte,
NULL for an empty string, or a missing or extra row in the target makes it hand over to the
client-side check (which then says MISMATCH), and a faithful copy is verified without a row
crossing the network."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.server_checksum import (
    NO_ROWS,
    ServerCheck,
    ServerVerdict,
    Sums,
    server_check,
    server_checksum,
    verify_on_servers,
)
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.engine.verify import table_checksum, verify_copy
from coursemig_gui.core.mapping import default_mapping
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import TableReport, Verification
from coursemig_gui.core.transfer import LoadResult


@pytest.fixture
def copied(source_db, target_db, tmp_path) -> Iterator[tuple]:
    """courses_course copied to the target's ``course``; an engine session on each side, the
    source inside a snapshot like the engine's."""
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_course",
            "--no-foreign-keys",
            "--no-verify",
            "-q",
        ]
    )
    assert code == 0
    src = open_session(source_db.endpoint)
    tgt = open_session(target_db.endpoint)
    src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    table = read_catalog(src).table("courses_course")
    tm = default_mapping(table)
    assert tm.target == "course"
    rows = source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    try:
        yield src, tgt, tm, rows
    finally:
        src.close()
        tgt.close()


def _check(tm, before: Sums | None = NO_ROWS) -> ServerCheck:
    types = [c.target_type for c in tm.included_columns]
    check = server_check(MigrationOptions(), tm, "binary", types, types, [0] * len(types))
    check.before = before
    return check


def _verify(copied, rows_written: int | None = None, **kw) -> tuple[bool, TableReport]:
    src, tgt, tm, rows = copied
    report = TableReport(tm.source, tm.target)
    written = rows if rows_written is None else rows_written
    result = LoadResult(rows_written=written)
    verdict = verify_on_servers(src, tgt, _check(tm, **kw), report, result)
    return verdict == ServerVerdict.MATCH, report


def test_a_faithful_copy_is_verified_on_the_servers(copied):
    ok, report = _verify(copied)
    assert ok
    assert report.verification == Verification.MATCH
    assert report.verification_detail == f"{copied[3]} rows; content checksum matches"


@pytest.mark.parametrize(
    "change",
    [
        # one byte of one value in one row
        "UPDATE course SET title = overlay(title placing 'Z' from 3 for 1) "
        "WHERE pid = (SELECT min(pid) FROM course WHERE title NOT LIKE '__Z%')",
        # NULL where the source has an empty string, and the other way round
        "UPDATE course SET credit = NULL WHERE pid = (SELECT min(pid) FROM course "
        "WHERE credit = '')",
        "UPDATE course SET notes = '' WHERE pid = (SELECT min(pid) FROM course "
        "WHERE notes IS NULL)",
        # two values swapped between columns of one row
        "UPDATE course SET hours = credit, credit = hours WHERE pid = (SELECT min(pid) FROM "
        "course WHERE credit IS DISTINCT FROM hours)",
        # two rows swapping one value (the multiset of values per column stays the same)
        "WITH a AS (SELECT pid, title FROM course ORDER BY pid LIMIT 1), "
        "b AS (SELECT pid, title FROM course WHERE title <> (SELECT title FROM a) "
        "ORDER BY pid LIMIT 1) "
        "UPDATE course SET title = CASE WHEN course.pid = a.pid THEN b.title ELSE a.title END "
        "FROM a, b WHERE course.pid IN (a.pid, b.pid)",
    ],
    ids=["one-byte", "null-for-empty", "empty-for-null", "columns-swapped", "rows-swapped"],
)
def test_any_difference_goes_to_the_client_check_which_says_mismatch(copied, target_db, change):
    src, tgt, tm, rows = copied
    with target_db.admin_connect() as conn:
        assert conn.execute(change).rowcount >= 1
    ok, report = _verify(copied)
    assert not ok
    assert report.verification == Verification.NOT_RUN  # left to the client-side check
    # what the engine then does: the client-side check, against the source's rows as sent
    columns = [c.source for c in tm.included_columns]
    source = psycopg.sql.Identifier("public", "courses_course")
    count, source_sum = table_checksum(src, source, columns, "binary")
    assert count == rows
    types = [c.target_type for c in tm.included_columns]
    verify_copy(tgt, "public", tm, report, rows, lambda: source_sum, "binary", types, types, 0)
    assert report.verification == Verification.MISMATCH


def test_a_missing_row_and_an_extra_row_are_not_a_match(copied, target_db):
    with target_db.admin_connect() as conn:
        conn.execute("DELETE FROM course WHERE pid = (SELECT min(pid) FROM course)")
    assert not _verify(copied)[0]
    assert not _verify(copied, rows_written=copied[3] - 1)[0]


def test_it_stands_aside_where_it_would_be_less_strict(copied):
    """Rows there before that could not be hashed, or rejected rows it did not keep: the
    client-side check decides."""
    src, tgt, tm, rows = copied
    assert not _verify(copied, before=None)[0]
    result = LoadResult(rows_written=rows - 1, rows_rejected=1, rejected_rows_kept=False)
    report = TableReport(tm.source, tm.target)
    assert verify_on_servers(src, tgt, _check(tm), report, result) == ServerVerdict.NOT_MADE


def test_the_sum_does_not_depend_on_the_order_of_rows(copied):
    src, tgt, tm, rows = copied
    columns = [c.target for c in tm.included_columns]
    table = psycopg.sql.Identifier("course")
    first = server_checksum(tgt, table, columns)
    reordered = psycopg.sql.SQL("(SELECT * FROM course ORDER BY random()) AS r")
    assert server_checksum(tgt, reordered, columns) == first
    assert first.rows == rows


def test_every_sample_table_is_verified_on_the_servers(source_db, target_db):
    """Times, numbers, booleans, NULLs, the CSV-hostile texts of the sample: both servers write
    each value's text the same way under the session settings, so every table agrees there
    (and does not fall back to reading the rows back)."""
    args = ["--source", source_db.url, "--target", target_db.url, "--app", "courses"]
    assert main(["migrate", *args, "--no-verify", "-q"]) == 0
    with open_session(source_db.endpoint) as src, open_session(target_db.endpoint) as tgt:
        src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        catalog = read_catalog(src)
        tables = [t for t in catalog.tables if t.name.startswith("courses_")]
        assert len(tables) >= 9
        for table in tables:
            tm = default_mapping(table)
            rows = source_db.rows(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(
                    psycopg.sql.Identifier(table.name)
                )
            )[0][0]
            report = TableReport(tm.source, tm.target)
            result = LoadResult(rows_written=rows)
            types = [c.target_type for c in tm.included_columns]
            oids = [table.column(c.source).type_oid for c in tm.included_columns]
            check = server_check(MigrationOptions(), tm, "binary", types, types, oids)
            verdict = verify_on_servers(src, tgt, check, report, result)
            assert verdict == ServerVerdict.MATCH, table.name
