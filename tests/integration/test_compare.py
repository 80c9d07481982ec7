"""Issue 18: ``coursemig compare`` after a real migration, through the profile's renames."""

from __future__ import annotations

import csv
import io
import json

import pytest

from coursemig_gui.cli import main


@pytest.fixture
def migrated(source_db, target_db, tmp_path, monkeypatch):
    """The courses app copied with ``courses_course`` -> ``course`` and ``end`` -> ``end_time``;
    returns the saved profile."""
    monkeypatch.setenv("PGPASSWORD", target_db.password)  # the profile itself has no password
    profile = tmp_path / "courses.json"
    assert main(["plan", "--source", source_db.url, "--target", target_db.url, "--app", "courses",
                 "--rename-column", "courses_meetingtime.start=start_time",
                 "--rename-column", "courses_meetingtime.end=end_time",
                 "--output", str(profile), "-q"]) == 0  # fmt: skip
    assert main(["run", str(profile), "-q"]) == 0
    return profile


def _compare(profile, tmp_path, *extra) -> tuple[int, dict]:
    out = tmp_path / "comparison.json"
    code = main(["compare", str(profile), "--json", str(out), "-q", *extra])
    return code, json.loads(out.read_text())


def _table(report: dict, target: str) -> dict:
    return next(t for t in report["tables"] if t["target"] == target)


def test_clean_migration_compares_identical(migrated, tmp_path, source_db):
    code, report = _compare(migrated, tmp_path)
    assert code == 0, report
    assert report["tables"] and all(t["status"] == "identical" for t in report["tables"]), report
    course = _table(report, "course")
    expected = source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    assert course["identical"] == course["source_rows"] == course["target_rows"] == expected
    assert course["key_kind"] == "primary key" and course["key_columns"] == ["pid"]
    assert course["verdict"].startswith(f"Identical: all {expected:,} rows match")


def test_changed_deleted_and_added_rows_are_reported_with_keys_columns_and_values(
    migrated, tmp_path, target_db
):
    with target_db.admin_connect() as conn:
        slug = conn.execute("SELECT slug FROM meetingtime ORDER BY slug LIMIT 1").fetchone()[0]
        old_end = conn.execute(
            "SELECT end_time FROM meetingtime WHERE slug = %s", [slug]
        ).fetchone()[0]
        conn.execute("UPDATE meetingtime SET end_time = '2359' WHERE slug = %s", [slug])
        # a course no other table refers to, so deleting it breaks no foreign key
        pid, title = conn.execute(
            "SELECT pid, title FROM course c WHERE NOT EXISTS (SELECT 1 FROM section s "
            "WHERE s.course_id = c.pid) AND NOT EXISTS (SELECT 1 FROM coursesectionlink l "
            "WHERE l.course_id = c.pid) ORDER BY pid LIMIT 1"
        ).fetchone()
        conn.execute("DELETE FROM course WHERE pid = %s", [pid])
        program = conn.execute("SELECT subject_code FROM program LIMIT 1").fetchone()[0]
        conn.execute(
            "INSERT INTO course (pid, slug, program_id, course_number, title) "
            "VALUES ('ZZZ-added', 'zzz-added', %s, '999', 'Added by hand')",
            [program],
        )
    code, report = _compare(migrated, tmp_path)
    assert code == 3, report
    changed = {t["target"]: t for t in report["tables"] if t["status"] != "identical"}
    assert set(changed) == {"meetingtime", "course"}, report["headline"]

    meetingtime = changed["meetingtime"]
    assert (meetingtime["different"], meetingtime["only_in_source"],
            meetingtime["only_in_target"]) == (1, 0, 0)  # fmt: skip
    [row] = meetingtime["rows"]
    assert row["kind"] == "different" and row["key"] == {"slug": slug}
    assert row["columns"] == [{"column": "end", "target_column": "end_time",
                               "source_value": old_end, "target_value": "2359"}]  # fmt: skip

    course = changed["course"]
    assert (course["different"], course["only_in_source"], course["only_in_target"]) == (0, 1, 1)
    assert course["identical"] == course["source_rows"] - 1 == course["target_rows"] - 1
    rows = {r["kind"]: r for r in course["rows"]}
    assert rows["only in source"]["key"] == {"pid": pid}
    assert rows["only in source"]["values"]["title"] == title
    assert rows["only in target"]["key"] == {"pid": "ZZZ-added"}
    assert rows["only in target"]["values"]["title"] == "Added by hand"
    assert rows["only in target"]["values"]["credit"] is None
    assert course["verdict"].startswith(
        "Different: 1 row only in the source, 1 row only in the target"
    )

    # the same findings in the manager's report and the spreadsheet
    html_path, csv_path = tmp_path / "report.html", tmp_path / "report.csv"
    assert main(["compare", str(migrated), "--html", str(html_path), "--csv", str(csv_path),
                 "-q"]) == 3  # fmt: skip
    page = html_path.read_text()
    assert target_db.dbname in page and "Compared on" in page
    assert "end → end_time" in page and "2359" in page and "ZZZ-added" in page
    lines = list(csv.reader(io.StringIO(csv_path.read_text())))
    assert ["meetingtime" in line[1] and line[2] == "different" and line[4] == "end"
            and line[6] == "2359" for line in lines].count(True) == 1  # fmt: skip


