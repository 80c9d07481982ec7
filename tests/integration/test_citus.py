"""Citus targets, against the suite's real Citus 13 cluster (a coordinator and two workers).

Every run logs in as the non-superuser ``citus`` over verified TLS with a SCRAM password, as on
Azure. The coordinator logs every statement ``citus`` sends (``citus_cluster.StatementLog``), so
these tests read the order the engine runs things in: create tables -> distribute while empty
-> load reference and local tables -> load distributed tables -> add foreign keys -> move
sequences. Where each table ended up is read from Citus's own catalog, ``pg_dist_partition``.
"""

from __future__ import annotations

import pytest
from citus_cluster import Event, StatementLog, placements_in_cluster
from psycopg import sql

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.citus.detection import detect_citus
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import CancelToken, LogMessage, Phase, TableProgress
from coursemig_gui.core.mapping import IfExists, Placement, default_mappings, select_tables
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification

REFERENCE = ("courses_program", "courses_meetingtime", "courses_meetinglocation")


def mappings_for(source_db, placements: dict[str, str], tables=None):
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


def acceptance(source_db):
    placements = {name: "reference" for name in REFERENCE}
    placements["courses_course"] = "distributed:pid"
    return mappings_for(source_db, placements, [*REFERENCE, "courses_course"])


def counts(db, names) -> dict[str, int]:
    return {
        name: db.rows(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))[0][0]
        for name in names
    }


def source_counts(source_db, mappings) -> dict[str, int]:
    return {
        tm.target: n
        for tm, n in zip(
            mappings, counts(source_db, [m.source for m in mappings]).values(), strict=True
        )
    }


def first(events: list[Event], kind: str, table: str) -> int:
    return min(i for i, e in enumerate(events) if e.kind == kind and e.table == table)


def last(events: list[Event], kind: str, table: str) -> int:
    return max(i for i, e in enumerate(events) if e.kind == kind and e.table == table)


def test_citus_is_detected_as_the_non_superuser_over_tls(citus_db):
    with open_session(citus_db.endpoint) as conn:
        assert conn.info.pgconn.ssl_in_use
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (False,)
        info = detect_citus(conn)
    assert info is not None
    assert info.short_version == "13.2"
    assert info.summary() == "Citus 13.2, 2 worker nodes"


def test_citus_statement_order_placements_and_every_row(citus_cluster, source_db, citus_db):
    mappings = acceptance(source_db)
    log = StatementLog(citus_cluster)
    events = []
    report = run_migration(
        source_db.endpoint,
        citus_db.endpoint,
        mappings,
        MigrationOptions(batch_rows=500),
        events.append,
    )
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    assert all(t.verification == Verification.MATCH for t in report.tables)
    assert counts(citus_db, [m.target for m in mappings]) == source_counts(source_db, mappings)

    placed = placements_in_cluster(citus_db)
    assert placed["course"][:2] == ("h", "pid")
    assert {t: p[0] for t, p in placed.items() if t != "course"} == {
        "program": "n",
        "meetingtime": "n",
        "meetinglocation": "n",
    }

    steps = log.events()
    reference, every = (
        ["program", "meetingtime", "meetinglocation"],
        ["program", "meetingtime", "meetinglocation", "course"],
    )
    # create tables -> distribute each while empty (in the same transaction as its CREATE) ...
    for t in reference:
        assert first(steps, "CREATE TABLE", t) < first(steps, "create_reference_table", t)
    assert first(steps, "CREATE TABLE", "course") < first(
        steps, "create_distributed_table", "course"
    )
    assert [e.detail for e in steps if e.kind == "create_distributed_table"] == ["pid 'default'"]
    distributing = [
        i
        for i, e in enumerate(steps)
        if e.kind in ("CREATE TABLE", "create_reference_table", "create_distributed_table")
    ]
    # ... -> load reference tables -> load distributed tables -> add foreign keys -> sequences
    assert max(distributing) < min(first(steps, "COPY", t) for t in every)
    assert max(last(steps, "COPY", t) for t in reference) < first(steps, "COPY", "course")
    fks = [i for i, e in enumerate(steps) if e.kind == "FOREIGN KEY"]
    assert [steps[i].table for i in fks] == ["course"]  # course.program_id -> program
    assert fks[0] > max(last(steps, "COPY", t) for t in every)

    # the key and the foreign key are there; UNIQUE (slug) was left out, with a warning first
    constraints = citus_db.rows(
        "SELECT contype FROM pg_constraint "
        "WHERE conrelid = 'public.course'::regclass ORDER BY contype"
    )
    assert [c[0] for c in constraints] == ["f", "p"]
    warnings = [e.text for e in events if isinstance(e, LogMessage) and e.level == "warning"]
    assert any("unique constraint on (slug) cannot be kept" in w for w in warnings)
    infos = [e.text for e in events if isinstance(e, LogMessage)]
    assert "The target runs Citus 13.2, 2 worker nodes." in infos
    # the rows really are spread over both workers
    nodes = citus_db.rows(
        "SELECT count(DISTINCT nodeport) FROM citus_shards "
        "WHERE table_name = 'course'::regclass AND shard_size >= 0"
    )
    assert nodes[0][0] == 2


