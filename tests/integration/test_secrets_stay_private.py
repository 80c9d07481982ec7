"""No secret in a process list, a file or a copied message: a password in a URL works with a
warning, every file a run writes is private (0600) and free of the password, and the error log
staff open in a spreadsheet cannot run a formula. Data files stay byte-exact."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
from pathlib import Path
from urllib.parse import quote

import keyring
import pytest
from keyring.backends import SecretService

from coursemig_gui.cli import main
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.credentials import credential_key

HYPERLINK = '=HYPERLINK("http://x","y")'


def _password_forms(password: str) -> list[str]:
    return [password, quote(password), quote(password, safe=""), json.dumps(password)[1:-1]]


def _without_password(url: str) -> str:
    parsed = parse_connection_string(url)
    return parsed.settings.conninfo(None)


def _arrange_formula_row(source_db, target_db) -> None:
    with source_db.admin_connect() as conn:
        conn.execute(
            "UPDATE courses_meetinglocation SET building = %s "
            "WHERE ctid = (SELECT ctid FROM courses_meetinglocation ORDER BY ctid LIMIT 1)",
            [HYPERLINK],
        )
        conn.execute(
            "UPDATE courses_meetinglocation SET building = left(building, 20) WHERE building <> %s",
            [HYPERLINK],
        )
    with target_db.connect(autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE meetinglocation (slug varchar(200) PRIMARY KEY, "
            "building varchar(20), room varchar(10))"
        )


@pytest.mark.skipif(sys.platform == "win32", reason="file modes are POSIX")
def test_migrate_with_a_password_in_the_url_warns_and_leaves_no_secret(
    source_db, target_db, tmp_path, capsys
):
    _arrange_formula_row(source_db, target_db)
    out = tmp_path / "run"
    home = Path(os.environ["COURSEMIG_HOME"])
    before = {p for p in (tmp_path.rglob("*")) if p.is_file()}
    assert target_db.password in parse_connection_string(target_db.url).password  # type: ignore[operator]
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
            "--via-csv",
            str(out / "csv"),
            "--rejects-dir",
            str(out / "rejects"),
            "--json-report",
            str(out / "report.json"),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert code == 3, err  # the formula is too long for building varchar(20): rejected
    warning = next(line for line in err.splitlines() if "warning" in line)
    assert "--target connection string holds a password" in warning
    assert "process list" in warning
    for safer in (
        "coursemig password set",
        "PGPASSWORD",
        ".pgpass",
        "--password-from-stdin TARGET",
    ):
        assert safer in warning, warning
    assert "--source" not in warning  # the source URL has no password

    written = sorted(
        p for p in (*tmp_path.rglob("*"), *home.rglob("*")) if p.is_file() and p not in before
    )
    names = {p.name for p in written}
    assert {
        "report.json",
        "courses_meetinglocation.csv",
        "errors.csv",
        "meetinglocation.rejected.csv",
    } <= names, names
    for path in written:
        data = path.read_bytes().decode("utf-8", "replace")
        for form in _password_forms(target_db.password):  # type: ignore[arg-type]
            assert form not in data, path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))

    # errors.csv is opened in a spreadsheet: the formula is text there
    with (out / "rejects" / "errors.csv").open(newline="", encoding="utf-8") as f:
        errors = list(csv.DictReader(f))
    assert [e["value"] for e in errors] == ["'" + HYPERLINK]
    # the data files keep the value exactly as it was
    assert HYPERLINK.replace('"', '""') in (out / "csv" / "courses_meetinglocation.csv").read_text()
    assert (
        HYPERLINK.replace('"', '""')
        in (out / "rejects" / "meetinglocation.rejected.csv").read_text()
    )


def test_password_from_stdin_is_used_and_not_warned_about(
    source_db, target_db, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{target_db.password}\n"))
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            _without_password(target_db.url),
            "--tables",
            "courses_program",
            "--password-from-stdin",
            "TARGET",
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning" not in err


def test_password_from_stdin_that_is_empty_is_a_sentence(source_db, target_db, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            _without_password(target_db.url),
            "--password-from-stdin",
            "target",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "--password-from-stdin TARGET found no password on standard input" in err


def test_password_set_stores_in_the_keyring_and_migrate_uses_it(
    secret_keyring, source_db, target_db, tmp_path, capsys, monkeypatch
):
    assert isinstance(keyring.get_keyring(), SecretService.Keyring)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    url = _without_password(target_db.url)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{target_db.password}\n"))
    assert main(["password", "set", url]) == 0
    err = capsys.readouterr().err
    assert "Saved the password for citus@" in err and "Secret Service" in err
    settings = parse_connection_string(url).settings
    assert secret_keyring.secrets() == {credential_key(settings): target_db.password}

    code = main(
        ["migrate", "--source", source_db.url, "--target", url, "--tables", "courses_program", "-q"]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning" not in err

    assert main(["password", "forget", url]) == 0
    assert secret_keyring.secrets() == {}


def test_plan_warns_that_it_does_not_need_the_target_password(
    source_db, target_db, tmp_path, capsys
):
    out = tmp_path / "plan.json"
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
            str(out),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "--target connection string holds a password" in err and "does not need it" in err
    assert target_db.password not in out.read_text(encoding="utf-8")


def test_run_takes_the_password_from_stdin(source_db, target_db, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    profile = tmp_path / "p.json"
    assert (
        main(
            [
                "plan",
                "--source",
                source_db.url,
                "--target",
                _without_password(target_db.url),
                "--tables",
                "courses_program",
                "--output",
                str(profile),
                "-q",
            ]
        )
        == 0
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{target_db.password}\r\n"))  # CRLF: Windows
    code = main(["run", str(profile), "--password-from-stdin", "TARGET", "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning" not in err
    assert target_db.rows("SELECT count(*) FROM program")[0][0] > 0
