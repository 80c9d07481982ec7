"""Every connection-string form a person is likely to paste, read into the same settings."""

from __future__ import annotations

import json
import re
import shlex
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from coursemig_gui.core.connection_settings import ConnectionSettings, apply_presets
from coursemig_gui.core.connection_strings import (
    conninfo_from_url,
    is_placeholder_password,
    parse_connection_string,
)
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.explain import explain_error

COSMOS = "c-mycluster.abc123def.postgres.cosmos.azure.com"
AWKWARD = [
    "p@ss;w=rd%20 \"q\" 'x'",
    "s3cret p@ss;w=rd%",
    "a:b/c?d#e&f",
    "back\\slash 'single' \"double\"",
    "ünïcødé ☃ pass",
    "  spaces around  ",
    "{braces}=[brackets]",
]


def _kv_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ado_quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


# (pasted text, kind, expected settings fields, expected password)
CASES = [
    pytest.param(
        "postgresql://citus:pw@db.example.com:5433/courses?sslmode=require",
        "libpq URI",
        dict(host="db.example.com", port=5433, dbname="courses", user="citus", sslmode="require"),
        "pw",
        id="uri-postgresql",
    ),
    pytest.param(
        "postgres://django@localhost/app",
        "libpq URI",
        dict(host="localhost", port=5432, dbname="app", user="django", sslmode="disable"),
        None,
        id="uri-postgres-no-password",
    ),
    pytest.param(
        "postgresql://u:p@[::1]:5444/d",
        "libpq URI",
        dict(host="::1", port=5444, dbname="d", user="u"),
        "p",
        id="uri-ipv6",
    ),
    pytest.param(
        "postgresql:///mydb?host=%2Fvar%2Frun%2Fpostgresql&user=me&application_name=x",
        "libpq URI",
        dict(host="/var/run/postgresql", dbname="mydb", user="me", application_name="x"),
        None,
        id="uri-socket-in-query",
    ),
    pytest.param(
        "postgresql://u:pw@h1:5432,h2:5433/d",
        "libpq URI",
        dict(host="h1", port=5432, dbname="d"),
        "pw",
        id="uri-multi-host-takes-first",
    ),
    pytest.param(
        "postgresql+psycopg://u:pw@h/d",
        "libpq URI",
        dict(host="h", dbname="d", user="u"),
        "pw",
        id="uri-sqlalchemy",
    ),
    pytest.param(
        "DATABASE_URL=postgres://django:hunter2@db.internal:5432/courses",
        "libpq URI",
        dict(host="db.internal", dbname="courses", user="django"),
        "hunter2",
        id="django-env-line",
    ),
    pytest.param(
        "export DATABASE_URL='pgsql://django:hunter2@db.internal/courses?conn_max_age=600'",
        "Django DATABASE_URL",
        dict(host="db.internal", dbname="courses", user="django"),
        "hunter2",
        id="django-pgsql-export",
    ),
    pytest.param(
        "postgis://geo:pw@gis.local:5435/maps",
        "Django DATABASE_URL",
        dict(host="gis.local", port=5435, dbname="maps", user="geo"),
        "pw",
        id="django-postgis",
    ),
    pytest.param(
        "host=db.example.com port=5433 dbname=courses user=citus password=pw sslmode=verify-full"
        " sslrootcert=/tmp/ca.crt connect_timeout=7 application_name='My App'",
        "key=value",
        dict(
            host="db.example.com",
            port=5433,
            dbname="courses",
            user="citus",
            sslmode="verify-full",
            sslrootcert="/tmp/ca.crt",
            connect_timeout=7,
            application_name="My App",
        ),
        "pw",
        id="keyvalue-all-fields",
    ),
    pytest.param(
        "host = spaced.example.com   user= me dbname =d",
        "key=value",
        dict(host="spaced.example.com", user="me", dbname="d"),
        None,
        id="keyvalue-spaces-around-equals",
    ),
    pytest.param(
        f'psql "host={COSMOS} port=5432 dbname=citus user=citus password={{your_password}} '
        'sslmode=require"',
        "psql command",
        dict(host=COSMOS, port=5432, dbname="citus", user="citus", sslmode="verify-full"),
        None,
        id="azure-portal-psql",
    ),
    pytest.param(
        "psql -h localhost -p 5433 -U bob --dbname=mydb -c 'select 1'",
        "psql command",
        dict(host="localhost", port=5433, dbname="mydb", user="bob"),
        None,
        id="psql-options",
    ),
    pytest.param(
        f"Server={COSMOS};Database=citus;Port=5432;User Id=citus;Password={{your_password}};"
        "Ssl Mode=Require;",
        "ADO.NET",
        dict(host=COSMOS, port=5432, dbname="citus", user="citus", sslmode="verify-full"),
        None,
        id="azure-portal-adonet",
    ),
    pytest.param(
        "Host=db.local;Username=app;Password=pw;SSL Mode=VerifyFull;Root Certificate=C:\\ca.pem;"
        "Timeout=30;Trust Server Certificate=true",
        "ADO.NET",
        dict(
            host="db.local",
            user="app",
            sslmode="verify-full",
            sslrootcert="C:\\ca.pem",
            connect_timeout=30,
        ),
        "pw",
        id="npgsql-keys",
    ),
    pytest.param(
        f"jdbc:postgresql://{COSMOS}:5432/citus?user=citus&password={{your_password}}"
        "&sslmode=require",
        "JDBC",
        dict(host=COSMOS, port=5432, dbname="citus", user="citus", sslmode="verify-full"),
        None,
        id="azure-portal-jdbc",
    ),
    pytest.param(
        "jdbc:postgresql://db.local/courses?user=app&password=pw&ssl=true&currentSchema=x",
        "JDBC",
        dict(host="db.local", dbname="courses", user="app", sslmode="verify-full"),
        "pw",
        id="jdbc-ssl-true",
    ),
    pytest.param(
        "  'postgresql://u:pw@h/d'  ",
        "libpq URI",
        dict(host="h", dbname="d", user="u"),
        "pw",
        id="quoted-and-padded",
    ),
    pytest.param(
        "db.example.com:5433",
        "host name",
        dict(host="db.example.com", port=5433),
        None,
        id="bare-host",
    ),
]


