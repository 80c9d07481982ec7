"""Every way a connection fails, against the real TLS + SCRAM target, explained in a sentence.

Also: verify-full with the right CA works, and the pre-flight check reads both servers right.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from coursemig_gui.core.connection import connect
from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.credentials import CredentialStore, resolve_password
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.explain import explain_error
from coursemig_gui.core.preflight import preflight
from coursemig_gui.demo.localserver import free_port

pytestmark = pytest.mark.faults


def _target(target_db, **changes) -> tuple[ConnectionSettings, str]:
    """The settings a person gets by pasting the target's URL, then editing some fields."""
    parsed = parse_connection_string(target_db.url)
    assert parsed.password == target_db.password
    settings = parsed.settings
    for name, value in changes.items():
        settings = _replace(settings, name, value)
    return settings, parsed.password


def _replace(settings: ConnectionSettings, name: str, value) -> ConnectionSettings:
    data = settings.to_dict()
    data[name] = value
    return ConnectionSettings.from_dict(data)


def _fails(settings: ConnectionSettings, password: str | None, **kw) -> FriendlyError:
    with pytest.raises(FriendlyError) as info:
        connect(settings, password, **kw).close()
    err = info.value
    assert "Traceback" not in err.message and "Traceback" not in str(err)
    assert isinstance(err.__cause__, psycopg.Error)
    assert err.detail  # the server's or libpq's own words stay available
    return err


@pytest.fixture
def no_password_sources(monkeypatch, tmp_path):
    """No PGPASSWORD and no .pgpass, so libpq has nothing to fall back on."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


@pytest.fixture
def empty_home(monkeypatch, tmp_path) -> Path:
    """A HOME without ~/.postgresql/root.crt, so verify-full has no CA unless one is named."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def other_ca(tmp_path) -> Path:
    """A throwaway self-signed CA that did not sign the target's certificate."""
    key, crt = tmp_path / "other-ca.key", tmp_path / "other-ca.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Some other CA",
            "-keyout",
            str(key),
            "-out",
            str(crt),
        ],
        check=True,
        capture_output=True,
    )
    return crt


def test_verify_full_with_the_ca_works(target_db):
    settings, password = _target(target_db)
    assert settings.sslmode == "verify-full" and settings.sslrootcert
    with connect(settings, password) as conn:
        assert conn.info.pgconn.ssl_in_use
        assert conn.execute("SELECT current_user").fetchone() == ("citus",)


def test_wrong_password(target_db):
    settings, _ = _target(target_db)
    err = _fails(settings, "not the password")
    assert err.message == (
        'The server did not accept the user name and password for user "citus". '
        "Check both and try again."
    )
    assert "password authentication failed" in err.detail


def test_no_password(target_db, no_password_sources):
    settings, _ = _target(target_db)
    err = _fails(settings, None)
    assert err.message == (
        'The server needs a password for user "citus", and none was given. '
        "Enter the password and try again."
    )
    assert "no password supplied" in err.detail


def test_encryption_turned_off(target_db):
    settings, password = _target(target_db, sslmode="disable", sslrootcert="")
    err = _fails(settings, password)
    assert err.message == (
        "The server only accepts encrypted connections. Set Security to 'Verify the server (recommended)'."
    )
    assert "no pg_hba.conf entry" in err.detail


def test_require_encryption_works_without_a_ca(target_db, empty_home):
    settings, password = _target(target_db, sslmode="require", sslrootcert="")
    with connect(settings, password) as conn:
        assert conn.info.pgconn.ssl_in_use


def test_verify_full_without_a_file_uses_the_public_roots_and_never_advises_less(
    target_db, empty_home
):
    settings, password = _target(target_db, sslrootcert="")
    # the test CA is no public authority: certifi's roots do not vouch for this server
    err = _fails(settings, password)
    assert err.message.startswith(
        "The server's certificate is not signed by an authority CourseMig trusts, so it did "
        "not connect."
    )
    assert "certificate file (a .pem or .crt file)" in err.message
    assert "'Verify with this certificate file…'" in err.message
    assert "DigiCert Global Root G2" in err.message
    assert "https://learn.microsoft.com/azure/postgresql/" in err.message
    for weaker in ("Encrypt only", "No encryption", "Require encryption", "without checking"):
        assert weaker not in err.message


