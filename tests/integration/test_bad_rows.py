"""Bad rows are isolated: each one lands in the reject files with its row number and reason,
everything else loads, and the exit code says so (3)."""

from __future__ import annotations

import csv
import json

from coursemig_gui.cli import main


def _arrange(source_db, target_db) -> dict:
    with source_db.admin_connect() as conn:
        # a child whose parent is missing: Django's FK would refuse it, so its trigger is
        # switched off for the one insert (the FK itself stays, so the target gets it too)
        conn.execute("ALTER TABLE courses_course DISABLE TRIGGER ALL")
        conn.execute(
            "INSERT INTO courses_course (pid, slug, program_id, course_number, title) "
            "VALUES ('ORPHAN1', 'orphan-1', 'NOPE', '999', 'Orphan course')"
        )
        conn.execute("ALTER TABLE courses_course ENABLE TRIGGER ALL")
        first_program = conn.execute(
            "SELECT subject_code FROM courses_program ORDER BY ctid LIMIT 1"
        ).fetchone()[0]
        long_rooms = [
            (n, slug)
            for n, (slug, room) in enumerate(
                conn.execute(
                    "SELECT slug, room FROM courses_meetinglocation ORDER BY ctid"
                ).fetchall(),
                start=1,
            )
            if room is not None and len(room) > 5
        ]
        courses = conn.execute("SELECT count(*) FROM courses_course").fetchone()[0]
    with target_db.connect(autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE program (subject_code varchar(10) PRIMARY KEY, subject varchar(100))"
        )
        conn.execute("INSERT INTO program VALUES (%s, 'Already here')", [first_program])
        conn.execute(
            "CREATE TABLE meetinglocation (slug varchar(200) PRIMARY KEY, "
            "building varchar(100), room varchar(5))"
        )
    return {"program": first_program, "long_rooms": long_rooms, "courses": courses}


def test_bad_rows_go_to_reject_files(source_db, target_db, tmp_path):
    facts = _arrange(source_db, target_db)
    assert facts["long_rooms"], "sample data should have rooms longer than 5 characters"
    rejects = tmp_path / "rejects"
    report_file = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_program,courses_meetinglocation,courses_course",
            "--if-exists",
            "append",
            "--rejects-dir",
            str(rejects),
            "--max-rejects",
            "1000",
            "--json-report",
            str(report_file),
            "-q",
        ]
    )
    report = json.loads(report_file.read_text())
    assert code == 3, report
    by_target = {t["target"]: t for t in report["tables"]}
    assert by_target["program"]["rows_rejected"] == 1
    assert by_target["meetinglocation"]["rows_rejected"] == len(facts["long_rooms"])
    assert by_target["course"]["rows_rejected"] == 1
    for t in report["tables"]:
        assert t["rows_written"] + t["rows_rejected"] == t["rows_read"]

    with (rejects / "errors.csv").open(newline="", encoding="utf-8") as f:
        errors = list(csv.DictReader(f))
    program_errors = [e for e in errors if e["table"] == "program"]
    assert program_errors[0]["row"] == "1"
    assert program_errors[0]["sqlstate"] == "23505"
    assert "already in program" in program_errors[0]["problem"]
    room_errors = [e for e in errors if e["table"] == "meetinglocation"]
    assert [int(e["row"]) for e in room_errors] == [n for n, _ in facts["long_rooms"]]
    assert all(e["sqlstate"] == "22001" and e["column"] == "room" for e in room_errors)
    assert all("too long for meetinglocation.room" in e["problem"] for e in room_errors)
    course_errors = [e for e in errors if e["table"] == "course"]
    assert course_errors[0]["sqlstate"] == "23503"
    assert course_errors[0]["row"] == str(facts["courses"])  # inserted last, read last
    assert "NOPE" in course_errors[0]["problem"]

    # the reject files hold each row's original text, under a header
    room_file = (rejects / "meetinglocation.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert room_file[0] == "slug,building,room"
    assert {line.split(",")[0] for line in room_file[1:]} == {
        slug for _, slug in facts["long_rooms"]
    }
    assert "ORPHAN1" in (rejects / "course.rejected.csv").read_text(encoding="utf-8")
    # everything else loaded
    assert target_db.rows("SELECT count(*) FROM course")[0][0] == facts["courses"] - 1
    assert (
        target_db.rows("SELECT subject FROM program WHERE subject_code = %s", [facts["program"]])[
            0
        ][0]
        == "Already here"
    )


def test_stop_on_first_error_leaves_table_as_it_was(source_db, target_db, tmp_path):
    facts = _arrange(source_db, target_db)
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_meetinglocation",
            "--if-exists",
            "append",
            "--on-error",
            "stop",
            "--rejects-dir",
            str(tmp_path),
            "-q",
        ]
    )
    assert code == 1
    assert target_db.rows("SELECT count(*) FROM meetinglocation")[0][0] == 0
    assert facts["long_rooms"]


