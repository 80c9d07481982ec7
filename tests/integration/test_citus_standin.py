"""Citus targets, against stand-in Citus functions on the plain TLS target (see standin_citus.py).

The stand-ins record every create_reference_table / create_distributed_table call, and an event
trigger records CREATE TABLE, each COPY and ALTER TABLE, so these tests read the order the
engine runs things in: create tables -> distribute while empty -> load reference and local
tables -> load distributed tables -> add foreign keys -> move sequences.
"""

from __future__ import annotations

import pytest
import standin_citus
from psycopg import sql

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.citus.detection import detect_citus
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import CancelToken, LogMessage, Phase, TableProgress
from coursemig_gui.core.mapping import Placement, default_mappings, select_tables
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification

REFERENCE = ("courses_program", "courses_meetingtime", "courses_meetinglocation")


def _mappings(source_db, placements: dict[str, str], tables=None):
    """``placements``: source name -> "reference" | "distributed:<column>" (others local)."""
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    names = tables or select_tables(catalog, apps=["courses"])
    mappings = default_mappings(catalog, names)
    for tm in mappings:
        kind, _, column = placements.get(tm.source, "local").partition(":")
        tm.placement = Placement(kind)
        tm.distribution_column = column or None
    return mappings


def _acceptance(source_db):
    placements = {name: "reference" for name in REFERENCE}
    placements["courses_course"] = "distributed:pid"
    return _mappings(source_db, placements, [*REFERENCE, "courses_course"])


def _source_counts(source_db, mappings) -> dict[str, int]:
    return {
        tm.target: source_db.rows(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(tm.source))
        )[0][0]
        for tm in mappings
    }


def _target_counts(target_db, mappings) -> dict[str, int]:
    return {
        tm.target: target_db.rows(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(tm.target))
        )[0][0]
        for tm in mappings
    }


def _first(log, event, table):
    return min(e.seq for e in log if e.event == event and e.table == table)


def _last(log, event, table):
    return max(e.seq for e in log if e.event == event and e.table == table)


@pytest.mark.standin
def test_standin_citus_is_detected(target_db):
    with open_session(target_db.endpoint) as conn:
        assert detect_citus(conn) is None
        standin_citus.install(target_db)
        info = detect_citus(conn)
    assert info is not None and info.standin
    assert info.summary() == "Citus stand-in functions (a test database, not a Citus cluster)"


@pytest.mark.standin
def test_standin_citus_statement_order_and_every_row_lands(source_db, target_db):
    standin_citus.install(target_db)
    mappings = _acceptance(source_db)
    events = []
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings,
        MigrationOptions(batch_rows=500),
        events.append,
    )
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    assert all(t.verification == Verification.MATCH for t in report.tables)
    assert _target_counts(target_db, mappings) == _source_counts(source_db, mappings)

    log = standin_citus.read_log(target_db)
    reference, distributed = ["program", "meetingtime", "meetinglocation"], ["course"]
    every = reference + distributed
    # create tables -> distribute each while empty ...
    for t in reference:
        assert _first(log, "CREATE TABLE", t) < _first(log, "create_reference_table", t)
        assert (
            next(e.detail for e in log if e.event == "create_reference_table" and e.table == t)
            == "rows=0"
        )
    assert _first(log, "CREATE TABLE", "course") < _first(log, "create_distributed_table", "course")
    assert [e.detail for e in log if e.event == "create_distributed_table"] == [
        "column=pid colocate_with=default rows=0"
    ]
    distributing = [
        e.seq
        for e in log
        if e.event in ("CREATE TABLE", "create_reference_table", "create_distributed_table")
    ]
    # ... -> load reference tables -> load distributed tables -> add foreign keys
    assert max(distributing) < min(_first(log, "COPY", t) for t in every)
    assert max(_last(log, "COPY", t) for t in reference) < _first(log, "COPY", "course")
    alters = [e for e in log if e.event == "ALTER TABLE"]
    assert [e.table for e in alters] == ["course"]  # course.program_id -> program
    assert alters[0].seq > max(_last(log, "COPY", t) for t in every)

    # the key and the foreign key are there; UNIQUE (slug) was left out, with a warning first
    constraints = target_db.rows(
        "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'public.course'::regclass ORDER BY contype"
    )
    assert [c[0] for c in constraints] == ["f", "p"]
    warnings = [e.text for e in events if isinstance(e, LogMessage) and e.level == "warning"]
    assert any("unique constraint on (slug) cannot be kept" in w for w in warnings)
    infos = [e.text for e in events if isinstance(e, LogMessage)]
    assert (
        "The target runs Citus stand-in functions (a test database, not a Citus cluster)." in infos
    )