def test_citus_colocated_tables_share_a_group(citus_cluster, source_db, citus_db):
    placements = {
        "courses_program": "reference",
        "courses_degree": "reference",
        "courses_specialization": "distributed:id",
        "courses_coursesectionlink": "distributed:id",
    }
    mappings = mappings_for(source_db, placements, list(placements))
    # listed after the table it is co-located with, to see the engine put it first
    link = next(m for m in mappings if m.target == "coursesectionlink")
    link.colocate_with = "courses_specialization"
    mappings.remove(link)
    mappings.insert(0, link)
    log = StatementLog(citus_cluster)
    report = run_migration(source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions())
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    placed = placements_in_cluster(citus_db)
    assert placed["specialization"][2] == placed["coursesectionlink"][2]
    distributed = [e for e in log.events() if e.kind == "create_distributed_table"]
    assert [(e.table, e.detail) for e in distributed] == [
        ("specialization", "id 'default'"),
        ("coursesectionlink", "id format('%I.%I', 'public'::text, 'specialization'::text)"),
    ]


def test_citus_sequences_move_after_the_foreign_keys(citus_cluster, source_db, citus_db):
    placements = {
        "courses_program": "reference",
        "courses_degree": "reference",
        "courses_specialization": "distributed:id",
    }
    mappings = mappings_for(source_db, placements, list(placements))
    log = StatementLog(citus_cluster)
    report = run_migration(source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions())
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    steps = log.events()
    assert [e.detail for e in steps if e.kind == "create_distributed_table"] == ["id 'default'"]
    fks = [i for i, e in enumerate(steps) if e.kind == "FOREIGN KEY"]
    assert {steps[i].table for i in fks} == {"degree", "specialization"}
    moves = [i for i, e in enumerate(steps) if e.kind == "setval"]
    assert moves and min(moves) > max(fks)
    # afterwards the identity is past the largest id, and the application's next INSERT (as
    # citus, on the coordinator) gets the next one
    top = citus_db.rows("SELECT max(id) FROM specialization")[0][0]
    with citus_db.connect() as conn:
        new_id = conn.execute(
            "INSERT INTO specialization (title, degree_id) SELECT 'x', code "
            "FROM degree LIMIT 1 RETURNING id"
        ).fetchone()[0]
    assert new_id > top


def test_citus_a_primary_key_without_the_column_stops_before_writing(
    citus_cluster, source_db, citus_db
):
    mappings = mappings_for(
        source_db,
        {"courses_program": "reference", "courses_course": "distributed:program_id"},
        ["courses_program", "courses_course"],
    )
    log = StatementLog(citus_cluster)
    report = run_migration(source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions())
    assert report.exit_code == 2  # did not start: nothing was written
    assert report.message.startswith(
        "The migration cannot start: course cannot be distributed by program_id: its primary key "
        "(pid) does not include program_id"
    )
    assert log.events() == []
    assert citus_db.rows("SELECT to_regclass('public.program'), to_regclass('public.course')") == [
        (None, None)
    ]


