"""The Security choices in plain words, the default per host, and the root certificates."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursemig_gui.core import tls


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "[::1]",
        "/var/run/postgresql",
        "",
        "@abstract",
        "app.localhost",
    ],
)
def test_databases_on_this_computer_are_local(host):
    assert tls.is_local_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "c-x.postgres.cosmos.azure.com",
        "10.0.0.5",
        "192.168.1.2",
        "::2",
        "db",
        "127.1",
        "localhost.example.com",
        "128.0.0.1",
    ],
)
def test_every_other_host_is_not(host):
    assert not tls.is_local_host(host)


def test_defaults_verify_everywhere_but_here():
    assert tls.default_sslmode("c-x.postgres.cosmos.azure.com", env={}) == "verify-full"
    assert tls.default_sslmode("10.0.0.5", env={}) == "verify-full"
    assert tls.default_sslmode("localhost", env={}) == "disable"
    assert tls.default_sslmode("/tmp", env={}) == "disable"
    # the administrator's choice wins where nothing else is set
    assert tls.default_sslmode("localhost", env={"PGSSLMODE": "verify-full"}) == "verify-full"
    assert tls.default_sslmode("db.example.com", env={"PGSSLMODE": "require"}) == "require"


def test_verifying_uses_certifi_unless_a_file_is_named():
    import certifi

    bundle = tls.public_roots()
    assert bundle == certifi.where() and Path(bundle).is_file()
    assert "DigiCert Global Root G2" in Path(bundle).read_text(encoding="utf-8")
    assert tls.root_certificate("verify-full", "", env={}) == bundle
    assert tls.root_certificate("verify-ca", "", env={}) == bundle
    assert tls.root_certificate("verify-full", "/my/ca.pem", env={}) == "/my/ca.pem"
    assert tls.root_certificate("verify-full", "", env={"PGSSLROOTCERT": "/admin/ca.pem"}) == ""
    assert tls.root_certificate("require", "", env={}) == ""
    assert tls.root_certificate("disable", "", env={}) == ""


def test_the_box_offers_four_plain_choices_and_shows_older_ones_as_they_are():
    assert [c.label for c in tls.CHOICES] == [
        "Verify the server (recommended)",
        "Verify with this certificate file…",
        "Encrypt only (does not check the server)",
        "No encryption (local databases only)",
    ]
    assert {c.sslmode for c in tls.CHOICES} == {"verify-full", "require", "disable"}
    assert tls.choice_for("verify-full") is tls.VERIFY
    assert tls.choice_for("verify-full", "/ca.pem") is tls.VERIFY_FILE
    assert tls.choice_for("prefer").sslmode == "prefer"
    assert "does not check the server" in tls.choice_for("prefer").label
    assert "older setting" in tls.choice_for("allow").label
    assert "does not check the name" in tls.choice_for("verify-ca").label


def test_the_note_says_why_a_local_database_is_not_encrypted():
    assert "on this computer" in tls.security_note("localhost", "disable")
    assert "Verify the server" in tls.security_note("db.example.com", "disable")
    assert "not checked" in tls.security_note("db.example.com", "require")
    assert "public root certificates" in tls.security_note("db.example.com", "verify-full")


def test_the_summary_says_when_the_server_was_not_verified():
    verified = tls.connection_security({"sslmode": "verify-full", "host": "db"}, True, "TLSv1.3")
    assert verified == "Encrypted (TLSv1.3); the server was verified as db."
    unverified = tls.connection_security({"sslmode": "require", "host": "db"}, True, "TLSv1.3")
    assert "the server was not verified" in unverified
    assert "not verified" in tls.connection_security({"sslmode": "prefer", "host": "db"}, True)
    assert "on this computer" in tls.connection_security({"host": "localhost"}, False)


def test_the_note_names_the_administrators_root_file_when_pgsslrootcert_is_set():
    # libpq then reads PGSSLROOTCERT itself (root_certificate hands it no file), so the note
    # must not say the public root certificates are used
    env = {"PGSSLROOTCERT": "/etc/ssl/school-ca.pem"}
    assert tls.root_certificate("verify-full", "", env) == ""
    note = tls.security_note("db.example.com", "verify-full", "", env)
    assert "public root certificates" not in note
    assert "/etc/ssl/school-ca.pem" in note and "PGSSLROOTCERT" in note
    chosen = tls.security_note("db.example.com", "verify-full", "/tmp/ca.pem", env)
    assert chosen == "Encrypted; the server's certificate is checked against /tmp/ca.pem."