@pytest.mark.parametrize(("text", "kind", "expected", "password"), CASES)
def test_connection_string_forms(text, kind, expected, password):
    parsed = parse_connection_string(text)
    assert parsed.kind == kind
    for name, value in expected.items():
        assert getattr(parsed.settings, name) == value, name
    assert parsed.password == password


def _forms_with_password(password: str) -> list[tuple[str, str]]:
    q = quote(password, safe="")
    kv = _kv_quote(password)
    # inside a shell's double quotes, only \ " $ ` need a backslash
    kv_dq = re.sub(r'([\\"$`])', r"\\\1", kv)
    return [
        ("uri", f"postgresql://citus:{q}@db.example.com:5432/citus?sslmode=require"),
        ("uri-password-param", f"postgres://citus@db.example.com/citus?password={q}"),
        ("django", f"DATABASE_URL=pgsql://citus:{q}@db.example.com/citus"),
        ("keyvalue", f"host=db.example.com user=citus password={_kv_quote(password)} dbname=x"),
        ("psql", "psql " + shlex.quote(f"host=db.example.com user=citus password={kv}")),
        ("psql-portal-style", 'psql "host=db.example.com user=citus password=' + kv_dq + '"'),
        ("psql-dbname-uri", "psql -d " + shlex.quote(f"postgresql://citus:{q}@db.example.com/c")),
        (
            "psql-dbname-kv",
            "psql --dbname=" + shlex.quote(f"host=db.example.com user=citus password={kv}"),
        ),
        ("adonet", f"Server=db.example.com;User Id=citus;Password={_ado_quote(password)};"),
        ("adonet-single", "Server=h;Pwd='" + password.replace("'", "''") + "';Database=d"),
        ("jdbc", f"jdbc:postgresql://db.example.com:5432/citus?user=citus&password={q}"),
    ]