def test_citus_refusal_is_reported_for_that_table(source_db, citus_db, monkeypatch):
    """A refusal the checks could not foresee fails that table alone, with Citus's reason in a
    sentence, and the table is not left behind."""
    from coursemig_gui.core.engine import run as engine_run

    mappings = acceptance(source_db)
    next(m for m in mappings if m.target == "course").distribution_column = "title"
    # skip the checks, to see what happens when Citus itself says no
    monkeypatch.setattr(engine_run, "validate_placements", lambda *a, **k: [])
    report = run_migration(source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions())
    by_target = {t.target: t for t in report.tables}
    assert by_target["course"].status == Phase.FAILED
    assert by_target["course"].message == (
        "course could not be created as a distributed table, so it was not copied. Citus refused "
        "to distribute course: every primary key and unique constraint of a distributed table "
        "must include its distribution column (title)."
    )
    assert 'cannot create constraint on "course' in by_target["course"].detail
    assert all(
        by_target[t].status == Phase.DONE for t in ("program", "meetingtime", "meetinglocation")
    )
    assert citus_db.rows("SELECT to_regclass('public.course')") == [(None,)]


def _cancel_on_course(cancel: CancelToken):
    def on_event(event) -> None:
        if (
            isinstance(event, TableProgress)
            and event.target == "course"
            and event.phase == Phase.COPYING
            and event.rows_done > 0
        ):
            cancel.cancel()

    return on_event


def test_citus_cancel_removes_a_distributed_table_made_for_the_run(source_db, citus_db):
    mappings = acceptance(source_db)
    cancel = CancelToken()
    report = run_migration(
        source_db.endpoint,
        citus_db.endpoint,
        mappings,
        MigrationOptions(batch_rows=100),
        _cancel_on_course(cancel),
        cancel,
    )
    assert report.cancelled
    assert {t.target: t.status for t in report.tables}["course"] == Phase.ROLLED_BACK
    assert citus_db.rows("SELECT to_regclass('public.course')") == [(None,)]
    assert citus_db.rows("SELECT count(*) FROM program")[0][0] > 0  # committed before course
    assert "course" not in placements_in_cluster(citus_db)


def test_citus_cancel_mid_table_leaves_an_existing_distributed_table_as_before(source_db, citus_db):
    mappings = acceptance(source_db)
    assert (
        run_migration(source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions()).exit_code
        == 0
    )
    with citus_db.admin_connect() as conn:
        conn.execute(
            "DELETE FROM course WHERE pid IN (SELECT pid FROM course ORDER BY pid LIMIT 1000)"
        )
    fingerprint = "SELECT count(*), md5(string_agg(pid || title, ',' ORDER BY pid)) FROM course"
    before = citus_db.rows(fingerprint)[0]

    # course alone: appending the reference tables again would only isolate ~1,150 duplicate
    # rows one by one (each a two-phase commit on the cluster), which is not what is tested
    course = [tm for tm in mappings if tm.target == "course"]
    course[0].if_exists = IfExists.APPEND
    cancel = CancelToken()
    report = run_migration(
        source_db.endpoint,
        citus_db.endpoint,
        course,
        MigrationOptions(batch_rows=100, max_rejects=None),
        _cancel_on_course(cancel),
        cancel,
    )
    assert report.cancelled
    assert {t.target: t.status for t in report.tables}["course"] == Phase.ROLLED_BACK
    assert citus_db.rows(fingerprint)[0] == before
    assert placements_in_cluster(citus_db)["course"][:2] == ("h", "pid")
    # nothing is left locked on the workers: a write to course goes through at once
    with citus_db.connect() as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute("UPDATE course SET title = title WHERE pid = (SELECT min(pid) FROM course)")


