"""TLS that authenticates the server by default, against the real TLS target (test CA, SCRAM).

The target's certificate names localhost, 127.0.0.1 and ::1 only. Another name that reaches the
same server (this machine's host name, or the numeric shorthand 127.1) is "a server whose
certificate does not match its name"."""

from __future__ import annotations

import socket

import pytest

from coursemig_gui.core import tls
from coursemig_gui.core.connection import connect
from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.preflight import preflight
from coursemig_gui.core.profile import Profile


def _alias() -> str:
    """A name for 127.0.0.1 that is not in the certificate and not textually local."""
    for name in (socket.gethostname(), "127.1"):
        try:
            addresses = {a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET)}
        except OSError:
            continue
        if addresses == {"127.0.0.1"} and not tls.is_local_host(name):
            return name
    pytest.fail("no name other than localhost reaches 127.0.0.1 here")


@pytest.fixture
def no_tls_env(monkeypatch):
    for name in ("PGSSLMODE", "PGSSLROOTCERT", "PGCHANNELBINDING", "PGSSLCERT", "PGSSLKEY"):
        monkeypatch.delenv(name, raising=False)


def _settings(target_db, **fields) -> ConnectionSettings:
    """A new connection to the target as a person types it: host, port, database, user."""
    base = parse_connection_string(target_db.url).settings
    data = dict(host=base.host, port=base.port, dbname=base.dbname, user=base.user)
    data.update(fields)
    return ConnectionSettings(**data)


def test_a_new_connection_verifies_the_server_with_public_roots(target_db, no_tls_env):
    settings = _settings(target_db, host=_alias())
    assert settings.sslmode == "verify-full"
    assert f"sslrootcert={tls.public_roots()}" in settings.conninfo()
    # the test CA is not a public authority: refused, with a sentence that never advises less
    with pytest.raises(FriendlyError) as info:
        connect(settings, target_db.password).close()
    assert "not signed by an authority CourseMig trusts" in info.value.message
    assert "certificate verify failed" in info.value.detail
    assert "Encrypt only" not in info.value.message


def test_default_settings_verify_full_against_the_real_target(target_db, no_tls_env, monkeypatch):
    # the administrator names the authority (PGSSLROOTCERT) and asks for verification
    # (PGSSLMODE): respected when nothing else is set, even for a database on this computer
    monkeypatch.setenv("PGSSLROOTCERT", str(target_db.server.ca_cert))
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    settings = _settings(target_db)
    assert settings.sslmode == "verify-full" and settings.sslrootcert == ""
    assert "sslrootcert" not in settings.conninfo()  # libpq reads PGSSLROOTCERT itself
    with connect(settings, target_db.password, autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        summary = preflight(conn, role="target").summary()
    assert "the server was verified as 127.0.0.1" in summary


def test_a_name_the_certificate_lacks_is_refused_by_default(target_db, no_tls_env, monkeypatch):
    monkeypatch.setenv("PGSSLROOTCERT", str(target_db.server.ca_cert))  # trust the test CA
    alias = _alias()
    settings = _settings(target_db, host=alias)
    assert settings.sslmode == "verify-full"
    with pytest.raises(FriendlyError) as info:
        connect(settings, target_db.password).close()
    message = info.value.message
    assert message.startswith(
        f'The server\'s certificate is made out to a different name than "{alias}", so '
        "CourseMig cannot be sure it is talking to the right server and did not connect."
    )
    assert "does not match host name" in info.value.detail
    for weaker in ("Encrypt only", "No encryption", "without checking"):
        assert weaker not in message


def test_encrypt_only_connects_and_says_the_server_was_not_verified(target_db, no_tls_env):
    settings = _settings(target_db, host=_alias(), sslmode=tls.ENCRYPT_ONLY.sslmode)
    with connect(settings, target_db.password, autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        summary = preflight(conn, role="target").summary()
    assert summary.endswith("but the server was not verified"), summary
    assert "Encrypted (TLSv1." in summary


def test_local_default_is_no_encryption_and_the_tls_only_target_says_what_to_choose(
    target_db, no_tls_env
):
    settings = _settings(target_db)  # 127.0.0.1: a database on this computer
    assert settings.sslmode == "disable"
    assert "on this computer" in tls.security_note(settings.host, settings.sslmode)
    with pytest.raises(FriendlyError) as info:
        connect(settings, target_db.password).close()
    assert "Set Security to 'Verify the server (recommended)'" in info.value.message


def test_channel_binding_and_pgsslmode_survive_every_parse_and_profile_round_trip(
    target_db, no_tls_env, monkeypatch, tmp_path
):
    ca = target_db.server.ca_cert
    url = f"{target_db.url}&channel_binding=require"
    for text in (
        url,
        parse_connection_string(url).settings.conninfo(target_db.password),  # key=value
        f"Server=127.0.0.1;Port={_settings(target_db).port};Database={target_db.dbname};"
        f"User Id=citus;SSL Mode=VerifyFull;Root Certificate={ca};Channel Binding=Require",
    ):
        parsed = parse_connection_string(text)
        assert parsed.settings.channel_binding == "require", text
        assert parsed.settings.sslmode == "verify-full"
        again = parse_connection_string(parsed.settings.conninfo())
        assert again.settings == parsed.settings
        saved = Profile(name="cb", target=parsed.settings).save(tmp_path / "cb.json")
        assert Profile.load(saved).target == parsed.settings
    with connect(parse_connection_string(url).settings, target_db.password) as conn:
        params = {o.keyword: o.val for o in conn.pgconn.info}
        assert params[b"channel_binding"] == b"require"  # SCRAM-SHA-256-PLUS over TLS

    monkeypatch.setenv("PGSSLMODE", "verify-full")
    plain = parse_connection_string(f"host=127.0.0.1 dbname={target_db.dbname} user=citus")
    assert plain.settings.sslmode == "verify-full"
    assert parse_connection_string(plain.settings.conninfo()).settings.sslmode == "verify-full"
    saved = Profile(name="env", target=plain.settings).save(tmp_path / "env.json")
    assert Profile.load(saved).target.sslmode == "verify-full"  # type: ignore[union-attr]


def test_what_the_user_chose_is_never_weakened():
    text = (
        "host=db.example.com dbname=d user=u sslmode=verify-full sslrootcert=/ca.pem "
        "channel_binding=require require_auth=scram-sha-256 sslcert=/c.crt sslkey=/c.key "
        "sslcrl=/revoked.crl"
    )
    settings = parse_connection_string(text).settings
    conninfo = settings.conninfo()
    for part in (
        "sslmode=verify-full",
        "sslrootcert=/ca.pem",
        "channel_binding=require",
        "require_auth=scram-sha-256",
        "sslcert=/c.crt",
        "sslkey=/c.key",
        "sslcrl=/revoked.crl",
    ):
        assert part in conninfo
    assert ConnectionSettings.from_dict(settings.to_dict()) == settings
    # an Azure portal string says sslmode=require; Azure can be verified, so it is
    azure = parse_connection_string(
        "host=c-x.abc.postgres.cosmos.azure.com dbname=citus user=citus sslmode=require"
    )
    assert azure.settings.sslmode == "verify-full"
    assert "sslrootcert=" + tls.public_roots() in azure.settings.conninfo()


def test_older_profiles_still_open_and_say_what_they_are():
    for mode in ("allow", "prefer"):
        settings = ConnectionSettings.from_dict({"host": "db.example.com", "sslmode": mode})
        assert settings.sslmode == mode
        assert "older setting" in tls.choice_for(settings.sslmode).label
