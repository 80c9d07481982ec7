"""Issue 9, item 5: saved files and stored passwords.

A damaged profile, one from a newer CourseMig, one whose connection has no stored password, a
locked or missing keyring: each is a sentence (the CLI exits 2, never with a traceback), and
no file is overwritten without a backup. No password is ever written to a saved file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import keyring
import pytest
from keyring.errors import KeyringLocked

from coursemig_gui.cli import main
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.credentials import CredentialStore
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.profile import Profile

pytestmark = pytest.mark.faults


def _run(path: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["run", str(path)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


@pytest.fixture
def saved(source_db, target_db, tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    path = tmp_path / "profiles" / "courses.json"
    code = main(
        [
            "plan",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_program",
            "--output",
            str(path),
            "-q",
        ]
    )
    assert code == 0
    return path


# -- damaged and newer profiles -----------------------------------------------------------------

DAMAGED = {
    "truncated": ('{"format": "coursemig-profile", "version": 1, "name": "x", "tab', "damaged"),
    "not-json": ("\x00\x01 binary junk", "damaged"),
    "a-list": ("[1, 2, 3]", "is not a CourseMig saved migration"),
    "other-format": ('{"format": "something-else"}', "is not a CourseMig saved migration"),
    "bad-tables": (
        '{"format": "coursemig-profile", "version": 1, "tables": "oops"}',
        "has a setting CourseMig does not understand",
    ),
    "bad-options": (
        '{"format": "coursemig-profile", "version": 1, "options": []}',
        "has a setting CourseMig does not understand",
    ),
    "bad-route": (
        '{"format": "coursemig-profile", "version": 1, "options": {"route": "teleport"}}',
        "has a setting CourseMig does not understand",
    ),
    "bad-source": (
        '{"format": "coursemig-profile", "version": 1, "source": "localhost"}',
        "has a setting CourseMig does not understand",
    ),
    "bad-column": (
        '{"format": "coursemig-profile", "version": 1, "tables": [{"source": "a", '
        '"target": "a", "columns": [{"name": "x"}]}]}',
        "has a setting CourseMig does not understand",
    ),
    # hand-edited values of the wrong type: once a traceback, or "a problem inside CourseMig"
    # after connecting (exit 1), with tables already started
    "text-for-a-number": (
        '{"format": "coursemig-profile", "version": 2, "options": {"loaders": "3"}}',
        'options.loaders is "3", where a whole number goes',
    ),
    "text-for-batch-rows": (
        '{"format": "coursemig-profile", "version": 2, "options": {"batch_rows": "5000"}}',
        'options.batch_rows is "5000", where a whole number goes',
    ),
    "number-for-a-schema": (
        '{"format": "coursemig-profile", "version": 2, "options": {"target_schema": 5}}',
        "options.target_schema is 5, where text in quotes goes",
    ),
    "null-schema": (
        '{"format": "coursemig-profile", "version": 2, "options": {"source_schema": null}}',
        "options.source_schema is null, where text in quotes goes",
    ),
    "text-for-a-limit": (
        '{"format": "coursemig-profile", "version": 2, "options": {"max_rejects": "100"}}',
        'options.max_rejects is "100", where a whole number (or null) goes',
    ),
    "text-for-yes-no": (
        '{"format": "coursemig-profile", "version": 2, "options": {"verify": "no"}}',
        'options.verify is "no", where true or false goes',
    ),
    "text-for-a-column-choice": (
        '{"format": "coursemig-profile", "version": 2, "tables": [{"source": "a", "target": '
        '"a", "columns": [{"source": "x", "target": "x", "target_type": "text", '
        '"include": "no"}]}]}',
        'tables[0].columns[0].include is "no", where true or false goes',
    ),
    "newer": (
        '{"format": "coursemig-profile", "version": 99, "name": "from the future"}',
        "was saved by a newer CourseMig (format 99). Update CourseMig to open it.",
    ),
    "bad-version": (
        '{"format": "coursemig-profile", "version": "two"}',
        "has a setting CourseMig does not understand",
    ),
}


@pytest.mark.parametrize("name", list(DAMAGED))
def test_damaged_or_newer_profile_is_explained_and_left_alone(tmp_path, capsys, name):
    text, expected = DAMAGED[name]
    path = tmp_path / "broken.json"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(FriendlyError) as info:
        Profile.load(path)
    assert expected in info.value.message and "broken.json" in info.value.message
    code, err = _run(path, capsys)
    assert code == 2
    assert expected in err
    assert path.read_bytes() == text.encode("utf-8")  # untouched
    assert list(tmp_path.iterdir()) == [path]  # nothing written beside it


def test_missing_profile(tmp_path, capsys):
    code, err = _run(tmp_path / "nowhere.json", capsys)
    assert code == 2 and "nowhere.json does not exist" in err


def test_saving_over_a_profile_keeps_a_backup(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("not json, but the user's own file")
    Profile(name="first").save(path)
    assert (tmp_path / "p.json.bak").read_text() == "not json, but the user's own file"
    first = path.read_text()
    Profile(name="second").save(path)
    assert (tmp_path / "p.json.bak").read_text() == first
    assert Profile.load(path).name == "second"
    assert not list(tmp_path.glob("*.tmp"))


def test_plan_over_an_existing_profile_keeps_a_backup(saved, source_db, target_db):
    before = saved.read_text()
    code = main(
        [
            "plan",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_degree",
            "--output",
            str(saved),
            "-q",
        ]
    )
    assert code == 0
    assert saved.with_suffix(".json.bak").read_text() == before


# -- passwords ----------------------------------------------------------------------------------


def _password_forms(password: str) -> list[str]:
    return [password, quote(password), quote(password, safe=""), json.dumps(password)[1:-1]]


def test_no_saved_file_holds_a_password(saved, source_db, target_db, tmp_path, secret_keyring):
    """Every file a run leaves (profiles and their backups, reports, CSV files, reject files)
    is free of the password, though the password was typed into the URLs given to plan."""
    parsed = parse_connection_string(target_db.url)
    assert parsed.password == target_db.password  # it was in what the user pasted
    # the wizard's way: the password goes to the keyring, the profile is saved without it
    assert CredentialStore().save(parsed.settings, target_db.password)
    Profile(
        name="gui-like",
        source=parse_connection_string(source_db.url).settings,
        target=parsed.settings,
        tables=Profile.load(saved).tables,
    ).save(tmp_path / "profiles" / "gui.json")
    Profile(name="gui-like again").save(tmp_path / "profiles" / "gui.json")  # leaves a .bak
    code = main(["run", str(saved), "--json-report", str(tmp_path / "report.json"), "-q"])
    assert code == 0
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_degree",
            "--via-csv",
            str(tmp_path / "csv"),
            "--rejects-dir",
            str(tmp_path / "rejects"),
            "--json-report",
            str(tmp_path / "report2.json"),
            "-q",
        ]
    )
    assert code == 0
    home = Path(os.environ["COURSEMIG_HOME"])
    files = [p for folder in (tmp_path, home) for p in folder.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {
        "courses.json",
        "gui.json",
        "gui.json.bak",
        "report.json",
        "report2.json",
        "courses_degree.csv",
    } <= names, names
    for path in files:
        data = path.read_bytes().decode("utf-8", "replace")
        for form in _password_forms(target_db.password):
            assert form not in data, path
    for profile in ("courses.json", "gui.json", "gui.json.bak"):
        text = next(p for p in files if p.name == profile).read_text()
        assert '"password"' not in text


def test_profile_without_stored_password_asks_for_pgpassword(
    saved, target_db, capsys, secret_keyring
):
    code, err = _run(saved, capsys)
    assert code == 2
    assert "The server needs a password" in err
    assert "No password is saved in" in err and "citus@127.0.0.1" in err, err
    assert "django@" not in err  # the source needs none
    assert "PGPASSWORD" in err and ".pgpass" in err
    assert _target_tables(target_db) == []


def test_password_in_the_keyring_is_used(saved, target_db, capsys, secret_keyring):
    profile = Profile.load(saved)
    assert CredentialStore().save(profile.target, target_db.password)
    code, err = _run(saved, capsys)
    assert code == 0, err
    assert _target_tables(target_db) == ["program"]


def test_pgpassword_is_used(saved, target_db, capsys, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    code, err = _run(saved, capsys)
    assert code == 0, err


class _LockedKeyring(keyring.backend.KeyringBackend):
    priority = -1  # type: ignore[assignment]

    def get_password(self, service, username):
        raise KeyringLocked("the collection is locked")

    def set_password(self, service, username, password):
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service, username):
        raise KeyringLocked("the collection is locked")


@pytest.fixture
def locked_keyring():
    old = keyring.get_keyring()
    keyring.set_keyring(_LockedKeyring())
    yield
    keyring.set_keyring(old)


@pytest.fixture
def no_keyring():
    from keyring.backends import fail

    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(old)


def test_locked_keyring_is_explained(saved, target_db, capsys, locked_keyring):
    code, err = _run(saved, capsys)
    assert code == 2
    assert "is locked, so the password was not read" in err and "PGPASSWORD" in err, err
    assert _target_tables(target_db) == []
    store = CredentialStore()
    assert store.save(Profile.load(saved).target, "x") is False
    assert "is locked" in store.explanation()


def test_missing_keyring_is_explained(saved, target_db, capsys, no_keyring):
    code, err = _run(saved, capsys)
    assert code == 2
    assert "No secure password store on this computer" in err and "PGPASSWORD" in err, err
    assert _target_tables(target_db) == []


def _target_tables(target_db) -> list[str]:
    return [
        r[0]
        for r in target_db.rows(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        )
    ]


def test_profile_that_cannot_be_written(source_db, target_db, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    capsys.readouterr()
    code = main(
        [
            "plan",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_program",
            "--output",
            str(blocker / "p.json"),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "could not be used" in err and "a-file" in err, err
    assert blocker.read_text() == "not a folder"


# -- folders named relative to where the plan was made ------------------------------------------


def test_a_planned_csv_folder_is_the_same_when_run_from_elsewhere(
    source_db, target_db, tmp_path, monkeypatch, capsys
):
    """``plan --via-csv csv`` named ./csv where it was typed; the run (from cron, in the home
    folder) once wrote the CSV files into a csv folder there instead, and the skipped rows too."""
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    planned, elsewhere = tmp_path / "planned", tmp_path / "elsewhere"
    planned.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(planned)
    code = main(["plan", "--source", source_db.url, "--target", target_db.url, "--tables",
                 "courses_program", "--via-csv", "csv", "--rejects-dir", "rejects", "--output",
                 "courses.json", "-q"])  # fmt: skip
    assert code == 0
    options = json.loads((planned / "courses.json").read_text(encoding="utf-8"))["options"]
    assert options["csv_dir"] == str(planned / "csv")
    assert options["rejects_dir"] == str(planned / "rejects")
    monkeypatch.chdir(elsewhere)
    code, err = _run(planned / "courses.json", capsys)
    assert code == 0, err
    assert (planned / "csv" / "courses_program.csv").is_file()
    assert list(elsewhere.iterdir()) == []


def test_the_wizard_saves_a_typed_csv_folder_as_a_full_path(tmp_path, monkeypatch):
    from coursemig_gui.core.engine.routes import Route
    from coursemig_gui.core.options import MigrationOptions
    from coursemig_gui.gui.state import WizardState

    monkeypatch.chdir(tmp_path)
    state = WizardState(options=MigrationOptions(route=Route.DIRECT_KEEP_CSV, csv_dir="csv"))
    path = state.to_profile().save(tmp_path / "p.json")
    assert Profile.load(path).options.csv_dir == str(tmp_path / "csv")
    assert state.options.csv_dir == "csv"  # the page still shows what was typed
