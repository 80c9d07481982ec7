"""Issue 9, item 3: trouble on the target.

An incompatible table, a missing privilege, a statement timeout, a server restart and a killed
connection: the affected table is as it was before, the rest of the report is right, and
running again finishes the job without duplicates.
"""

from __future__ import annotations

import csv
import threading

import psycopg
import pytest
from fault_helpers import mappings_for
from psycopg import sql

from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.events import LogMessage, Phase, TableProgress
from coursemig_gui.core.mapping import IfExists
from coursemig_gui.core.options import MigrationOptions

pytestmark = pytest.mark.faults

TABLES = ["courses_program", "courses_degree", "courses_course"]


def _options(**kw) -> MigrationOptions:
    # one table at a time unless a test says otherwise: each fault strikes the table loading
    # at that moment, and the tests say what becomes of it and of the others
    return MigrationOptions(**{"loaders": 1, **kw})


def _by_target(report) -> dict:
    return {t.target: t for t in report.tables}


def _course_state(target_db) -> tuple | None:
    if target_db.rows("SELECT to_regclass('public.course')")[0][0] is None:
        return None
    return target_db.rows(
        "SELECT count(*), count(DISTINCT pid), max(pid), sum(length(title)) FROM course"
    )[0]


def _source_courses(source_db) -> int:
    return source_db.rows("SELECT count(*) FROM courses_course")[0][0]


def _first_run(source_db, target_db, tables=TABLES):
    report = run_migration(
        source_db.endpoint, target_db.endpoint, mappings_for(source_db, tables), _options()
    )
    assert report.exit_code == 0, report.headline()


def _again(source_db, only: dict[str, IfExists], tables=TABLES):
    mappings = mappings_for(source_db, tables)
    for tm in mappings:
        tm.if_exists = only.get(tm.target, IfExists.SKIP)
    return mappings


def _assert_complete(source_db, target_db) -> None:
    n = _source_courses(source_db)
    count, distinct, *_ = _course_state(target_db)
    assert count == distinct == n  # every row once
    assert (
        target_db.rows("SELECT count(*) FROM program")[0][0]
        == source_db.rows("SELECT count(*) FROM courses_program")[0][0]
    )


@pytest.mark.parametrize("shape", ["missing-column", "wrong-type", "required-extra-column"])
def test_incompatible_existing_table(source_db, target_db, shape):
    _first_run(source_db, target_db)
    with target_db.admin_connect() as conn:
        conn.execute(
            "DELETE FROM course WHERE pid NOT IN (SELECT pid FROM course ORDER BY pid LIMIT 10)"
        )
        if shape == "missing-column":
            conn.execute("ALTER TABLE course DROP COLUMN notes")
        elif shape == "required-extra-column":  # a newer model's required field, no default
            conn.execute("ALTER TABLE course ADD COLUMN campus text NOT NULL DEFAULT 'main'")
            conn.execute("ALTER TABLE course ALTER COLUMN campus DROP DEFAULT")
        else:
            conn.execute("ALTER TABLE course ALTER COLUMN title TYPE integer USING length(title)")
    before = target_db.rows("SELECT count(*), max(pid) FROM course")[0]

    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _again(source_db, {"course": IfExists.APPEND}),
        _options(),
    )
    tables = _by_target(report)
    course = tables["course"]
    assert course.status == Phase.FAILED and course.rows_written == 0
    if shape == "missing-column":
        assert "The existing table course has no column notes" in course.message
    elif shape == "required-extra-column":  # said once, not as every row's "campus is empty"
        assert "The existing table course requires a value in campus" in course.message
        assert course.rows_rejected == 0
    else:
        assert "could not be copied, so course was left as it was" in course.message
    assert tables["program"].status == tables["degree"].status == Phase.SKIPPED
    assert report.exit_code == 1
    assert target_db.rows("SELECT count(*), max(pid) FROM course")[0] == before

    # The table is put right (here: dropped), and the same run finishes without duplicates.
    with target_db.admin_connect() as conn:
        conn.execute("DROP TABLE course")
    again = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _again(source_db, {"course": IfExists.FAIL}),
        _options(),
    )
    assert again.exit_code == 0, again.headline()
    _assert_complete(source_db, target_db)