@pytest.mark.parametrize("password", AWKWARD)
def test_awkward_passwords_survive_every_form(password):
    for name, text in _forms_with_password(password):
        parsed = parse_connection_string(text)
        assert parsed.password == password, name
        assert parsed.settings.user == "citus" or name == "adonet-single", name


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://citus:p@ss;w=rd@db.example.com/citus",  # raw "@" and ";" unencoded
        "postgres://citus:p@ss@db.example.com:5432/citus",
    ],
)
def test_raw_at_sign_in_uri_password(text):
    parsed = parse_connection_string(text)
    assert parsed.settings.host == "db.example.com"
    assert parsed.password in ("p@ss;w=rd", "p@ss")


@pytest.mark.parametrize("password", AWKWARD)
def test_keyvalue_reading_agrees_with_libpq(password):
    text = f"host=h port=5433 user='u s' password={_kv_quote(password)} dbname=d\\ b"
    parsed = parse_connection_string(text)
    libpq = conninfo_to_dict(text)
    assert parsed.password == libpq["password"]
    assert parsed.settings.user == libpq["user"]
    assert parsed.settings.dbname == libpq["dbname"] == "d b"


@pytest.mark.parametrize("password", AWKWARD)
def test_conninfo_round_trips_password_through_libpq(password):
    settings = ConnectionSettings(host="h", dbname="d", user="u", sslmode="require")
    assert conninfo_to_dict(settings.conninfo(password))["password"] == password
    url = f"postgresql://u:{quote(password, safe='')}@h/d"
    assert conninfo_to_dict(conninfo_from_url(url))["password"] == password


@pytest.mark.parametrize(
    "value",
    [
        "{your_password}",
        "<password>",
        "[PASSWORD]",
        "{your-password}",
        "your_password",
        "${DB_PASSWORD}",
        "********",
        "<your password>",
    ],
)
def test_placeholders_are_not_passwords(value):
    assert is_placeholder_password(value)
    parsed = parse_connection_string(f"postgresql://citus:{quote(value, safe='')}@h/d")
    assert parsed.password is None
    assert any("placeholder" in note for note in parsed.notes)


@pytest.mark.parametrize("value", ["password1", "{braces}=[brackets]", "p@ss", "hunter2", "***"])
def test_real_passwords_are_not_placeholders(value):
    assert not is_placeholder_password(value)


# -- Azure presets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [COSMOS, "c.mycluster.postgres.database.azure.com", "C-Upper.X1.Postgres.Cosmos.Azure.Com"],
)
def test_cosmos_host_fills_citus_defaults(host):
    parsed = parse_connection_string(host)
    s = parsed.settings
    assert (s.dbname, s.user, s.port, s.sslmode) == ("citus", "citus", 5432, "verify-full")
    assert s.is_azure and s.is_cosmos
    assert any("Filled in the Azure Cosmos DB for PostgreSQL defaults" in n for n in parsed.notes)


def test_cosmos_defaults_do_not_override_what_was_given():
    parsed = parse_connection_string(f"postgresql://admin@{COSMOS}:5432/other?sslmode=verify-full")
    s = parsed.settings
    assert (s.dbname, s.user, s.sslmode) == ("other", "admin", "verify-full")
    assert not any("Filled in" in n for n in parsed.notes)


def test_cosmos_partial_string_names_only_what_was_filled():
    parsed = parse_connection_string(f"host={COSMOS} user=citus")
    note = next(n for n in parsed.notes if "Filled in" in n)
    assert "database citus" in note and "the server verified" in note
    assert "user citus" not in note


def test_flexible_server_gets_tls_but_no_citus_user():
    parsed = parse_connection_string("postgresql://myadmin@myserver.postgres.database.azure.com/")
    s = parsed.settings
    assert s.is_azure and not s.is_cosmos
    assert (s.user, s.dbname, s.sslmode) == ("myadmin", "postgres", "verify-full")