@pytest.mark.standin
def test_standin_citus_sequences_move_after_the_foreign_keys(source_db, target_db):
    standin_citus.install(target_db)
    placements = {
        "courses_program": "reference",
        "courses_degree": "reference",
        "courses_specialization": "distributed:id",
    }
    mappings = _mappings(source_db, placements, list(placements))
    report = run_migration(source_db.endpoint, target_db.endpoint, mappings, MigrationOptions())
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    assert [
        e.detail for e in standin_citus.read_log(target_db) if e.event == "create_distributed_table"
    ] == ["column=id colocate_with=default rows=0"]
    alters = [e for e in standin_citus.read_log(target_db) if e.event == "ALTER TABLE"]
    assert sorted(e.table for e in alters) == ["degree", "specialization"]
    # when each foreign key was added, the identity had not been moved yet ...
    assert all(e.detail == "specialization_id_seq=unset" for e in alters)
    # ... and afterwards it is past the largest id
    top = target_db.rows("SELECT max(id) FROM specialization")[0][0]
    assert target_db.rows("SELECT last_value FROM specialization_id_seq")[0][0] == top
    with target_db.connect() as conn:
        new_id = conn.execute(
            "INSERT INTO specialization (title, degree_id) SELECT 'x', code "
            "FROM degree LIMIT 1 RETURNING id"
        ).fetchone()[0]
    assert new_id == top + 1


@pytest.mark.standin
def test_standin_citus_a_primary_key_without_the_column_stops_before_writing(source_db, target_db):
    standin_citus.install(target_db)
    mappings = _mappings(
        source_db,
        {"courses_program": "reference", "courses_course": "distributed:program_id"},
        ["courses_program", "courses_course"],
    )
    report = run_migration(source_db.endpoint, target_db.endpoint, mappings, MigrationOptions())
    assert report.exit_code == 1
    assert report.message.startswith(
        "The migration cannot start: course cannot be distributed by program_id: its primary key "
        "(pid) does not include program_id"
    )
    assert standin_citus.read_log(target_db) == []
    assert target_db.rows("SELECT to_regclass('public.program'), to_regclass('public.course')") == [
        (None, None)
    ]


@pytest.mark.standin
def test_standin_citus_refusal_is_reported_for_that_table(source_db, target_db):
    """A refusal the checks could not foresee (here: a hand-made distributed table would need
    it) fails that table alone, and the table is not left behind."""
    standin_citus.install(target_db)
    mappings = _acceptance(source_db)
    course = next(m for m in mappings if m.target == "course")
    course.distribution_column = "title"  # the stand-in refuses: PRIMARY KEY (pid) lacks title
    from coursemig_gui.core.engine import run as engine_run

    # skip the checks, to see what happens when Citus itself says no
    original = engine_run.validate_placements
    engine_run.validate_placements = lambda *a, **k: []
    try:
        report = run_migration(source_db.endpoint, target_db.endpoint, mappings, MigrationOptions())
    finally:
        engine_run.validate_placements = original
    by_target = {t.target: t for t in report.tables}
    assert by_target["course"].status == Phase.FAILED
    assert by_target["course"].message == (
        "course could not be created as a distributed table, so it was not copied. Citus refused "
        "to distribute course: every primary key and unique constraint of a distributed table "
        "must include its distribution column (title)."
    )
    assert 'cannot create constraint on "course"' in by_target["course"].detail
    assert all(
        by_target[t].status == Phase.DONE for t in ("program", "meetingtime", "meetinglocation")
    )
    assert target_db.rows("SELECT to_regclass('public.course')") == [(None,)]


@pytest.mark.standin
def test_standin_citus_cancel_removes_tables_made_for_the_run(source_db, target_db):
    standin_citus.install(target_db)
    mappings = _acceptance(source_db)
    cancel = CancelToken()

    def on_event(event) -> None:
        if (
            isinstance(event, TableProgress)
            and event.target == "course"
            and event.phase == Phase.COPYING
        ):
            cancel.cancel()

    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings,
        MigrationOptions(batch_rows=100),
        on_event,
        cancel,
    )
    assert report.cancelled
    assert {t.target: t.status for t in report.tables}["course"] == Phase.ROLLED_BACK
    assert target_db.rows("SELECT to_regclass('public.course')") == [(None,)]
    assert target_db.rows("SELECT count(*) FROM program")[0][0] > 0  # committed before course


