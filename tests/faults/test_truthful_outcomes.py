"""Issue 12: the COMMIT is the point of no return, and every report says exactly what happened.

Each test makes its fault happen at one exact moment against the real servers (see
``truth_faults`` for how), then checks the three things a user relies on: the rows in the
target, the table's status and sentence, and the exit code.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from fault_helpers import mappings_for
from psycopg import sql
from truth_faults import (
    CommitKiller,
    Killer,
    commit_waits_for_standby,
    slow_commit,
)

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.ddl import create_table
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import CancelToken, LogMessage, Phase, TableProgress
from coursemig_gui.core.mapping import IfExists, Placement, select_tables
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification

pytestmark = pytest.mark.faults

COPIED_NOT_VERIFIED = "copied, not verified"


def _migrate(source_db, target_db, mappings, on_event=None, cancel=None, **options):
    """The one place these tests call the engine (its entry point moves in issue 13)."""
    kw = {"on_event": on_event} if on_event else {}
    return run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings,
        MigrationOptions(**{"batch_rows": 500, "loaders": 1, **options}),  # one at a time
        cancel=cancel,
        **kw,
    )


def _texts(events) -> list[str]:
    return [e.text for e in events if isinstance(e, LogMessage)]


def _on(table: str, phase: Phase, action, events: list):
    """A progress callback that records every event and runs ``action`` once, the first time
    ``table`` announces ``phase``."""
    done = []

    def on_event(event) -> None:
        events.append(event)
        if (
            not done
            and isinstance(event, TableProgress)
            and event.target == table
            and event.phase == phase
        ):
            done.append(True)
            action()

    return on_event


def _keyless_course(source_db, target_db):
    """``course`` made in the target beforehand with no key at all (so a second copy of a row
    would be accepted), and the mapping that appends to it."""
    mappings = mappings_for(source_db, ["courses_course"])
    with open_session(source_db.endpoint) as conn:
        table = read_catalog(conn).table("courses_course")
    with target_db.connect(autocommit=True) as conn:
        conn.execute(create_table(mappings[0], table, "public", keys=False))
    mappings[0].if_exists = IfExists.APPEND
    return mappings


def _course_once(source_db, target_db) -> int:
    expected = source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    count, distinct = target_db.rows("SELECT count(*), count(DISTINCT pid) FROM course")[0]
    assert count == distinct == expected, f"{count} rows, {distinct} distinct, {expected} expected"
    return count


# -- after COMMIT nothing is loaded again ------------------------------------------------------


def test_connection_killed_during_verification_after_commit_is_not_retried(source_db, target_db):
    mappings = _keyless_course(source_db, target_db)
    killer = Killer(target_db, target_db.user)
    events: list = []
    report = _migrate(
        source_db, target_db, mappings, _on("course", Phase.VERIFYING, killer.kill_now, events)
    )
    assert killer.killed and killer.killed != [-1], ("nothing was killed", report.to_json())
    _course_once(source_db, target_db)
    course = report.tables[0]
    assert str(course.status) == COPIED_NOT_VERIFIED, (course.status, course.message)
    assert "rows are in the target" in course.message, course.message
    assert report.exit_code == 1
    assert not [t for t in _texts(events) if "starting it again" in t], _texts(events)
    assert "not verified" in report.headline()


@pytest.mark.parametrize("outcome", ["committed", "aborted"])
def test_connection_killed_while_commit_is_in_flight(source_db, target_db, outcome):
    """The server holds the COMMIT (written and waiting for a standby, or not yet written and
    sleeping in a deferred trigger) while the connection is killed: the engine asks the target
    what became of its transaction and acts on the answer."""
    mappings = _keyless_course(source_db, target_db)
    events: list = []
    if outcome == "committed":
        with commit_waits_for_standby(target_db, target_db.user) as release:
            killer = CommitKiller(target_db, target_db.user, "SyncRep", release)
            try:
                report = _migrate(source_db, target_db, mappings, events.append)
            finally:
                killer.close()
    else:
        remove = slow_commit(target_db, "course")
        killer = CommitKiller(target_db, target_db.user, "PgSleep", remove)
        try:
            report = _migrate(source_db, target_db, mappings, events.append)
        finally:
            killer.close()
    assert killer.killed, "no COMMIT was caught in flight"
    _course_once(source_db, target_db)
    course = report.tables[0]
    texts = _texts(events)
    assert report.exit_code == 0, (report.headline(), course.message, texts)
    assert course.status == Phase.DONE
    assert course.verification == Verification.MATCH
    if outcome == "committed":
        assert any("the target says it was committed" in t for t in texts), texts
        assert not [t for t in texts if "starting it again" in t or "again from the start" in t], (
            texts
        )
    else:
        assert any("the target says it was not committed" in t for t in texts), texts


def test_stop_pressed_during_verification(source_db, target_db):
    cancel = CancelToken()
    events: list = []
    mappings = mappings_for(source_db, ["courses_program"])
    report = _migrate(
        source_db,
        target_db,
        mappings,
        _on("program", Phase.VERIFYING, cancel.cancel, events),
        cancel,
    )
    program = report.tables[0]
    expected = source_db.rows("SELECT count(*) FROM courses_program")[0][0]
    assert target_db.rows("SELECT count(*) FROM program")[0][0] == expected
    assert str(program.status) == COPIED_NOT_VERIFIED, (program.status, program.message)
    assert "rows are in the target" in program.message
    assert report.exit_code == 1
    assert "not verified" in report.headline()


# -- type changes cannot fool verification -----------------------------------------------------

_LEDGER = """
CREATE TABLE ledger (
    id integer PRIMARY KEY,
    amount numeric(12,4),
    whole numeric,
    at timestamptz,
    name varchar(200)
);
INSERT INTO ledger VALUES
    (1, 1.1234, 2.5, '2026-03-01 10:00:00+05', 'a name longer than twenty characters'),
    (2, 2.5000, 3, '2026-03-01 23:30:00-08', 'short'),
    (3, NULL, NULL, NULL, NULL);