def test_orphan_found_after_the_load_is_isolated_by_a_second_pass(source_db, target_db, tmp_path):
    """Foreign keys of new tables are checked once after the load; when that check fails the
    table is loaded again with row-by-row checks, so the orphan still lands in the error log."""
    with source_db.admin_connect() as conn:
        conn.execute("ALTER TABLE courses_course DISABLE TRIGGER ALL")
        conn.execute(
            "INSERT INTO courses_course (pid, slug, program_id, course_number, title) "
            "VALUES ('ORPHAN2', 'orphan-2', 'NOPE', '999', 'Orphan course')"
        )
        conn.execute("ALTER TABLE courses_course ENABLE TRIGGER ALL")
    report_file = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_program,courses_course",
            "--rejects-dir",
            str(tmp_path / "r"),
            "--json-report",
            str(report_file),
            "-q",
        ]
    )
    report = json.loads(report_file.read_text())
    assert code == 3, report
    course = next(t for t in report["tables"] if t["target"] == "course")
    assert course["rows_rejected"] == 1
    assert course["verification"] == "match"
    with (tmp_path / "r" / "errors.csv").open(newline="", encoding="utf-8") as f:
        errors = list(csv.DictReader(f))
    assert len(errors) == 1  # the orphan, once: the first pass's findings are not kept
    assert "NOPE" in errors[0]["problem"] and errors[0]["row"] == str(course["rows_read"])
    fk = target_db.rows(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'course'::regclass AND contype = 'f'"
    )
    assert fk[0][0] == 1


def _migrate_rooms(source_db, target_db, rejects, report_file, *extra: str) -> tuple[int, dict]:
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_meetinglocation",
            "--if-exists",
            "append",
            "--rejects-dir",
            str(rejects),
            "--json-report",
            str(report_file),
            "-q",
            *extra,
        ]
    )
    return code, json.loads(report_file.read_text())


def test_a_table_failed_past_its_limit_says_how_many_rows_and_where_they_are(
    source_db, target_db, tmp_path
):
    """The row that broke the limit is counted with the others and the file is named: the
    report's figure is the number of rows in the file (it was one short, and the file
    unnamed). A clean run into the same folder then moves the earlier run's files aside, so
    none of them is taken for its own."""
    facts = _arrange(source_db, target_db)
    limit = 2
    assert len(facts["long_rooms"]) > limit + 1
    rejects = tmp_path / "rejects"
    code, report = _migrate_rooms(
        source_db, target_db, rejects, tmp_path / "r1.json", "--max-rejects", str(limit)
    )
    assert code == 1, report
    (table,) = report["tables"]
    assert table["status"] == "failed"
    listed = (rejects / "meetinglocation.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert table["rows_rejected"] == len(listed) - 1 == limit + 1  # the header aside
    assert table["reject_file"] == str(rejects / "meetinglocation.rejected.csv")
    assert str(rejects / "meetinglocation.rejected.csv") in table["message"]
    assert table["rows_read"] >= table["rows_rejected"]
    assert target_db.rows("SELECT count(*) FROM meetinglocation")[0][0] == 0

    with target_db.connect(autocommit=True) as conn:  # now every room fits
        conn.execute("ALTER TABLE meetinglocation ALTER COLUMN room TYPE varchar(200)")
    code, report = _migrate_rooms(source_db, target_db, rejects, tmp_path / "r2.json")
    assert code == 0, report
    assert not list(rejects.glob("*.rejected.csv")) and not (rejects / "errors.csv").exists()
    (earlier,) = rejects.glob("earlier-run-*")
    assert (earlier / "meetinglocation.rejected.csv").read_text(encoding="utf-8").splitlines() == (
        listed
    )
    assert (earlier / "errors.csv").exists()


def test_a_skipped_rows_file_fixed_and_imported_from_its_folder_is_never_moved_or_overwritten(
    source_db, target_db, tmp_path, capsys
):
    """'Fix and import that file': imported with the same skipped-rows folder, its rows would be
    skipped into the file being read, so the run is refused and the file left where it is;
    with another folder it loads."""
    _arrange(source_db, target_db)
    rejects = tmp_path / "rejects"
    code, _ = _migrate_rooms(
        source_db, target_db, rejects, tmp_path / "r1.json", "--max-rejects", "2"
    )
    assert code == 1
    fixed = rejects / "meetinglocation.rejected.csv"
    rows = fixed.read_text(encoding="utf-8")
    with target_db.connect(autocommit=True) as conn:
        conn.execute("ALTER TABLE meetinglocation ALTER COLUMN room TYPE varchar(200)")
    args = ["import", str(rejects), "--target", target_db.url, "--tables",
            "meetinglocation.rejected", "--rename-table",
            "meetinglocation.rejected=meetinglocation", "--if-exists", "append", "-q"]  # fmt: skip
    capsys.readouterr()
    assert main([*args, "--rejects-dir", str(rejects)]) == 2
    assert "is both a file this import reads" in capsys.readouterr().err
    assert fixed.read_text(encoding="utf-8") == rows  # neither moved nor written over
    assert main([*args, "--rejects-dir", str(tmp_path / "elsewhere")]) == 0
    assert (
        target_db.rows("SELECT count(*) FROM meetinglocation")[0][0] == len(rows.splitlines()) - 1
    )