def test_a_certificate_file_that_is_missing_is_explained(target_db, tmp_path):
    missing = tmp_path / "gone.pem"
    settings, password = _target(target_db, sslrootcert=str(missing))
    err = _fails(settings, password)
    assert f'"{missing}" is missing or unreadable' in err.message
    assert "Encrypt only" not in err.message and "No encryption" not in err.message


def test_verify_full_with_the_wrong_ca(target_db, empty_home, other_ca):
    settings, password = _target(target_db, sslrootcert=str(other_ca))
    err = _fails(settings, password)
    assert err.message.startswith(
        f'The server\'s certificate is not signed by an authority CourseMig trusts ("{other_ca}"), '
        "so it did not connect."
    )
    assert "certificate verify failed" in err.detail


def test_verify_full_with_a_name_the_certificate_does_not_have(target_db):
    settings, password = _target(target_db, host="db.not-in-the-certificate.test")
    err = _fails(settings, password, hostaddr="127.0.0.1")
    assert err.message.startswith(
        "The server's certificate is made out to a different name than "
        '"db.not-in-the-certificate.test", so CourseMig cannot be sure it is talking to the '
        "right server and did not connect."
    )


def test_unknown_host(target_db):
    settings, password = _target(target_db, host="no-such-host.invalid")
    err = _fails(settings, password)
    assert err.message == (
        'The server name "no-such-host.invalid" could not be found. Check the Host field for '
        "typing mistakes, and that this computer is connected to the network."
    )


def test_closed_port(target_db):
    port = free_port()
    settings, password = _target(target_db, port=port)
    err = _fails(settings, password)
    assert err.message == (
        f"Nothing is accepting database connections at 127.0.0.1:{port}. Check the host and the "
        "port, and that the database server is running; a firewall may also be in the way."
    )


def test_server_that_never_answers(target_db):
    # a socket that is listening but never accepted: the TCP handshake succeeds, then silence
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        settings, password = _target(target_db, port=port, connect_timeout=1)
        err = _fails(settings, password)
    assert err.message.startswith(f"127.0.0.1:{port} did not answer within 1 second.")
    assert "firewall" in err.message


def test_missing_database(target_db):
    settings, password = _target(target_db, dbname="no_such_database")
    err = _fails(settings, password)
    assert err.message == (
        'There is no database named "no_such_database" on this server. Check the Database field.'
    )


def test_no_permission_on_a_table(target_db):
    with target_db.admin_connect() as admin:
        admin.execute("CREATE TABLE owned_by_admin (id int)")
    settings, password = _target(target_db)
    with connect(settings, password) as conn:
        with pytest.raises(psycopg.Error) as info:
            conn.execute("SELECT * FROM owned_by_admin")
    err = explain_error(info.value, settings)
    assert err.message.startswith(
        'User "citus" has no permission to use table "owned_by_admin". Ask the database owner'
    )
    assert "SQLSTATE: 42501" in err.detail


def test_asking_for_the_password_when_there_is_no_keyring(target_db, no_password_sources):
    from keyring.backends import fail

    settings, password = _target(target_db)
    store = CredentialStore(fail.Keyring())
    assert not store.is_secure
    assert store.save(settings, password) is False
    typed = resolve_password(settings, store, ask=lambda prompt: password)
    with connect(settings, typed) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_password_from_the_keyring_connects(target_db, secret_keyring, no_password_sources):
    settings, password = _target(target_db)
    store = CredentialStore()
    assert store.save(settings, password)
    found = resolve_password(settings, store, ask=None)
    with connect(settings, found) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("citus",)


