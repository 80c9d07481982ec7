"""`coursemig migrate` end to end: Django-made source -> TLS/SCRAM target, row by row."""

from __future__ import annotations

import json

import pytest

from coursemig_gui.cli import main

COURSE_TABLES = [
    "program",
    "meetingtime",
    "meetinglocation",
    "course",
    "degree",
    "section",
    "specialization",
    "coursesectionlink",
    "coursesectionlink_sections",
]


def _rows(db, table: str, columns: list[str], key: str) -> list[tuple]:
    from psycopg import sql

    query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table), sql.Identifier(key)
    )
    return db.rows(query)


def test_migrate_courses_app_into_seed_schema(source_db, target_db, tmp_path):
    report = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--app",
            "courses",
            "--rename-column",
            "courses_meetingtime.start=start_time",
            "--rename-column",
            "courses_meetingtime.end=end_time",
            "--json-report",
            str(report),
        ]
    )
    data = json.loads(report.read_text())
    assert code == 0, data
    targets = {t["target"] for t in data["tables"]}
    assert set(COURSE_TABLES) <= targets
    for t in data["tables"]:
        assert t["status"] == "done", t
        assert t["verification"] == "match", t
        assert t["rows_read"] == t["rows_written"]
    # seed schema: meetingtime has start_time/end_time, course has program_id
    cols = [
        r[0]
        for r in target_db.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'meetingtime' "
            "ORDER BY ordinal_position"
        )
    ]
    assert "start_time" in cols and "end_time" in cols and "end" not in cols
    # row by row, nasty text included (NULL vs empty string too)
    course_cols = [
        r[0]
        for r in source_db.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'courses_course' "
            "ORDER BY ordinal_position"
        )
    ]
    assert _rows(source_db, "courses_course", course_cols, "pid") == _rows(
        target_db, "course", course_cols, "pid"
    )
    src = _rows(source_db, "courses_meetingtime", ["slug", "start", "end", "monday"], "slug")
    tgt = _rows(target_db, "meetingtime", ["slug", "start_time", "end_time", "monday"], "slug")
    assert src == tgt


@pytest.mark.parametrize("loaders", [2])
def test_parallel_loaders_give_same_rows(source_db, target_db, tmp_path, loaders):
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--app",
            "courses",
            "--loaders",
            str(loaders),
            "-q",
        ]
    )
    assert code == 0
    assert (
        target_db.rows("SELECT count(*) FROM course")[0][0]
        == source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    )


def test_new_tables_get_their_keys_after_the_load(source_db, target_db):
    assert (
        main(
            [
                "migrate",
                "--source",
                source_db.url,
                "--target",
                target_db.url,
                "--tables",
                "courses_program,courses_course",
                "-q",
            ]
        )
        == 0
    )
    kinds = target_db.rows(
        "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'course'::regclass ORDER BY contype, conname"
    )
    assert ("p", "PRIMARY KEY (pid)") in kinds
    assert ("u", "UNIQUE (slug)") in kinds
    assert any(kind == "f" and "REFERENCES program(subject_code)" in d for kind, d in kinds)