def test_pgbouncer_port_warns():
    parsed = parse_connection_string(f"{COSMOS}:6432")
    assert parsed.settings.uses_pgbouncer
    assert any("PgBouncer" in n and "5432" in n for n in parsed.notes)


def test_presets_for_a_form_being_typed():
    settings, notes = apply_presets(ConnectionSettings(host=COSMOS))
    assert (settings.dbname, settings.user, settings.sslmode) == ("citus", "citus", "verify-full")
    assert notes
    plain, none = apply_presets(ConnectionSettings(host="db.example.com"))
    assert plain == ConnectionSettings(host="db.example.com") and none == []


# -- settings and profiles --------------------------------------------------------------------


def test_settings_have_no_password_anywhere():
    parsed = parse_connection_string("postgresql://citus:TopSecret123@db.example.com/citus")
    data = parsed.settings.to_dict()
    assert "password" not in data
    assert "TopSecret123" not in json.dumps(data)
    assert "TopSecret123" not in repr(parsed.settings)
    assert "TopSecret123" not in parsed.settings.conninfo(None)


def test_settings_round_trip_and_ignore_stray_password():
    s = ConnectionSettings(
        host="h",
        port=6432,
        dbname="d",
        user="u",
        sslmode="verify-full",
        sslrootcert="/ca.crt",
        connect_timeout=5,
    )
    assert ConnectionSettings.from_dict(s.to_dict()) == s
    loaded = ConnectionSettings.from_dict({**s.to_dict(), "password": "x", "future_field": 1})
    assert loaded == s


def test_settings_coerce_form_input():
    s = ConnectionSettings(host=" h ", port="6432", sslmode="VerifyFull", connect_timeout="3")  # type: ignore[arg-type]
    assert (s.host, s.port, s.sslmode, s.connect_timeout) == ("h", 6432, "verify-full", 3)


@pytest.mark.parametrize("bad", [dict(port="abc"), dict(port=0), dict(sslmode="maybe")])
def test_bad_settings_are_plain_sentences(bad):
    with pytest.raises(FriendlyError) as info:
        ConnectionSettings(host="h", **bad)
    assert info.value.message.endswith(").") or info.value.message.endswith(".")


def test_display_name():
    assert ConnectionSettings(host="h", dbname="d", user="u").display_name() == "u@h/d"
    assert ConnectionSettings(host="h", port=6432, dbname="d").display_name() == "h:6432/d"


def test_conninfo_has_what_libpq_needs():
    s = ConnectionSettings(
        host="h", dbname="d", user="u", sslmode="verify-full", sslrootcert="/ca dir/ca.crt"
    )
    d = conninfo_to_dict(s.conninfo("pw"))
    assert d == {
        "host": "h",
        "port": "5432",
        "dbname": "d",
        "user": "u",
        "password": "pw",
        "sslmode": "verify-full",
        "sslrootcert": "/ca dir/ca.crt",
        "connect_timeout": "10",
        "application_name": "CourseMig",
    }


# -- what cannot be read ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("mysql://u:p@h/d", "not PostgreSQL"),
        ("jdbc:sqlserver://h;databaseName=d", "not PostgreSQL"),
        ("host=h password=two words", "single quotes"),
        ("host=h password='never closed", "never closes"),
        ('Server=h;Password="never closed', "never closes"),
        ('psql "host=h', "never closes"),
        ("just some words here", "does not look like"),
    ],
)
def test_unreadable_strings_are_explained(text, words):
    with pytest.raises(FriendlyError) as info:
        parse_connection_string(text)
    assert words in info.value.message
    assert "Traceback" not in info.value.message


def test_ignored_settings_are_named():
    parsed = parse_connection_string("postgres://u@h/d?conn_max_age=600&target_session_attrs=any")
    assert any("conn_max_age" in n and "target_session_attrs" in n for n in parsed.notes)


# -- error explanations that need no server (the rest are in tests/integration) ---------------


