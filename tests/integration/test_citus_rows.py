"""Rows on the real Citus cluster: keys already in a distributed or a reference table come back
from the workers as SQLSTATE XX000 without a line number; exactly those rows are rejected, and a
right the non-superuser ``citus`` lacks is told in a sentence."""

from __future__ import annotations

import csv
import json

from citus_cluster import placements_in_cluster
from psycopg import sql
from test_citus import acceptance

from coursemig_gui.cli import main
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.options import MigrationOptions


def _keep_only(citus_db, table: str, key: str, keep: list[str]) -> None:
    with citus_db.admin_connect() as conn:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE NOT ({} = ANY(%s))").format(
                sql.Identifier(table), sql.Identifier(key)
            ),
            [keep],
        )
        conn.execute(
            sql.SQL("UPDATE {} SET {} = {} WHERE true").format(
                sql.Identifier(table), sql.Identifier(key), sql.Identifier(key)
            )
        )


def test_citus_duplicates_on_distributed_and_reference_tables_are_rejected_exactly(
    source_db, citus_db, tmp_path
):
    # course distributed by pid, meetingtime a reference table (both made by a first run)
    first = run_migration(
        source_db.endpoint, citus_db.endpoint, acceptance(source_db), MigrationOptions()
    )
    assert first.exit_code == 0, first.headline()
    # in the source's read order, every 300th course and every 5th meeting time stays in the
    # target: loading the tables again must reject exactly those rows
    courses = [r[0] for r in source_db.rows("SELECT pid FROM courses_course ORDER BY ctid")]
    times = [r[0] for r in source_db.rows("SELECT slug FROM courses_meetingtime ORDER BY ctid")]
    dup_courses = {n: courses[n - 1] for n in range(1, len(courses) + 1, 300)}
    dup_times = {n: times[n - 1] for n in range(3, len(times) + 1, 50)}
    assert len(dup_courses) >= 10 and len(dup_times) >= 2
    _keep_only(citus_db, "course", "pid", list(dup_courses.values()))
    _keep_only(citus_db, "meetingtime", "slug", list(dup_times.values()))

    rejects, report_file = tmp_path / "rejects", tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            citus_db.url,
            "-q",
            "--tables",
            "courses_meetingtime,courses_course",
            "--if-exists",
            "append",
            "--rejects-dir",
            str(rejects),
            "--max-rejects",
            "1000",
            "--json-report",
            str(report_file),
        ]
    )
    report = json.loads(report_file.read_text())
    assert code == 3, report
    by_target = {t["target"]: t for t in report["tables"]}
    assert by_target["course"]["rows_rejected"] == len(dup_courses)
    assert by_target["meetingtime"]["rows_rejected"] == len(dup_times)
    for t in report["tables"]:
        assert t["rows_written"] + t["rows_rejected"] == t["rows_read"]

    with (rejects / "errors.csv").open(newline="", encoding="utf-8") as f:
        errors = list(csv.DictReader(f))
    for table, key, dups, sqlstate in (
        ("course", "pid", dup_courses, "XX000"),
        ("meetingtime", "slug", dup_times, "23505"),
    ):
        found = [e for e in errors if e["table"] == table]
        assert [int(e["row"]) for e in found] == list(dups), table
        # what Citus reports for the row once it is sent alone: XX000 from a distributed table's
        # shard, 23505 (with the shard's own COPY line) from a reference table's
        assert {e["sqlstate"] for e in found} == {sqlstate}
        assert [e["problem"] for e in found] == [
            f"A row with {key} = {value} is already in {table}. Choose 'Replace all rows' "
            "(--if-exists replace) or remove the duplicate."
            for value in dups.values()
        ]
        with (rejects / f"{table}.rejected.csv").open(newline="", encoding="utf-8") as f:
            rejected = list(csv.DictReader(f))
        assert [r[key] for r in rejected] == list(dups.values())
    # every other row loaded, once
    assert citus_db.rows("SELECT count(*), count(DISTINCT pid) FROM course")[0] == (
        len(courses),
        len(courses),
    )
    assert citus_db.rows("SELECT count(*) FROM meetingtime")[0][0] == len(times)


def test_citus_a_right_the_role_lacks_is_a_sentence(source_db, citus_db):
    """Azure's ``citus`` can create tables in ``public``; here that right is taken away, and the
    run says so in a sentence, and writes nothing."""
    with citus_db.admin_connect() as conn:
        conn.execute("REVOKE CREATE ON SCHEMA public FROM citus")
    try:
        report = run_migration(
            source_db.endpoint, citus_db.endpoint, acceptance(source_db), MigrationOptions()
        )
    finally:
        with citus_db.admin_connect() as conn:
            conn.execute("GRANT CREATE ON SCHEMA public TO citus")
    assert report.exit_code == 1
    assert report.headline() == (
        "0 of 4 tables copied, 4 failed (program, course, meetinglocation, meetingtime)"
    )
    course = next(t for t in report.tables if t.target == "course")
    assert course.message == (
        "course could not be created as a distributed table, so it was not copied. This user has "
        'no permission to use or create tables in schema "public". Ask the database owner to '
        "grant it (GRANT USAGE, CREATE ON SCHEMA)."
    )
    assert "Traceback" not in course.message and "permission denied" in course.detail
    assert placements_in_cluster(citus_db) == {}