def test_role_cannot_create_tables_in_the_schema(source_db, target_db):
    with target_db.admin_connect() as conn:
        conn.execute("ALTER SCHEMA public OWNER TO CURRENT_USER")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC, citus")
        conn.execute("GRANT USAGE ON SCHEMA public TO citus")
    report = run_migration(
        source_db.endpoint, target_db.endpoint, mappings_for(source_db, TABLES), _options()
    )
    assert report.exit_code == 1
    for t in report.tables:
        assert t.status == Phase.FAILED
        assert 'no permission to use or create tables in schema "public"' in t.message, t.message
        assert "Traceback" not in t.message
    assert (
        target_db.rows(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'r'"
        )[0][0]
        == 0
    )

    with target_db.admin_connect() as conn:
        conn.execute("GRANT CREATE ON SCHEMA public TO citus")
    again = run_migration(
        source_db.endpoint, target_db.endpoint, mappings_for(source_db, TABLES), _options()
    )
    assert again.exit_code == 0, again.headline()
    _assert_complete(source_db, target_db)


def test_role_cannot_write_one_existing_table(source_db, target_db):
    with target_db.admin_connect() as conn:
        conn.execute(
            "CREATE TABLE degree (code varchar(10) PRIMARY KEY, name varchar(100), "
            "description text)"
        )
        conn.execute("GRANT SELECT ON degree TO citus")
    mappings = mappings_for(source_db, TABLES)
    for tm in mappings:
        tm.if_exists = IfExists.APPEND
        if tm.target == "degree":
            tm.columns = [cm for cm in tm.columns if cm.source in ("code", "name", "description")]
    report = run_migration(source_db.endpoint, target_db.endpoint, mappings, _options())
    tables = _by_target(report)
    assert tables["degree"].status == Phase.FAILED
    assert "no permission" in tables["degree"].message and "degree" in tables["degree"].message
    assert tables["program"].status == tables["course"].status == Phase.DONE
    assert report.exit_code == 1
    assert target_db.rows("SELECT count(*) FROM degree")[0][0] == 0
    _assert_complete(source_db, target_db)


def test_statement_timeout(source_db, target_db):
    _first_run(source_db, target_db, ["courses_program", "courses_course"])
    with target_db.admin_connect() as conn:
        conn.execute("DELETE FROM course")
        # every COPY into course now takes a second, and the role may run for 0.3 s
        conn.execute(
            "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$"
        )
        conn.execute(
            "CREATE TRIGGER slow BEFORE INSERT ON course FOR EACH STATEMENT EXECUTE FUNCTION slow()"
        )
        conn.execute(
            f"ALTER ROLE citus IN DATABASE {target_db.dbname} SET statement_timeout = '300ms'"
        )
    tables = ["courses_program", "courses_course"]
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _again(source_db, {"course": IfExists.APPEND}, tables),
        _options(),
    )
    course = _by_target(report)["course"]
    assert course.status == Phase.FAILED
    assert "statement_timeout" in course.message and "as it was before" in course.message, (
        course.message
    )
    assert _by_target(report)["program"].status == Phase.SKIPPED
    assert _course_state(target_db)[0] == 0

    with target_db.admin_connect() as conn:
        conn.execute(f"ALTER ROLE citus IN DATABASE {target_db.dbname} RESET statement_timeout")
    again = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _again(source_db, {"course": IfExists.APPEND}, tables),
        _options(),
    )
    assert again.exit_code == 0, again.headline()
    _assert_complete(source_db, target_db)


def _during_course(action):
    """An on_event that runs ``action`` once, in a thread, while course is mid-load (some
    batches sent inside its open transaction), and waits for it: the load goes on after."""
    done = threading.Event()
    log: list[LogMessage] = []

    def on_event(event) -> None:
        if isinstance(event, LogMessage):
            log.append(event)
        if (
            isinstance(event, TableProgress)
            and event.target == "course"
            and event.phase == Phase.COPYING
            and event.rows_done > 0
            and not done.is_set()
        ):
            done.set()
            worker = threading.Thread(target=action)
            worker.start()
            worker.join(60)

    return on_event, done, log


@pytest.mark.parametrize("loaders", [1, 3], ids=["one table at a time", "three at once"])
def test_server_restarts_mid_table(servers, source_db, target_db, loaders):
    """The target restarts while course loads. With three tables at once (the default) the
    restart also breaks the idle sessions, and a table starting meanwhile cannot open one: each
    is tried again on new sessions. Every table ends copied, verified and complete."""

    def restart() -> None:
        servers.target.restart()

    on_event, done, log = _during_course(restart)
    try:
        report = run_migration(
            source_db.endpoint,
            target_db.endpoint,
            mappings_for(source_db, TABLES),
            _options(batch_rows=200, loaders=loaders),
            on_event,
        )
    finally:  # the server is shared by every test: make sure it is up again
        try:
            target_db.rows("SELECT 1")
        except psycopg.OperationalError:
            servers.target.start()
    assert done.is_set()
    assert report.exit_code == 0, [(t.target, t.message) for t in report.tables]
    assert all(t.status == Phase.DONE for t in report.tables)
    assert any("copied on try 2" in m.text for m in log), [m.text for m in log]
    assert {t.verification for t in report.tables} == {"match"}
    _assert_complete(source_db, target_db)


