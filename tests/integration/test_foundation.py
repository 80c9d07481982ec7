"""The ground everything else stands on: the two test servers behave like the user's, the Django
source is what Django makes, the sample data holds every awkward value, and the demo starts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql

from coursemig_gui.demo import demo, localserver
from coursemig_gui.demo.nasty_cases import NASTY_CASES
from coursemig_gui.demo.sample_data import SampleSummary, create_django_schema, fill_sample_data

PSQL = "/usr/bin/psql"


def _no_password_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Make sure libpq cannot find a password anywhere but in the connection string."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    return {"passfile": str(tmp_path / "no-such-pgpass")}


# -- the Azure-like target -------------------------------------------------------------------------


def test_target_refuses_a_login_without_password(target_db, tmp_path, monkeypatch):
    url = target_db.server.url(target_db.user, target_db.dbname, sslmode="verify-full")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(url, connect_timeout=10, **_no_password_file(tmp_path, monkeypatch))


def test_target_refuses_a_login_without_tls(target_db):
    url = target_db.server.url(
        target_db.user, target_db.dbname, target_db.password, sslmode="disable"
    )
    # hostssl only: without TLS there is no pg_hba.conf line at all, as on Azure
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry"):
        psycopg.connect(url, connect_timeout=10)


def test_target_accepts_verify_full_with_the_test_ca(target_db):
    assert "sslmode=verify-full" in target_db.url and "sslrootcert=" in target_db.url
    with target_db.connect() as conn:
        ssl, user, superuser = conn.execute(
            "SELECT s.ssl, current_user, r.rolsuper FROM pg_stat_ssl s, pg_roles r"
            " WHERE s.pid = pg_backend_pid() AND r.rolname = current_user"
        ).fetchone()
    assert (ssl, user, superuser) == (True, "citus", False)


# -- the user's first wall: server-side COPY needs a superuser ---------------------------------------


def test_server_side_copy_to_a_file_is_refused_for_the_django_role(source_db):
    with source_db.connect() as conn:
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (False,)
        with pytest.raises(errors.InsufficientPrivilege) as caught:
            conn.execute(
                "COPY courses_course TO '/tmp/courses_course.csv' DELIMITER ',' CSV HEADER"
            )
    assert caught.value.sqlstate == "42501"


def test_server_side_copy_to_a_file_is_refused_on_the_target(target_db):
    with target_db.connect() as conn, pytest.raises(errors.InsufficientPrivilege) as caught:
        conn.execute("COPY (SELECT 1) TO '/tmp/x.csv'")
    assert caught.value.sqlstate == "42501"


# -- the Django-made source ----------------------------------------------------------------------


def test_django_puts_the_foreign_key_column_last(empty_source_db):
    # the reason the user's CSV had program_id "at the back"
    positions = dict(
        empty_source_db.rows(
            "SELECT column_name, ordinal_position FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = 'courses_course'"
        )
    )
    assert positions["program_id"] > positions["link"]
    assert positions["program_id"] == max(positions.values())
    degree = dict(
        empty_source_db.rows(
            "SELECT column_name, ordinal_position FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = 'courses_degree'"
        )
    )
    assert degree["program_id"] == max(degree.values())


def test_django_source_has_the_users_nineteen_tables(empty_source_db):
    tables = {
        name
        for (name,) in empty_source_db.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
    }
    assert len(tables) == 19
    assert {
        "courses_coursesectionlink_sections",
        "courses_meetingtime",
        "django_migrations",
    } <= tables


def test_source_holds_the_sample_catalogue_and_every_nasty_value(source_db):
    [(courses,)] = source_db.rows("SELECT count(*) FROM courses_course")
    assert courses >= 3547
    for case in NASTY_CASES:
        query = sql.SQL(
            "SELECT count(*) FROM {} WHERE {} = %s AND {} IS NOT DISTINCT FROM %s"
        ).format(
            sql.Identifier(case.table), sql.Identifier(case.key_column), sql.Identifier(case.column)
        )
        assert source_db.rows(query, (case.key, case.value)) == [(1,)], case.name


def test_long_description_fills_the_column_to_its_limit(source_db):
    [(chars, octets)] = source_db.rows(
        "SELECT max(char_length(description)), max(octet_length(description)) FROM courses_course"
    )
    assert chars == 15000 and octets > 15000


# -- create_django_schema is Django's schema, exactly -----------------------------------------------


def _schema_snapshot(admin_conninfo: str) -> dict[str, list[tuple]]:
    """Everything about public's tables a migration could care about, in a comparable form.

    Columns are compared by their order, not attnum: Django's contenttypes 0002 drops a column
    of django_content_type, which leaves a gap in attnum (and in information_schema's
    ordinal_position) that a dump-made table does not have.
    """
    queries = {
        "columns": """
            SELECT c.relname, row_number() OVER (PARTITION BY c.relname ORDER BY a.attnum),
                   a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, a.attidentity, pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0
              AND NOT a.attisdropped
            ORDER BY 1, 2""",
        "constraints": """
            SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid),
                   c.condeferrable, c.condeferred
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = 'public'
            ORDER BY 1, 2""",
        "indexes": """
            SELECT tablename, indexname, indexdef FROM pg_indexes
            WHERE schemaname = 'public' ORDER BY 1, 2""",
        "sequences": """
            SELECT s.sequencename, s.data_type::text, s.start_value, s.increment_by,
                   s.min_value, s.max_value, s.cache_size, s.cycle, s.last_value
            FROM pg_sequences s WHERE s.schemaname = 'public' ORDER BY 1""",
        "owners": """
            SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' ORDER BY 1""",
        "migrations": "SELECT id, app, name FROM django_migrations ORDER BY id",
        "content_types": "SELECT id, app_label, model FROM django_content_type ORDER BY id",
        "permissions": """
            SELECT id, name, content_type_id, codename FROM auth_permission ORDER BY id""",
    }
    with psycopg.connect(admin_conninfo) as conn:
        return {name: conn.execute(query).fetchall() for name, query in queries.items()}


