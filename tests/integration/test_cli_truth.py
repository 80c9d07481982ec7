"""What `coursemig` says and returns is true, on real servers: the JSON report's path is checked
before anything runs and never keeps an older run's success, its ``exit_code`` is the process's,
impossible options and empty selections are refused with a sentence, the password hint names
the connection that failed, and the test run's notes reach the terminal."""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.connection_strings import parse_connection_string


def _migrate(source_db, target_db, *extra: str) -> int:
    return main(["migrate", "--source", source_db.url, "--target", target_db.url, *extra])


def _target_tables(target_db) -> list[str]:
    return [r[0] for r in target_db.rows("SELECT tablename FROM pg_tables WHERE schemaname = "
                                         "'public' ORDER BY 1")]  # fmt: skip


def _unwritable(tmp_path: Path) -> Path:
    """A file path no one may write: a read-only folder's, or for root (who may write
    anywhere on disk) one in /sys."""
    if os.geteuid() == 0:
        return Path("/sys/coursemig-report.json")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder / "report.json"


@pytest.mark.parametrize("where", ["under a file", "a folder", "unwritable", "a profile"])
def test_an_unusable_json_report_path_is_said_before_anything_runs(
    source_db, target_db, tmp_path, capsys, where
):
    (tmp_path / "a-file").write_text("kept")
    profile = tmp_path / "saved.json"
    profile.write_text('{"name": "Courses nightly", "tables": []}')  # not a report: kept
    path = {
        "under a file": tmp_path / "a-file" / "report.json",
        "a folder": tmp_path,
        "unwritable": _unwritable(tmp_path),
        "a profile": profile,
    }[where]
    code = _migrate(source_db, target_db, "--tables", "courses_program", "--json-report",
                    str(path))  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Nothing was run." in err
    if where == "a profile":  # a file the command may be about to read is never replaced
        assert "already holds something other than a CourseMig report" in err
    else:
        assert f"coursemig: The JSON report cannot be written to {path}: " in err
    assert {
        "under a file": f"{path.parent} is a file, not a folder",
        "a folder": "that is a folder; name a file in it",
        "unwritable": "permission denied",
        "a profile": "Name another file for --json-report",
    }[where] in err
    assert "Traceback" not in err and "copied" not in err
    assert _target_tables(target_db) == []  # nothing was written
    assert (tmp_path / "a-file").read_text() == "kept"
    assert profile.read_text() == '{"name": "Courses nightly", "tables": []}'


def test_a_json_report_in_a_folder_not_made_yet_is_written_there(
    source_db, target_db, tmp_path, capsys
):
    """As with the CSV and skipped-rows folders, the report's folder is made."""
    path = tmp_path / "reports" / "tonight" / "report.json"
    code = _migrate(source_db, target_db, "--tables", "courses_program", "--json-report",
                    str(path))  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert json.loads(path.read_text())["exit_code"] == 0


def test_json_exit_code_is_the_process_s_when_no_table_starts(source_db, target_db, tmp_path,
                                                              capsys, monkeypatch):  # fmt: skip
    """A wrong target password, and a saved migration whose table left the source: exit 2
    ("did not start") in the process and in the JSON."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    report = tmp_path / "report.json"
    report.write_text('{"headline": "All 9 tables copied and verified", "exit_code": 0}')
    wrong = target_db.server.url(target_db.user, target_db.dbname, "WRONG", sslmode="verify-full")
    code = main(["migrate", "--source", source_db.url, "--target", wrong, "--tables",
                 "courses_program", "--json-report", str(report)])  # fmt: skip
    err = capsys.readouterr().err
    data = json.loads(report.read_text())
    assert code == data["exit_code"] == 2, err
    assert 'did not accept the user name and password for user "citus"' in data["message"]
    assert err.count(data["message"]) == 1 and ".." not in err
    assert _target_tables(target_db) == []

    profile = tmp_path / "plan.json"
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    assert main(["plan", "--source", source_db.url, "--target", target_db.url, "--tables",
                 "courses_meetinglocation", "--output", str(profile), "-q"]) == 0  # fmt: skip
    with source_db.admin_connect() as conn:
        conn.execute("ALTER TABLE courses_meetinglocation RENAME TO gone")
    code = main(["run", str(profile), "--json-report", str(report), "-q"])
    data = json.loads(report.read_text())
    assert code == data["exit_code"] == 2, data
    assert data["message"].startswith("The migration cannot start:"), data
    assert _target_tables(target_db) == []


def test_a_password_hint_names_the_connection_that_failed(source_db, target_db, tmp_path, capsys,
                                                         monkeypatch):  # fmt: skip
    """A wrong target password given: no hint (the source's would send the reader to the wrong
    connection). The target's password found nowhere: the hint names citus@, the target."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    wrong = target_db.server.url(target_db.user, target_db.dbname, "WRONG", sslmode="verify-full")
    for given in ([], ["--password-from-stdin", "TARGET"]):
        monkeypatch.setattr("sys.stdin", io.StringIO("WRONG\n"))
        url = wrong if not given else parse_connection_string(wrong).settings.conninfo(None)
        code = main(["migrate", "--source", source_db.url, "--target", url, "--tables",
                     "courses_program", *given])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2, err
        assert 'did not accept the user name and password for user "citus"' in err
        assert f"{source_db.user}@" not in err, err
    no_password = parse_connection_string(target_db.url).settings.conninfo(None)
    code = main(["migrate", "--source", source_db.url, "--target", no_password, "--tables",
                 "courses_program"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"add a line for {target_db.user}@" in err
    assert f"{source_db.user}@" not in err


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--source-schema", "nosuch"], 'The source has no tables in the schema "nosuch" (or no '
         "schema of that name), so there is nothing to copy."),
        (["--tables", ","], "--tables takes table names separated by commas"),
        (["--tables", " "], "--tables takes table names separated by commas"),
    ],
)  # fmt: skip
def test_a_selection_of_no_table_is_refused(source_db, target_db, tmp_path, capsys, extra, said):
    report = tmp_path / "report.json"
    code = _migrate(source_db, target_db, *extra, "--json-report", str(report))
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"coursemig: {said}" in err
    assert "All 0" not in err and "copied" not in err and "Traceback" not in err
    data = json.loads(report.read_text())
    assert data["exit_code"] == 2 and data["tables"] == [] and said in data["message"]
    assert _target_tables(target_db) == []


