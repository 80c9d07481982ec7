"""Issue 9, item 2: the source changed since the migration was saved.

``coursemig plan`` saves a profile; the source then changes; ``coursemig run`` must say what
changed before anything is written, and the target stays empty.
"""

from __future__ import annotations

import pytest

from coursemig_gui.cli import main

pytestmark = pytest.mark.faults

TABLES = "courses_program,courses_course"


@pytest.fixture
def profile(source_db, target_db, tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", target_db.password)  # the profile itself has no password
    path = tmp_path / "saved.json"
    code = main(
        [
            "plan",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            TABLES,
            "--output",
            str(path),
            "-q",
        ]
    )
    assert code == 0
    return path


def _run(profile, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["run", str(profile)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _target_tables(target_db) -> list[str]:
    return [
        r[0]
        for r in target_db.rows(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE nspname = 'public' AND relkind = 'r'"
        )
    ]


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            "ALTER TABLE courses_course DROP COLUMN title",
            "The column title is no longer in courses_course",
        ),
        (
            "ALTER TABLE courses_course RENAME COLUMN title TO course_title",
            "The column title is no longer in courses_course",
        ),
        (
            "DROP TABLE courses_course CASCADE",
            "The table courses_course is no longer in the source database",
        ),
        (
            "ALTER TABLE courses_program ALTER COLUMN subject_code TYPE text",
            "courses_program.subject_code changed type from character varying",
        ),
    ],
    ids=["column-dropped", "column-renamed", "table-gone", "type-changed"],
)
def test_run_stops_before_writing(profile, source_db, target_db, capsys, change, expected):
    with source_db.admin_connect() as conn:
        conn.execute(change)
    code, err = _run(profile, capsys)
    assert code == 2, err
    assert "The migration cannot start" in err and expected in err, err
    assert _target_tables(target_db) == []  # nothing was created


def test_unchanged_profile_runs(profile, target_db, capsys):
    code, err = _run(profile, capsys)
    assert code == 0, err
    assert sorted(_target_tables(target_db)) == ["course", "program"]


def test_new_column_in_the_source_is_left_out_with_the_rest_copied(
    profile, source_db, target_db, capsys
):
    with source_db.admin_connect() as conn:
        conn.execute("ALTER TABLE courses_program ADD COLUMN added_later text DEFAULT 'x'")
    code, err = _run(profile, capsys)
    assert code == 0, err
    # said, not silent: every check compares only the columns copied
    assert "courses_program.added_later was added to the source since this migration" in err
    assert "so it is not copied" in err
    capsys.readouterr()
    assert main(["compare", str(profile)]) == 0
    said = capsys.readouterr()
    assert "columns not copied, so not compared: courses_program.added_later" in (
        said.out + said.err
    )
    assert "added_later" not in [
        r[0]
        for r in target_db.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'program'"
        )
    ]


def test_old_profile_without_source_types_still_loads(profile, capsys):
    import json

    data = json.loads(profile.read_text())
    for table in data["tables"]:
        for column in table["columns"]:
            column.pop("source_type", None)
    profile.write_text(json.dumps(data))
    code, err = _run(profile, capsys)
    assert code == 0, err