def _op(message: str) -> psycopg.OperationalError:
    return psycopg.OperationalError(message)


AZURE = ConnectionSettings(host=COSMOS, dbname="citus", user="citus", sslmode="require")


@pytest.mark.parametrize(
    ("message", "settings", "expected"),
    [
        (
            'connection failed: connection to server at "20.1.2.3", port 5432 failed: FATAL:  '
            'no pg_hba.conf entry for host "1.2.3.4", user "citus", database "citus", SSL '
            "encryption",
            AZURE,
            "Azure refused this computer. Add a firewall rule for your IP address 1.2.3.4 in "
            "the portal: Networking → Add current client IP.",
        ),
        (
            'FATAL:  no pg_hba.conf entry for host "10.0.0.9", user "app", database "d", SSL on',
            ConnectionSettings(host="db.lan", user="app", dbname="d"),
            "The server does not accept connections from this computer (10.0.0.9)",
        ),
        (
            "SSL connection is required. Please specify SSL options and retry.",
            AZURE,
            "The server only accepts encrypted connections. Set Security to 'Verify the server (recommended)'.",
        ),
        ("connection timeout expired", AZURE, "Networking → Add current client IP"),
        (
            'could not translate host name "nope.example" to address: Name or service not known',
            None,
            'The server name "nope.example" could not be found.',
        ),
        (
            "server does not support SSL, but SSL was required",
            None,
            "does not offer encrypted connections",
        ),
        ("FATAL:  sorry, too many clients already", None, "no free connection slots"),
        ("FATAL:  the database system is starting up", None, "starting up or shutting down"),
        ("server closed the connection unexpectedly", None, "connection to the server was lost"),
        ("something nobody has seen before", None, "something nobody has seen before"),
    ],
)
def test_explain_error_messages(message, settings, expected):
    friendly = explain_error(_op(message), settings)
    assert expected in friendly.message
    assert message in friendly.detail
    assert "Traceback" not in friendly.message


def test_explain_error_uses_sqlstate_for_permissions():
    exc = psycopg.errors.InsufficientPrivilege("permission denied for schema private")
    friendly = explain_error(exc, ConnectionSettings(host="h", user="citus"))
    assert 'User "citus" has no permission to use or create tables in schema "private"' in (
        friendly.message
    )
    exc = psycopg.errors.InsufficientPrivilege("permission denied for table secret")
    assert 'table "secret"' in explain_error(exc).message


def test_explain_error_keeps_friendly_errors():
    original = FriendlyError("Already plain.", "detail")
    assert explain_error(original) is original


def test_permission_message_names_the_connected_user_not_the_role_in_the_message():
    exc = psycopg.errors.InsufficientPrivilege('must be member of role "postgres"')
    friendly = explain_error(exc, ConnectionSettings(host="h", user="citus"))
    assert friendly.message.startswith('User "citus" is not allowed to do this')


def test_fallback_is_one_clean_sentence():
    friendly = explain_error(psycopg.errors.UniqueViolation("duplicate key value."))
    assert friendly.message.startswith("The database reported a problem: duplicate key value. ")


@pytest.mark.parametrize(
    "text",
    [
        "psql -d postgresql://citus:Hunter2secret@db.example.com/citus",
        "psql -dpostgresql://citus:Hunter2secret@db.example.com/citus",
        "psql --dbname 'host=db.example.com user=citus password=Hunter2secret dbname=citus'",
    ],
)
def test_a_psql_dbname_holding_a_whole_connection_string_is_read_as_one(text):
    """psql expands -d as it does its first argument; taken as a database name, the password
    went into the settings, and from there into every saved migration (in plain text)."""
    from coursemig_gui.core.profile import Profile

    parsed = parse_connection_string(text)
    assert (parsed.settings.host, parsed.settings.dbname) == ("db.example.com", "citus")
    assert parsed.settings.user == "citus" and parsed.password == "Hunter2secret"
    saved = json.dumps(Profile(source=parsed.settings, target=parsed.settings).to_dict())
    assert "Hunter2secret" not in saved
