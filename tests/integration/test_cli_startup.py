"""What `coursemig migrate` pays before the first row: one source connection for the catalog
and the snapshot (not one each), one target connection for the probe and the table (not one
each); the keyring is read only when a server asks for a password that nothing else gives, and
then the migration still works."""

from __future__ import annotations

import io
import sys
from collections import Counter

import psycopg
import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.connection_strings import parse_connection_string


def _without_password(url: str) -> str:
    return parse_connection_string(url).settings.conninfo(None)


@pytest.fixture
def no_password_sources(monkeypatch, tmp_path):
    """No PGPASSWORD and no .pgpass, so only the keyring could give a password."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


def test_one_table_opens_one_connection_per_job_and_leaves_the_keyring_alone(
    source_db, target_db, no_password_sources, monkeypatch, capsys
):
    import coursemig_gui.core.password_lookup as password_lookup

    def no_lookup(settings):
        raise AssertionError(f"the keyring was read for {settings.display_name()}")

    monkeypatch.setattr(password_lookup, "look_up_password", no_lookup)
    opened: Counter[str] = Counter()
    real_connect = psycopg.connect

    def counting_connect(conninfo: str = "", **kw):
        conn = real_connect(conninfo, **kw)
        opened[conn.info.dbname] += 1
        return conn

    monkeypatch.setattr(psycopg, "connect", counting_connect)
    code = main(
        ["migrate", "--source", source_db.url, "--target", target_db.url]
        + ["--tables", "courses_program", "-q"]
    )
    assert code == 0, capsys.readouterr().err
    # source: catalog + snapshot on one, the table's rows and (a small table) its sum after
    # the load on another; target: the probe's connection loads the table
    assert opened == {source_db.dbname: 2, target_db.dbname: 1}
    assert (
        target_db.rows("SELECT count(*) FROM program")[0][0]
        == (source_db.rows("SELECT count(*) FROM courses_program")[0][0])
    )


@pytest.fixture
def source_needing_a_password(target_db):
    """A table on the SCRAM server, so the source itself asks for a password."""
    with target_db.admin_connect() as conn:
        conn.execute("CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO things SELECT i, 'thing ' || i FROM generate_series(1, 50) i")
        conn.execute("ALTER TABLE things OWNER TO citus")
    return _without_password(target_db.url)


def test_a_source_password_in_the_keyring_is_read_when_the_server_asks(
    secret_keyring, target_db, source_needing_a_password, no_password_sources, monkeypatch, capsys
):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{target_db.password}\n"))
    assert main(["password", "set", source_needing_a_password]) == 0
    capsys.readouterr()
    code = main(
        ["migrate", "--source", source_needing_a_password, "--target", target_db.url]
        + ["--tables", "things", "--rename-table", "things=copied_things", "-q"]
    )
    assert code == 0, capsys.readouterr().err
    assert target_db.rows("SELECT count(*) FROM copied_things")[0][0] == 50


def test_a_source_password_found_nowhere_still_says_where_to_put_one(
    secret_keyring, target_db, source_needing_a_password, no_password_sources, capsys
):
    code = main(
        ["migrate", "--source", source_needing_a_password, "--target", target_db.url]
        + ["--tables", "things", "--rename-table", "things=copied_things", "-q"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert 'The server needs a password for user "citus", and none was given.' in err
    assert "No password is saved in Secret Service for" in err
    assert "set the PGPASSWORD environment variable" in err
    assert "Traceback" not in err
