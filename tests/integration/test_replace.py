"""'Replace all rows' on tables that other tables refer to: a rerun of the same migration works,
and a replace that would orphan rows elsewhere is refused with the table left as it was."""

from __future__ import annotations

import json

from coursemig_gui.cli import main


def _migrate(source_db, target_db, tmp_path, *extra: str) -> dict:
    report = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "-q",
            "--json-report",
            str(report),
            *extra,
        ]
    )
    data = json.loads(report.read_text())
    data["code"] = code
    return data


def test_rerun_with_replace_refills_every_table(source_db, target_db, tmp_path):
    assert _migrate(source_db, target_db, tmp_path, "--app", "courses")["code"] == 0
    with target_db.admin_connect() as conn:
        conn.execute("UPDATE course SET title = 'changed in the target'")
    again = _migrate(source_db, target_db, tmp_path, "--app", "courses", "--if-exists", "replace")
    assert again["code"] == 0, again
    assert all(t["verification"] == "match" for t in again["tables"])
    assert (
        target_db.rows("SELECT count(*) FROM course WHERE title = 'changed in the target'")[0][0]
        == 0
    )
    # the foreign keys that were set aside are back
    fks = target_db.rows(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'program'::regclass"
    )
    assert fks[0][0] >= 2


def test_replace_that_would_orphan_rows_is_refused(source_db, target_db, tmp_path):
    assert _migrate(source_db, target_db, tmp_path, "--app", "courses")["code"] == 0
    with target_db.admin_connect() as conn:
        conn.execute("INSERT INTO program VALUES ('ZZZ', 'Only in the target')")
        conn.execute(
            "INSERT INTO course (pid, slug, program_id, course_number, title) "
            "VALUES ('T1', 't-1', 'ZZZ', '1', 'Refers to ZZZ')"
        )
    before = target_db.rows("SELECT count(*) FROM program")[0][0]
    result = _migrate(
        source_db, target_db, tmp_path, "--tables", "courses_program", "--if-exists", "replace"
    )
    assert result["code"] == 1
    program = result["tables"][0]
    assert program["status"] == "failed"
    assert "would leave rows of course without the program they refer to" in program["message"]
    assert "ZZZ" in program["message"]
    assert target_db.rows("SELECT count(*) FROM program")[0][0] == before
    fks = target_db.rows(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'program'::regclass"
    )
    assert fks[0][0] >= 2