ALTER TABLE ledger OWNER TO django;
"""


@pytest.mark.parametrize(
    ("column", "new_type", "existing"),
    [
        ("amount", "numeric(10,2)", False),
        ("amount", "numeric(10,2)", True),
        ("whole", "integer", False),
        ("at", "timestamp without time zone", False),
        ("at", "timestamp without time zone", True),
        ("name", "character varying(20)", False),  # refused row by row already: loud, exit 3
    ],
)
def test_a_lossy_type_change_never_ends_in_success(
    source_db, target_db, column, new_type, existing
):
    with source_db.admin_connect() as conn:
        conn.execute(_LEDGER)
    mappings = mappings_for(source_db, ["ledger"])
    tm = mappings[0]
    tm.column(column).target_type = new_type
    if existing:  # the target's own type, known only once the run looks at the table
        with open_session(source_db.endpoint) as conn:
            table = read_catalog(conn).table("ledger")
        with target_db.connect(autocommit=True) as conn:
            conn.execute(create_table(tm, table, "public"))
        tm.column(column).target_type = table.column(column).type
        tm.if_exists = IfExists.APPEND
    events: list = []
    report = _migrate(source_db, target_db, mappings, events.append)
    ledger = report.tables[0] if report.tables else None
    assert report.exit_code != 0, (report.headline(), ledger)
    if column in ("amount", "at"):  # lost without a word from the server: only we can say it
        not_started = report.message.startswith("The migration cannot start")
        # a run refused before any table "could not start" (2); a failed table is 1
        assert report.exit_code == (2 if not_started else 1)
        stopped = not_started or (str(ledger.status) == "failed" and ledger.rows_written == 0)
        assert stopped or ledger.verification == Verification.MISMATCH, (report.message, ledger)
        said = f"{report.message} {ledger.message if ledger else ''}"
        assert column in said, said
        assert target_db.rows("SELECT count(*) FROM pg_class WHERE relname = 'ledger'") == [
            (1 if existing else 0,)
        ]
    else:  # refused row by row by the server: each such row is logged with its reason
        assert report.exit_code in (1, 3)
        if report.exit_code == 3:
            assert ledger.rows_rejected == 1
    if column == "whole":  # the sentence before the run names fractions, not only "large values"
        warnings = " ".join(e.text for e in events if isinstance(e, LogMessage))
        assert "fraction" in f"{warnings} {report.message}", warnings


def test_a_type_that_cannot_be_read_back_is_counted_and_says_so(source_db, target_db):
    """An enum of the source copied as text: the target has no such type to read the values
    back as, so the check counts the rows and the report says what it did not compare."""
    with source_db.admin_connect() as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('calm', 'busy')")
        conn.execute("CREATE TABLE moods (id integer PRIMARY KEY, m mood)")
        conn.execute("INSERT INTO moods VALUES (1, 'calm'), (2, 'busy'), (3, NULL)")
        conn.execute("ALTER TABLE moods OWNER TO django")
    mappings = mappings_for(source_db, ["moods"])
    mappings[0].column("m").target_type = "text"
    report = _migrate(source_db, target_db, mappings)
    moods = report.tables[0]
    assert moods.status == Phase.DONE, moods.message
    assert moods.verification == Verification.COUNTS_MATCH
    assert "not compared" in moods.verification_detail and "m (mood -> text)" in (
        moods.verification_detail
    ), moods.verification_detail
    assert "checked by row count only: moods" in report.headline()


# -- steps after the loads ---------------------------------------------------------------------


def test_citus_failing_sequence_move_reaches_exit_code_and_headline(source_db, citus_db, tmp_path):
    """On the real Citus cluster, as the non-superuser citus over TLS."""
    target_db = citus_db
    mappings = mappings_for(
        source_db, ["courses_program", "courses_degree", "courses_specialization"]
    )
    for tm in mappings:
        tm.placement = Placement.REFERENCE
    spec = next(tm for tm in mappings if tm.target == "specialization")
    spec.placement, spec.distribution_column = Placement.DISTRIBUTED, "id"

    def squeeze_sequence() -> None:
        # citus may no longer move the sequence: moving it past the copied ids fails (Citus
        # refuses ALTER SEQUENCE on a distributed table's sequence, so the right is taken)
        with target_db.admin_connect() as conn:
            conn.execute("REVOKE ALL ON SEQUENCE specialization_id_seq FROM citus")

    events: list = []
    report = _migrate(
        source_db,
        target_db,
        mappings,
        _on("specialization", Phase.COPYING, squeeze_sequence, events),
    )
    assert report.exit_code == 1, (report.headline(), report.message)
    headline = report.headline()
    assert "sequence" in headline and "specialization" in headline, headline
    data = json.loads(report.to_json())
    assert data["exit_code"] == 1 and data["headline"] == headline


# -- one table's trouble is that table's ---------------------------------------------------------


def test_a_bad_type_name_in_a_profile_fails_only_its_table(
    source_db, target_db, tmp_path, monkeypatch, capsys
):
    from coursemig_gui.core.profile import Profile

    monkeypatch.setenv("PGPASSWORD", target_db.password)  # a profile holds no password
    mappings = mappings_for(source_db, ["courses_program", "courses_degree", "courses_course"])
    course = next(tm for tm in mappings if tm.target == "course")
    course.column("title").target_type = '"Status"'  # a quoted enum name typed in the box
    path = Profile(
        name="bad type",
        source=parse_connection_string(source_db.url).settings,
        target=parse_connection_string(target_db.url).settings,
        tables=mappings,
    ).save(tmp_path / "bad.json")
    report_file = tmp_path / "report.json"
    capsys.readouterr()
    code = main(["run", str(path), "--json-report", str(report_file)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 1
    data = json.loads(report_file.read_text())
    by_target = {t["target"]: t for t in data["tables"]}
    assert by_target["course"]["status"] == "failed"
    assert "type" in by_target["course"]["message"] and by_target["course"]["message"].endswith(".")
    assert by_target["program"]["status"] == by_target["degree"]["status"] == "done"
    assert (
        target_db.rows("SELECT count(*) FROM degree")[0][0]
        == source_db.rows("SELECT count(*) FROM courses_degree")[0][0]
    )


# -- CSV and encodings -------------------------------------------------------------------------


def test_a_csv_with_a_lone_end_of_data_line(target_db, tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "items.csv").write_bytes(b"id,name\n1,a\n\\.\n2,b\n3,c\n")
    report_file = tmp_path / "report.json"
    code = main(
        [
            "import",
            str(folder),
            "--target",
            target_db.url,
            "--rejects-dir",
            str(tmp_path / "rejects"),
            "--json-report",
            str(report_file),
            "-q",
        ]
    )
    data = json.loads(report_file.read_text())
    items = data["tables"][0]
    ids = sorted(r[0] for r in target_db.rows("SELECT id FROM items"))
    # every row, or every row but the \. line, which is then rejected with its reason
    assert ids in (["1", "2", "3"], ["1", "2", "3", "\\."]), ids
    if len(ids) == 3:
        assert items["rows_rejected"] == 1 and code == 3, data
        errors = (tmp_path / "rejects" / "errors.csv").read_text()
        assert "items" in errors
    else:
        assert code == 0, data


@pytest.fixture
def latin1_source(servers):
    """A LATIN1 database on the source server (as an old Django project may have)."""
    server = servers.source
    name = "latin1_truth"
    with psycopg.connect(server.admin_conninfo(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'LATIN1' "
                "LC_COLLATE 'C' LC_CTYPE 'C' OWNER django"
            ).format(sql.Identifier(name))
        )
    with psycopg.connect(server.admin_conninfo(name), autocommit=True) as conn:
        conn.execute("SET client_encoding = 'UTF8'")
        conn.execute("CREATE TABLE notes (id integer PRIMARY KEY, body text, label varchar(20))")
        conn.execute(
            "INSERT INTO notes VALUES (1, 'Café Zürich, señor, Ålborg, ½', 'Ñandú'), "
            "(2, 'plain', NULL)"
        )
        conn.execute("ALTER TABLE notes OWNER TO django")
    try:
        parsed = parse_connection_string(server.url("django", name))
        yield Endpoint(parsed.settings, parsed.password)
    finally:
        with psycopg.connect(server.admin_conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def test_a_latin1_source_database_copies_its_text_correctly(latin1_source, target_db):
    with open_session(latin1_source) as conn:
        catalog = read_catalog(conn)
    from coursemig_gui.core.mapping import default_mappings

    mappings = default_mappings(catalog, select_tables(catalog, ["notes"]))
    report = run_migration(latin1_source, target_db.endpoint, mappings, MigrationOptions())
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    assert report.tables[0].verification == Verification.MATCH
    assert target_db.rows("SELECT id, body, label FROM notes ORDER BY id") == [
        (1, "Café Zürich, señor, Ålborg, ½", "Ñandú"),
        (2, "plain", None),
    ]


# -- the source's snapshot ---------------------------------------------------------------------


def test_the_snapshot_outlives_its_exporter_in_the_run_s_own_session(source_db, target_db):
    """The connection that exported the shared snapshot is killed while the second table
    (course) loads: the third (degree) is still read as of the same moment, by the run's source
    session that is inside the snapshot's transaction (handed from table to table), so every
    table is copied and verified."""
    mappings = mappings_for(source_db, ["courses_program", "courses_degree", "courses_course"])
    killer = Killer(source_db, source_db.user, "query LIKE '%%pg_export_snapshot%%'")
    events: list = []
    report = _migrate(
        source_db, target_db, mappings, _on("course", Phase.COPYING, killer.kill_now, events)
    )
    assert killer.killed and killer.killed != [-1], "the snapshot's connection was not found"
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert {t.verification for t in report.tables} == {Verification.MATCH}


def test_a_source_restart_is_said_and_the_rerun_offered(source_db, target_db):
    """Every source session of the run is killed (as a source restart would) while the second
    table (course) loads: its rows cannot be read again as of the same moment as the first
    table's, nor can the third's, so neither is written, and the run says why and how to finish
    the job."""
    mappings = mappings_for(source_db, ["courses_program", "courses_degree", "courses_course"])
    killer = Killer(source_db, source_db.user)
    events: list = []
    report = _migrate(
        source_db, target_db, mappings, _on("course", Phase.COPYING, killer.kill_now, events)
    )
    assert killer.killed and killer.killed != [-1], "the run's source sessions were not found"
    by_target = {t.target: t for t in report.tables}
    assert [t.target for t in report.tables] == ["program", "course", "degree"]  # load order
    assert by_target["program"].status == Phase.DONE
    for name in ("course", "degree"):
        assert by_target[name].status in (Phase.FAILED, Phase.NOT_STARTED), name
        assert target_db.rows(f"SELECT to_regclass('public.{name}')") == [(None,)]
    assert any("snapshot" in by_target[name].message for name in ("course", "degree"))
    assert report.exit_code == 1
    assert "Skip" in report.message and "again" in report.message, report.message


# -- smaller ones ------------------------------------------------------------------------------


def test_stop_while_waiting_for_a_lock_is_a_stop_not_a_timeout(source_db, target_db):
    """Stop pressed while the engine waits to empty a table another session has locked: the
    server cancels the statement, and the table reads as stopped by the user."""
    import threading
    import time

    first = _migrate(source_db, target_db, mappings_for(source_db, ["courses_program"]))
    assert first.exit_code == 0, first.headline()
    before = target_db.rows("SELECT count(*) FROM program")[0][0]
    mappings = mappings_for(source_db, ["courses_program"])
    mappings[0].if_exists = IfExists.REPLACE
    cancel = CancelToken()
    locker = target_db.admin_connect()
    locker.execute("BEGIN")
    locker.execute("LOCK TABLE program IN ACCESS EXCLUSIVE MODE")

    def stop_when_waiting() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = target_db.rows(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = %s "
                "AND wait_event_type = 'Lock'",
                [target_db.user],
            )
            if rows[0][0]:
                cancel.cancel()
                return
            time.sleep(0.05)

    stopper = threading.Thread(target=stop_when_waiting, daemon=True)
    stopper.start()
    try:
        report = _migrate(source_db, target_db, mappings, cancel=cancel)
    finally:
        stopper.join(5)
        locker.execute("ROLLBACK")
        locker.close()
    program = report.tables[0]
    assert cancel.cancelled, "the engine never waited for the lock"
    assert program.status == Phase.ROLLED_BACK, program.message
    assert program.message == "Stopped: program was rolled back and is as it was before."
    assert "time limit" not in program.message
    assert target_db.rows("SELECT count(*) FROM program")[0][0] == before


def test_a_failed_export_leaves_no_half_file(source_db, tmp_path):
    """The export of degree fails when it is renamed into place (a folder is in the way):
    no *.csv.part is left behind, degree fails with a sentence, program is exported."""
    from coursemig_gui.core.options import Route

    folder = tmp_path / "export"
    (folder / "courses_degree.csv").mkdir(parents=True)  # in the way of the finished file
    mappings = mappings_for(source_db, ["courses_program", "courses_degree"])
    options = MigrationOptions(route=Route.EXPORT, csv_dir=str(folder))
    report = run_migration(source_db.endpoint, None, mappings, options)
    by_target = {t.target: t for t in report.tables}
    assert by_target["program"].status == Phase.DONE
    degree = by_target["degree"]
    assert degree.status == Phase.FAILED
    assert "courses_degree.csv" in degree.message and "inside CourseMig" not in degree.message
    assert not list(folder.glob("*.part")), list(folder.iterdir())
    assert report.exit_code == 1


def test_a_latin1_source_with_a_rejected_row_is_verified_on_the_client(
    latin1_source, target_db, tmp_path
):
    """The servers' encodings differ, so their hashes of the same text would too: the
    client-side check decides, reading the source again in the load's snapshot and taking the
    rejected row (its label does not fit a narrowed column) off the source's side."""
    from coursemig_gui.core.mapping import default_mappings

    with open_session(latin1_source) as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, select_tables(catalog, ["notes"]))
    (label,) = [c for c in mappings[0].columns if c.source == "label"]
    label.target_type = "character varying(3)"
    options = MigrationOptions(rejects_dir=str(tmp_path))
    report = run_migration(latin1_source, target_db.endpoint, mappings, options)
    notes = report.tables[0]
    assert report.exit_code == 3, (report.headline(), notes.message)
    assert notes.rows_rejected == 1
    assert notes.verification == Verification.MATCH, notes.verification_detail
    assert "read back as the source's types" in notes.verification_detail
    assert target_db.rows("SELECT id, body, label FROM notes") == [(2, "plain", None)]