def test_a_test_run_cut_by_a_restart_says_what_it_could_not_try(servers, source_db, target_db):
    """A test run's one transaction is gone with a restart: the tables after it are not said
    to fail (a real run starts them again), and the sequences are checked once the server is
    back, so none is left moved."""
    with target_db.connect(autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE kept_seq")
        conn.execute("SELECT setval('kept_seq', 41)")

    def restart() -> None:
        servers.target.restart()

    on_event, done, log = _during_course(restart)
    try:
        report = run_migration(
            source_db.endpoint,
            target_db.endpoint,
            mappings_for(source_db, TABLES),
            _options(batch_rows=200),
            on_event,
            test_run=True,
        )
    finally:
        try:
            target_db.rows("SELECT 1")
        except psycopg.OperationalError:
            servers.target.start()
    assert done.is_set()
    headline = report.headline()
    assert "would fail" not in headline, headline
    assert "could not be tried to the end because the connection to the target broke" in headline
    assert "course" in headline
    assert report.exit_code != 0
    assert not report.notes, report.notes  # the sequences were checked after the restart
    assert target_db.rows("SELECT last_value, is_called FROM kept_seq") == [(41, True)]
    assert target_db.rows(
        "SELECT count(*) FROM pg_class WHERE relname IN ('program', 'degree', 'course')"
    ) == [(0,)]


def _kill_copy(target_db):
    def kill() -> None:
        with target_db.admin_connect() as conn:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND usename = 'citus' AND pid <> pg_backend_pid()"
            ).fetchall()
        assert killed

    return kill


def test_connection_killed_mid_table_is_retried(source_db, target_db):
    on_event, done, log = _during_course(_kill_copy(target_db))
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings_for(source_db, TABLES),
        _options(batch_rows=200),
        on_event,
    )
    assert done.is_set()
    assert report.exit_code == 0, report.headline()
    assert any("copied on try 2" in m.text for m in log)
    _assert_complete(source_db, target_db)


def test_connection_killed_without_retries_leaves_table_as_before(source_db, target_db):
    on_event, done, _ = _during_course(_kill_copy(target_db))
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings_for(source_db, TABLES),
        _options(batch_rows=200, retries=0),
        on_event,
    )
    assert done.is_set()
    tables = _by_target(report)
    course = tables["course"]
    assert course.status == Phase.FAILED and course.rows_written == 0
    # killed while a COPY's rows were being sent, the client may not get to read the server's
    # reason before the socket closes: then it can only say the connection was lost
    assert (
        "The server ended the connection" in course.message
        or "The connection to the server was lost." in course.message
    ), course.message
    assert "rolled back and is as it was before" in course.message
    assert tables["program"].status == tables["degree"].status == Phase.DONE
    assert report.exit_code == 1
    assert _course_state(target_db) is None  # a new table: not there at all

    again = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _again(source_db, {"course": IfExists.FAIL}),
        _options(),
    )
    assert again.exit_code == 0, again.headline()
    _assert_complete(source_db, target_db)


def test_rows_rejected_before_a_retry_are_listed_once(source_db, target_db, tmp_path):
    _first_run(source_db, target_db, ["courses_program", "courses_course"])
    bad = [r[0] for r in source_db.rows("SELECT pid FROM courses_course LIMIT 3")]
    with target_db.admin_connect() as conn:
        conn.execute("DELETE FROM course")
        conn.execute(
            sql.SQL(
                "ALTER TABLE course ADD CONSTRAINT not_these CHECK (pid <> ALL ({}::text[]))"
            ).format(sql.Literal(bad))
        )
    on_event, done, log = _during_course(_kill_copy(target_db))
    tables = ["courses_program", "courses_course"]
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _again(source_db, {"course": IfExists.APPEND}, tables),
        _options(batch_rows=200, rejects_dir=str(tmp_path / "rejects")),
        on_event,
    )
    assert done.is_set()
    assert any("copied on try 2" in m.text for m in log)
    course = _by_target(report)["course"]
    assert course.status == Phase.DONE_WITH_REJECTS and course.rows_rejected == 3, course.message
    assert report.exit_code == 3
    assert _course_state(target_db)[0] == _source_courses(source_db) - 3
    with (tmp_path / "rejects" / "course.rejected.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert sorted(row[0] for row in rows[1:]) == sorted(bad)  # each once, header first
    with (tmp_path / "rejects" / "errors.csv").open(newline="", encoding="utf-8") as f:
        errors = list(csv.reader(f))
    assert [row[0] for row in errors[1:]] == ["course"] * 3