def test_a_run_of_no_table_is_refused_by_the_engine(source_db, target_db):
    from coursemig_gui.core.engine.run import run_migration
    from coursemig_gui.core.options import MigrationOptions
    from coursemig_gui.core.outcome import Outcome

    report = run_migration(source_db.endpoint, target_db.endpoint, [], MigrationOptions())
    assert report.exit_code == Outcome.USAGE
    assert report.headline() == (
        "The migration names no table to copy, so it did not start. Choose tables."
    )


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--max-rejects", "-1", "a number of rows, 0 or more; -1 is not."),
        ("--max-reject-percent", "-5", "a percentage from 0 to 100; -5 is not."),
        ("--max-reject-percent", "150", "a percentage from 0 to 100; 150 is not."),
        ("--max-reject-percent", "nan", "a percentage from 0 to 100; nan is not."),
        ("--max-rejects", "many", "takes a number of rows; 'many' is not one."),
    ],
)
def test_impossible_limits_are_refused_while_parsing(capsys, flag, value, said):
    with pytest.raises(SystemExit) as stop:
        main(["migrate", "--source", "postgresql://nobody@192.0.2.1/x", "--target",
              "postgresql://nobody@192.0.2.1/y", flag, value])  # fmt: skip
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert f"argument {flag}: " in err and said in err, err


def test_impossible_limits_in_a_saved_migration_are_refused_before_it_starts():
    from coursemig_gui.core.engine.run import run_migration
    from coursemig_gui.core.options import MigrationOptions

    for options in (MigrationOptions(max_rejects=-1), MigrationOptions(max_reject_percent=101),
                    MigrationOptions(max_reject_percent=math.nan)):  # fmt: skip
        report = run_migration(None, None, [], options)
        assert report.exit_code == 2 and "is not." in report.message, report.message


def test_via_csv_naming_a_file_is_a_plain_sentence(source_db, target_db, tmp_path, capsys):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("x")
    for folder in (in_the_way, in_the_way / "csv"):
        code = _migrate(source_db, target_db, "--tables", "courses_program", "--via-csv",
                        str(folder))  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2, err
        assert (
            f"coursemig: The CSV folder {folder} cannot be made: {in_the_way} is a file, not a "
            "folder. Choose another folder for the CSV files."
        ) in err
        assert "makers" not in err and "Traceback" not in err
        assert _target_tables(target_db) == []
    assert in_the_way.read_text() == "x"


def test_one_table_and_an_existing_table_are_said_in_command_line_words(
    source_db, target_db, capsys
):
    assert _migrate(source_db, target_db, "--tables", "courses_program") == 0
    err = capsys.readouterr().err
    assert "The 1 table copied and verified." in err and "1 tables" not in err
    assert _migrate(source_db, target_db, "--tables", "courses_program") == 1
    err = capsys.readouterr().err
    assert (
        "The table program already exists in the target, so it was not touched. Choose "
        "--if-exists append, replace or skip for it, or give it another name."
    ) in err
    assert "'Add rows'" not in err
    assert "0 of 1 table copied, 1 failed (program)." in err


def test_the_wizard_keeps_its_own_words_for_an_existing_table(source_db, target_db):
    from coursemig_gui.core.engine.run import run_migration
    from coursemig_gui.core.mapping import default_mappings
    from coursemig_gui.core.options import MigrationOptions
    from coursemig_gui.core.profile import Profile

    assert _migrate(source_db, target_db, "--tables", "courses_program", "-q") == 0
    from coursemig_gui.core.catalog import read_catalog

    with source_db.connect() as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, ["courses_program"])
    report = run_migration(source_db.endpoint, target_db.endpoint, mappings, MigrationOptions())
    assert "Choose 'Add rows', 'Replace all rows' or 'Skip' for it" in report.tables[0].message
    # the words are the front's, not a choice: a saved migration does not keep them
    assert "if_exists_choices" not in Profile(options=MigrationOptions()).to_dict()["options"]


def test_a_test_run_s_notes_reach_the_terminal(source_db, target_db, tmp_path, capsys):
    code = _migrate(source_db, target_db, "--tables", "courses_program", "--via-csv",
                    str(tmp_path / "csv"), "--test-run")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert "note: A test run keeps no CSV files; the real run will write them." in err


def test_compare_says_a_failed_connection_once(source_db, target_db, tmp_path, capsys,
                                               monkeypatch):  # fmt: skip
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    profile = tmp_path / "plan.json"
    no_password = parse_connection_string(target_db.url).settings.conninfo(None)
    assert main(["plan", "--source", source_db.url, "--target", no_password, "--tables",
                 "courses_program", "--output", str(profile), "-q"]) == 0  # fmt: skip
    assert main(["run", str(profile), "-q"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("PGPASSWORD", "WRONG")
    code = main(["compare", str(profile), "--json", str(tmp_path / "compare.json")])
    err = capsys.readouterr().err
    message = json.loads((tmp_path / "compare.json").read_text())["message"]
    assert code == 1 and message, err
    assert err.count(message) == 1 and ".." not in err, err