@pytest.mark.slow
def test_citus_one_and_two_loaders_give_the_same_rows(source_db, citus_db):
    """Every course table, in two loads (reference tables, then distributed ones), with 1 and
    with 2 loaders; foreign keys are off, so any layout is allowed."""
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
            tm.target: citus_db.rows(
                sql.SQL(
                    "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t"
                ).format(sql.Identifier(tm.target))
            )[0]
            for tm in mappings
        }

    results = []
    for loaders in (1, 2):
        mappings = mappings_for(source_db, placements)
        report = run_migration(
            source_db.endpoint,
            citus_db.endpoint,
            mappings,
            MigrationOptions(loaders=loaders, create_foreign_keys=False, batch_rows=1000),
        )
        assert report.exit_code == 0, (loaders, report.headline())
        assert all(t.verification == Verification.MATCH for t in report.tables)
        results.append(fingerprint(mappings))
        placed = placements_in_cluster(citus_db)
        assert {t: placed[t][0] for t in placed} == {
            tm.target: "n" if tm.placement == Placement.REFERENCE else "h"
            for tm in mappings
            if tm.placement != Placement.LOCAL
        }
        with citus_db.admin_connect() as conn:
            for tm in mappings:
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(tm.target)))
    assert results[0] == results[1]
    assert {k: v[0] for k, v in results[0].items()} == source_counts(source_db, mappings)


def test_citus_cli_distribute_and_reference(source_db, citus_db):
    from coursemig_gui.cli import main

    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            citus_db.url,
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
    placed = placements_in_cluster(citus_db)
    assert {t: p[:2] for t, p in placed.items()} == {
        "course": ("h", "pid"),
        "program": ("n", None),
        "meetingtime": ("n", None),
        "meetinglocation": ("n", None),
    }


@pytest.mark.parametrize("table", ["program", "course"])
def test_citus_replace_refills_a_reference_or_distributed_table(source_db, citus_db, table):
    mappings = acceptance(source_db)
    assert (
        run_migration(source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions()).exit_code
        == 0
    )
    placed_before = placements_in_cluster(citus_db)
    column = "subject" if table == "program" else "title"
    with citus_db.admin_connect() as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET {} = 'changed in the target'").format(
                sql.Identifier(table), sql.Identifier(column)
            )
        )
    again = mappings_for(source_db, {}, [f"courses_{table}"])
    again[0].if_exists = IfExists.REPLACE
    report = run_migration(source_db.endpoint, citus_db.endpoint, again, MigrationOptions())
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    assert report.tables[0].verification == Verification.MATCH
    changed = citus_db.rows(
        sql.SQL("SELECT count(*) FROM {} WHERE {} = 'changed in the target'").format(
            sql.Identifier(table), sql.Identifier(column)
        )
    )
    assert changed[0][0] == 0
    # the table keeps its place on the cluster, and course's foreign key to program is back
    assert placements_in_cluster(citus_db) == placed_before
    fks = citus_db.rows(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
        "AND confrelid = 'program'::regclass AND conrelid = 'course'::regclass"
    )
    assert fks[0][0] == 1


def test_placements_on_a_plain_target_stop_before_writing(source_db, target_db):
    report = run_migration(
        source_db.endpoint, target_db.endpoint, acceptance(source_db), MigrationOptions()
    )
    assert report.exit_code == 2  # did not start: nothing was written
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


def test_an_export_ignores_placements(source_db, tmp_path):
    """Placements matter only where tables are written: an export runs whatever they say."""
    mappings = acceptance(source_db)
    next(m for m in mappings if m.target == "course").distribution_column = "notes"  # nullable
    report = run_migration(
        source_db.endpoint,
        None,
        mappings,
        MigrationOptions(route=Route.EXPORT, csv_dir=str(tmp_path)),
    )
    assert report.exit_code == 0, report.message
    assert (tmp_path / "courses_course.csv").exists()