@pytest.mark.standin
def test_standin_citus_parallel_loading_gives_the_same_rows(source_db, target_db):
    """Every course table, in two loads (reference tables, then distributed ones), with 1 and
    with 2 loaders; foreign keys are off, so any layout is allowed."""
    standin_citus.install(target_db)
    placements = {name: "reference" for name in (*REFERENCE, "courses_degree")}
    placements.update(
        {
            "courses_course": "distributed:pid",
            "courses_section": "distributed:crn",
            "courses_coursesectionlink": "distributed:id",
            "courses_coursesectionlink_sections": "distributed:id",
            "courses_specialization": "distributed:id",
        }
    )

    def fingerprint(mappings):
        return {
            tm.target: target_db.rows(
                sql.SQL(
                    "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t"
                ).format(sql.Identifier(tm.target))
            )[0]
            for tm in mappings
        }

    results = []
    for loaders in (1, 2):
        mappings = _mappings(source_db, placements)
        report = run_migration(
            source_db.endpoint,
            target_db.endpoint,
            mappings,
            MigrationOptions(loaders=loaders, create_foreign_keys=False, batch_rows=1000),
        )
        assert report.exit_code == 0, (loaders, report.headline())
        results.append(fingerprint(mappings))
        log = standin_citus.read_log(target_db)
        firsts = {t: _first(log, "COPY", t.removeprefix("courses_")) for t in placements}
        lasts = {t: _last(log, "COPY", t.removeprefix("courses_")) for t in placements}
        assert max(lasts[t] for t, p in placements.items() if p == "reference") < min(
            firsts[t] for t, p in placements.items() if p != "reference"
        )
        with target_db.admin_connect() as conn:
            for tm in mappings:
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(tm.target)))
        standin_citus.clear_log(target_db)
    assert results[0] == results[1]
    counts = {k: v[0] for k, v in results[0].items()}
    assert counts == _source_counts(source_db, mappings)


def test_placements_on_a_plain_target_stop_before_writing(source_db, target_db):
    report = run_migration(
        source_db.endpoint, target_db.endpoint, _acceptance(source_db), MigrationOptions()
    )
    assert report.exit_code == 1
    assert report.message == (
        "The migration cannot start: The target database is not a Citus cluster, so course, "
        "meetinglocation, meetingtime, program cannot be made distributed or reference tables "
        "there. Set them to local, or connect to a Citus target such as Azure Cosmos DB for "
        "PostgreSQL."
    )
    assert (
        target_db.rows("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")[
            0
        ][0]
        == 0
    )


@pytest.mark.standin
def test_standin_citus_cli_distribute_and_reference(source_db, target_db, tmp_path):
    from coursemig_gui.cli import main

    standin_citus.install(target_db)
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "-q",
            "--tables",
            "courses_program,courses_meetingtime,courses_meetinglocation,courses_course",
            "--reference",
            "courses_program",
            "--reference",
            "meetingtime",
            "--reference",
            "meetinglocation",
            "--distribute",
            "course=pid",
        ]
    )
    assert code == 0
    calls = [
        (e.event, e.table, e.detail)
        for e in standin_citus.read_log(target_db)
        if e.event.startswith("create_")
    ]
    assert sorted(calls) == [
        ("create_distributed_table", "course", "column=pid colocate_with=default rows=0"),
        ("create_reference_table", "meetinglocation", "rows=0"),
        ("create_reference_table", "meetingtime", "rows=0"),
        ("create_reference_table", "program", "rows=0"),
    ]


def test_an_export_ignores_placements(source_db, tmp_path):
    """Placements matter only where tables are written: an export runs whatever they say."""
    mappings = _acceptance(source_db)
    next(m for m in mappings if m.target == "course").distribution_column = "notes"  # nullable
    report = run_migration(
        source_db.endpoint,
        None,
        mappings,
        MigrationOptions(route=Route.EXPORT, csv_dir=str(tmp_path)),
    )
    assert report.exit_code == 0, report.message
    assert (tmp_path / "courses_course.csv").exists()