@pytest.fixture
def fresh_django_owned_db(servers):
    """An empty database on the source server owned by the role django (no tables yet)."""
    dbname = f"fresh_{os.getpid()}"
    with psycopg.connect(servers.source.admin_conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER django").format(sql.Identifier(dbname)))
    try:
        yield dbname
    finally:
        with psycopg.connect(servers.source.admin_conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )


def test_create_django_schema_makes_exactly_what_django_makes(
    servers, empty_source_db, fresh_django_owned_db
):
    create_django_schema(servers.source.url("django", fresh_django_owned_db))
    made = _schema_snapshot(servers.source.admin_conninfo(fresh_django_owned_db))
    django = _schema_snapshot(empty_source_db.admin)
    assert len(made["owners"]) > 19 and {r[2] for r in made["owners"]} == {"django"}
    for part in django:
        assert made[part] == django[part], part


def test_filling_leaves_the_schema_as_django_made_it(source_db, empty_source_db):
    # fill_sample_data sets keys and indexes aside while it loads: they must all come back
    filled = _schema_snapshot(source_db.admin)
    empty = _schema_snapshot(empty_source_db.admin)
    moved = {
        "courses_coursesectionlink_id_seq",
        "courses_coursesectionlink_sections_id_seq",
        "courses_specialization_id_seq",
    }
    for part in empty:
        if part == "sequences":  # same sequences; only the loaded identities moved on
            assert [r[:-1] for r in filled[part]] == [r[:-1] for r in empty[part]]
            before = {r[0]: r[-1] for r in empty[part]}
            assert {r[0] for r in filled[part] if r[-1] != before[r[0]]} == moved
        else:
            assert filled[part] == empty[part], part


def test_fill_makes_the_schema_when_missing_and_refuses_to_fill_twice(
    servers, fresh_django_owned_db
):
    url = servers.source.url("django", fresh_django_owned_db)
    summary = fill_sample_data(url, courses=40, seed=3)
    assert isinstance(summary, SampleSummary) and summary.courses == 40
    admin = servers.source.admin_conninfo(fresh_django_owned_db)
    with psycopg.connect(admin) as conn:
        for table, count in summary.by_table().items():
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            assert conn.execute(query).fetchone() == (count,), table
        [(applied,)] = conn.execute("SELECT count(*) FROM django_migrations").fetchall()
        assert applied > 10
    with pytest.raises(ValueError, match="already holds rows"):
        fill_sample_data(url, courses=40, seed=3)
    # the identities were moved past the explicit ids: the app's next INSERT just works
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO courses_specialization (title, degree_id) VALUES ('new', 'BA-GENERAL')"
        )


# -- the demo ------------------------------------------------------------------------------------


def _psql(url: str, query: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    result = subprocess.run(
        [PSQL, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", query],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow  # two more servers, one with fresh certificates
@pytest.mark.skipif(not Path(PSQL).exists(), reason="psql is not installed")
def test_demo_gives_two_urls_psql_can_use():
    servers = demo.start_demo(courses=60)
    try:
        assert servers.target_password and servers.target_password in servers.target_url
        assert "sslmode=verify-full" in servers.target_url
        assert _psql(servers.source_url, "SELECT count(*) FROM courses_course") == "60"
        assert (
            _psql(
                servers.source_url,
                "SELECT current_user || ' ' || rolsuper FROM pg_roles WHERE rolname = current_user",
            )
            == "django false"
        )
        assert (
            _psql(
                servers.target_url,
                "SELECT current_user || ' ' || current_database() || ' ' || ssl"
                " FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            )
            == "citus citus true"
        )
    finally:
        servers.stop()
    assert not servers.source.base_dir.exists() and not servers.target.base_dir.exists()


def test_demo_without_server_programs_says_how_to_install_them(monkeypatch):
    monkeypatch.setattr(localserver, "find_server_bindir", lambda: None)
    with pytest.raises(localserver.ServerSetupError, match="apt-get install postgresql"):
        demo.start_demo()