def test_pgpassword_is_left_to_libpq(target_db, monkeypatch, secret_keyring):
    settings, password = _target(target_db)
    monkeypatch.setenv("PGPASSWORD", password)
    found = resolve_password(settings, CredentialStore(), ask=lambda prompt: "wrong")
    assert found is None
    with connect(settings, found) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_pgbouncer_port_turns_prepared_statements_off(target_db):
    settings = ConnectionSettings(host="127.0.0.1", port=6432, dbname="x", user="u")
    assert settings.uses_pgbouncer
    # nothing listens on 6432 here: check only what connect() would hand psycopg
    seen = {}

    def fake_connect(conninfo, **kw):
        seen.update(kw)
        raise psycopg.OperationalError("Connection refused")

    import coursemig_gui.core.connection as connection

    original = connection.psycopg.connect
    connection.psycopg.connect = fake_connect  # type: ignore[assignment]
    try:
        with pytest.raises(FriendlyError):
            connect(settings, "pw")
    finally:
        connection.psycopg.connect = original  # type: ignore[assignment]
    assert "prepare_threshold" in seen and seen["prepare_threshold"] is None


# -- pre-flight -------------------------------------------------------------------------------


def test_preflight_on_the_django_source(source_db):
    with psycopg.connect(source_db.url) as conn:
        report = preflight(conn, role="source", tables=["courses_course", "courses_program"])
    assert report.is_django
    assert "courses" in report.django_apps
    assert report.django_apps[0] == "courses"  # the project's own apps before Django's
    assert report.can_read and report.unreadable_tables == ()
    assert report.citus_version is None and report.worker_count is None
    assert not report.is_superuser
    assert report.server_version.startswith("PostgreSQL ")
    assert report.summary().startswith(f"Connected to {report.server_version} · Django app")
    assert "courses" in report.summary()
    assert report.problems == ()


def test_preflight_names_unreadable_and_missing_tables(source_db):
    with source_db.admin_connect() as admin:
        admin.execute("CREATE TABLE hidden_table (id int)")
        admin.execute("REVOKE ALL ON hidden_table FROM PUBLIC")
    with psycopg.connect(source_db.url) as conn:
        report = preflight(conn, role="source", tables=["hidden_table", "gone", "courses_course"])
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert report.unreadable_tables == ("hidden_table",)
    assert report.missing_tables == ("gone",)
    assert not report.can_read
    assert any('User "django" may not read 1 table: hidden_table' in p for p in report.problems)
    assert any("gone" in p for p in report.problems)


def test_preflight_on_the_target(target_db):
    settings, password = _target(target_db)
    with connect(settings, password) as conn:
        report = preflight(conn, role="target")
    assert report.can_create
    assert not report.is_superuser
    assert report.citus_version is None
    assert not report.is_django
    assert report.platform == "PostgreSQL"
    assert report.summary() == (
        f"Connected to {report.server_version} · Encrypted (TLSv1.3); the server was verified "
        "as 127.0.0.1"
    )
    assert report.problems == ()


def test_preflight_target_schema_without_create(target_db):
    with target_db.admin_connect() as admin:
        for name in ("Locked Schema", "closed"):
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO citus").format(sql.Identifier("Locked Schema"))
        )
    settings, password = _target(target_db)
    with connect(settings, password, autocommit=True) as conn:
        locked = preflight(conn, role="target", schema="Locked Schema")
        closed = preflight(conn, role="target", schema="closed", tables=["t"])
        missing = preflight(conn, role="target", schema="no_such_schema")
    assert not locked.can_create
    assert locked.problems == (
        'User "citus" may not create tables in schema "Locked Schema". Ask the database owner '
        "to grant it (GRANT CREATE ON SCHEMA), or connect as another user.",
    )
    assert not closed.can_create and closed.unreadable_tables == ("t",)
    assert closed.problems[0] == (
        'User "citus" may not use schema "closed". Ask the database owner to grant it '
        "(GRANT USAGE ON SCHEMA)."
    )
    assert not missing.can_create
    assert missing.problems[0].startswith('The schema "no_such_schema" does not exist')