def test_shown_rows_are_capped_but_all_are_counted(migrated, tmp_path, target_db):
    with target_db.admin_connect() as conn:
        changed = conn.execute("UPDATE program SET subject = subject || '!'").rowcount
    code, report = _compare(migrated, tmp_path, "--shown-rows", "5")
    assert code == 3
    program = _table(report, "program")
    assert program["different"] == changed > 5
    assert len(program["rows"]) == 5
    assert all(r["columns"][0]["column"] == "subject" for r in program["rows"])


def test_table_without_a_key_is_compared_as_a_multiset(source_db, target_db, tmp_path, monkeypatch):
    with source_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE visits (who text, room text, minutes int)")
        conn.execute("INSERT INTO visits VALUES ('ann', 'A1', 10), ('ann', 'A1', 10), "
                     "('bob', NULL, 5), ('cy', '', 7)")  # fmt: skip
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    profile = tmp_path / "visits.json"
    assert main(["plan", "--source", source_db.url, "--target", target_db.url, "--tables",
                 "visits", "--output", str(profile), "-q"]) == 0  # fmt: skip
    assert main(["run", str(profile), "-q"]) == 0
    code, report = _compare(profile, tmp_path)
    assert code == 0, report
    visits = _table(report, "visits")
    assert visits["key_kind"] == "" and visits["identical"] == 4
    assert "as whole rows" in visits["verdict"]

    with target_db.admin_connect() as conn:  # one duplicate gone, NULL made empty
        conn.execute("DELETE FROM visits WHERE ctid = (SELECT min(ctid) FROM visits "
                     "WHERE who = 'ann')")  # fmt: skip
        conn.execute("UPDATE visits SET room = '' WHERE who = 'bob'")
    code, report = _compare(profile, tmp_path)
    assert code == 3
    visits = _table(report, "visits")
    assert (visits["identical"], visits["only_in_source"], visits["only_in_target"]) == (2, 2, 1)
    shown = sorted((r["kind"], r["values"]["who"], r["values"]["room"]) for r in visits["rows"])
    assert shown == [("only in source", "ann", "A1"), ("only in source", "bob", None),
                     ("only in target", "bob", "")]  # fmt: skip


def test_missing_target_table_cannot_be_compared(migrated, tmp_path, target_db):
    with target_db.admin_connect() as conn:
        conn.execute("DROP TABLE coursesectionlink_sections")
    code, report = _compare(migrated, tmp_path)
    assert code == 1
    table = _table(report, "coursesectionlink_sections")
    assert table["status"] == "could not compare"
    assert table["verdict"] == (
        "Could not compare: The target has no table coursesectionlink_sections."
    )


def test_report_says_every_table_was_compared_only_when_each_was(migrated, tmp_path, target_db):
    """The manager's page said "Every row of every table was compared" whatever happened: with a
    table missing from the target, and with no connection at all."""
    every = "Every row of every table was compared"
    page = tmp_path / "report.html"
    assert main(["compare", str(migrated), "--html", str(page), "-q"]) == 0
    assert every in page.read_text()

    with target_db.admin_connect() as conn:
        conn.execute("DROP TABLE coursesectionlink_sections")
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                              ).fetchone()[0]  # fmt: skip
    assert main(["compare", str(migrated), "--html", str(page), "-q"]) == 1
    text = page.read_text()
    assert every not in text
    assert f"Only {tables} of {tables + 1} tables were compared, every row of each" in text
    assert "The others were not compared (see their verdicts)." in text


def test_report_of_a_comparison_without_connection_says_nothing_was_compared(
    migrated, tmp_path, monkeypatch
):
    monkeypatch.setenv("PGPASSWORD", "wrong")
    page = tmp_path / "report.html"
    assert main(["compare", str(migrated), "--html", str(page), "-q"]) == 1
    text = page.read_text()
    assert "Every row of every table was compared" not in text
    assert "No table was compared." in text


