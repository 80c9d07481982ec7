"""Distribution that fits Django schemas, on the real Citus cluster: the courses app cannot
distribute ``course`` while ``section`` (key ``crn``) refers to it. The refusal names the way
out, and each way out runs: ``course`` as a reference table, or a referring table whose key
allows it distributed by its foreign key, co-located with ``course``."""

from __future__ import annotations

import json

from citus_cluster import placements_in_cluster

from coursemig_gui.cli import main

REFERENCE = [
    "--reference",
    "program",
    "--reference",
    "meetingtime",
    "--reference",
    "meetinglocation",
]


def _migrate(source_db, citus_db, tmp_path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            citus_db.url,
            "-q",
            "--json-report",
            str(report),
            *extra,
        ]
    )
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_citus_course_distributed_in_the_courses_app_is_refused_with_the_way_out(
    source_db, citus_db, tmp_path, capsys
):
    code, report = _migrate(
        source_db, citus_db, tmp_path, "--app", "courses", "--distribute", "course=pid", *REFERENCE
    )
    assert code == 2  # the placements asked for cannot work: bad usage, nothing written
    err = capsys.readouterr().err
    assert (
        "section is a local table and refers to course, which is distributed. Citus accepts a "
        "foreign key from a local table to a distributed table but does not enforce it when rows "
        "of the distributed table are deleted, so it is not made. section cannot be distributed "
        "by course_id to keep it (its primary key (crn) does not include course_id), so make "
        "course a reference table (a copy on every node, for a table of modest size), or leave "
        "section out of this migration."
    ) in " ".join(err.split())
    assert placements_in_cluster(citus_db) == {}  # refused before anything was written

    # the way out the sentence names: course as a reference table
    code, report = _migrate(
        source_db, citus_db, tmp_path, "--app", "courses", "--reference", "course", *REFERENCE
    )
    assert code == 0, report
    assert all(t["verification"] == "match" for t in report["tables"])
    assert placements_in_cluster(citus_db)["course"][0] == "n"


def test_citus_a_referring_table_distributed_by_its_foreign_key(source_db, citus_db, tmp_path):
    """Where the referring table's key includes the foreign key's column (an enrollment keyed
    by course and student), it is distributed by it, co-located with course, and keeps it."""
    with source_db.admin_connect() as conn:
        conn.execute(
            "CREATE TABLE courses_enrollment (course_id varchar(30) NOT NULL REFERENCES "
            "courses_course (pid), student varchar(50) NOT NULL, PRIMARY KEY (course_id, student))"
        )
        conn.execute(
            "INSERT INTO courses_enrollment SELECT pid, 's' || n FROM courses_course, "
            "generate_series(1, 3) n"
        )
        conn.execute("GRANT SELECT ON courses_enrollment TO django")
    code, report = _migrate(
        source_db,
        citus_db,
        tmp_path,
        "--tables",
        "courses_program,courses_course,courses_enrollment",
        "--reference",
        "program",
        "--distribute",
        "course=pid",
        "--distribute",
        "enrollment=course_id",
    )
    assert code == 0, report
    assert all(t["verification"] == "match" for t in report["tables"])
    placed = placements_in_cluster(citus_db)
    assert placed["enrollment"][:2] == ("h", "course_id")
    assert placed["enrollment"][2] == placed["course"][2]  # co-located
    fks = citus_db.rows(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = 'enrollment'::regclass AND confrelid = 'course'::regclass"
    )
    assert fks[0][0] == 1