def test_unreadable_profile_is_a_usage_error(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_no_connection_is_could_not_compare(migrated, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PGPASSWORD", "wrong")
    code, report = _compare(migrated, tmp_path)
    assert code == 1 and report["message"]
    assert "Traceback" not in capsys.readouterr().err


def test_retyped_columns_compare_on_meaning_and_text_keys_sort_alike(
    source_db, target_db, tmp_path, monkeypatch
):
    with source_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE rooms (code varchar(10) PRIMARY KEY, seats integer, "
                     "price numeric(6,2), opened date)")  # fmt: skip
        conn.execute("INSERT INTO rooms VALUES ('Éa', 10, 1.50, '2024-01-02'), "
                     "('a', 2, 3.00, NULL), ('B', 3, NULL, '1999-12-31'), ('z z', 4, 0.10, "
                     "'2000-02-29'), ('😀', 5, 12.25, '2020-06-01'), ('a-', 6, 1, NULL)")  # fmt: skip
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    profile = tmp_path / "rooms.json"
    assert main(["plan", "--source", source_db.url, "--target", target_db.url, "--tables",
                 "rooms", "--output", str(profile), "-q"]) == 0  # fmt: skip
    data = json.loads(profile.read_text())
    retype = {"code": "text", "seats": "bigint", "price": "double precision", "opened": "text"}
    for column in data["tables"][0]["columns"]:
        column["target_type"] = retype[column["source"]]
    profile.write_text(json.dumps(data))
    assert main(["run", str(profile), "-q"]) == 0
    code, report = _compare(profile, tmp_path)
    assert code == 0, report
    assert _table(report, "rooms")["identical"] == 6

    with target_db.admin_connect() as conn:
        conn.execute("UPDATE rooms SET price = 1.51 WHERE code = 'Éa'")
    code, report = _compare(profile, tmp_path)
    [row] = _table(report, "rooms")["rows"]
    assert row["key"] == {"code": "Éa"}
    assert row["columns"] == [{"column": "price", "target_column": "price",
                               "source_value": "1.50", "target_value": "1.51"}]  # fmt: skip


def test_rows_sharing_a_key_in_the_target_are_shown_with_their_own_values(
    source_db, target_db, tmp_path, monkeypatch
):
    """A target table without the source's primary key can hold a key twice: the extra row was
    shown with the values of the first row found under that key (often the identical one)."""
    with source_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE rooms (id integer PRIMARY KEY, name text)")
        conn.execute("INSERT INTO rooms VALUES (1, 'first'), (2, 'second'), (3, 'third')")
    with target_db.connect(autocommit=True) as conn:  # made by hand, without the key
        conn.execute("CREATE TABLE rooms (id integer, name text)")
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    profile = tmp_path / "rooms.json"
    assert main(["plan", "--source", source_db.url, "--target", target_db.url, "--tables",
                 "rooms", "--if-exists", "append", "--output", str(profile), "-q"]) == 0  # fmt: skip
    assert main(["run", str(profile), "-q"]) == 0
    with target_db.connect(autocommit=True) as conn:  # the app writes keys already there
        conn.execute("INSERT INTO rooms VALUES (1, 'extra one'), (2, 'changed two'), "
                     "(2, 'another two')")  # fmt: skip
        conn.execute("DELETE FROM rooms WHERE name = 'second'")
    code, report = _compare(profile, tmp_path)
    assert code == 3, report
    rooms = _table(report, "rooms")
    assert (rooms["identical"], rooms["different"], rooms["only_in_source"],
            rooms["only_in_target"]) == (2, 1, 0, 2)  # fmt: skip
    shown = {(r["kind"], r["key"]["id"]): r for r in rooms["rows"]}
    assert sorted(shown) == [("different", "2"), ("only in target", "1"), ("only in target", "2")]
    assert shown[("only in target", "1")]["values"] == {"id": "1", "name": "extra one"}
    [change] = shown[("different", "2")]["columns"]
    assert change["source_value"] == "second"
    # which of the two rows under key 2 pairs with the source's is arbitrary; each shows once
    extra = shown[("only in target", "2")]["values"]["name"]
    assert sorted([change["target_value"], extra]) == ["another two", "changed two"]


def test_target_rows_with_an_empty_key_are_listed_with_their_values(
    source_db, target_db, tmp_path, monkeypatch
):
    """A target table without the source's key can hold rows with no key at all: they were
    counted as only in the target but never listed, so the page read 'Showing the first 0 of 2
    differences'."""
    with source_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE desks (id integer PRIMARY KEY, name text)")
        conn.execute("INSERT INTO desks VALUES (1, 'first'), (2, 'second')")
    with target_db.connect(autocommit=True) as conn:  # made by hand, without the key
        conn.execute("CREATE TABLE desks (id integer, name text)")
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    profile = tmp_path / "desks.json"
    assert main(["plan", "--source", source_db.url, "--target", target_db.url, "--tables",
                 "desks", "--if-exists", "append", "--output", str(profile), "-q"]) == 0  # fmt: skip
    assert main(["run", str(profile), "-q"]) == 0
    with target_db.connect(autocommit=True) as conn:  # the app writes rows without a key
        conn.execute("INSERT INTO desks VALUES (NULL, 'no id'), (NULL, NULL)")
    page = tmp_path / "comparison.html"
    code, report = _compare(profile, tmp_path, "--html", str(page))
    assert code == 3, report
    desks = _table(report, "desks")
    assert (desks["identical"], desks["only_in_target"]) == (2, 2)
    rows = desks["rows"]
    assert [(r["kind"], r["key"]) for r in rows] == [("only in target", {"id": None})] * 2
    assert sorted(r["values"]["name"] or "" for r in rows) == ["", "no id"]
    assert "Showing the first" not in page.read_text()
