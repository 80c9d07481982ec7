"""Cancel in the middle of a table: that table is exactly as it was before."""

from __future__ import annotations

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import CancelToken, Phase, TableProgress
from coursemig_gui.core.mapping import IfExists, default_mappings, select_tables
from coursemig_gui.core.options import MigrationOptions


def _mappings(source_db):
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    return default_mappings(catalog, select_tables(catalog, apps=["courses"]))


def _cancel_at(target: str, rows: int, cancel: CancelToken):
    def on_event(event) -> None:
        if (
            isinstance(event, TableProgress)
            and event.target == target
            and event.phase == Phase.COPYING
            and event.rows_done >= rows
        ):
            cancel.cancel()

    return on_event


def test_cancel_mid_table_rolls_it_back(source_db, target_db):
    mappings = _mappings(source_db)
    first = run_migration(source_db.endpoint, target_db.endpoint, mappings, MigrationOptions())
    assert first.exit_code == 0, first.headline()
    with target_db.admin_connect() as conn:
        conn.execute("DELETE FROM coursesectionlink_sections")
        conn.execute("DELETE FROM coursesectionlink")
        conn.execute("DELETE FROM section")
        conn.execute(
            "DELETE FROM course WHERE ctid IN (SELECT ctid FROM course ORDER BY pid LIMIT 1000)"
        )
    before = target_db.rows("SELECT count(*), sum(length(title)), max(pid) FROM course")[0]

    # Again into the existing tables, adding rows, and cancel once course is partly copied.
    for tm in mappings:
        tm.if_exists = IfExists.APPEND
    cancel = CancelToken()
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings,
        MigrationOptions(batch_rows=100, max_rejects=None),
        _cancel_at("course", 1, cancel),
        cancel,
    )
    assert report.cancelled
    course = next(t for t in report.tables if t.target == "course")
    assert course.status == Phase.ROLLED_BACK
    assert target_db.rows("SELECT count(*), sum(length(title)), max(pid) FROM course")[0] == before
    finished = [t.target for t in report.tables if t.status == Phase.DONE_WITH_REJECTS]
    assert "program" in finished  # parents finished before course and stay
    not_started = [t.target for t in report.tables if t.status == Phase.NOT_STARTED]
    assert "section" in not_started
    assert "rolled back" in report.headline()
    assert report.exit_code == 1


def test_cancel_a_new_table_leaves_no_table(source_db, target_db):
    mappings = [
        m for m in _mappings(source_db) if m.source in ("courses_program", "courses_course")
    ]
    cancel = CancelToken()
    report = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        mappings,
        MigrationOptions(batch_rows=100),
        _cancel_at("course", 1, cancel),
        cancel,
    )
    assert report.cancelled
    assert target_db.rows("SELECT to_regclass('public.course')")[0][0] is None
    assert target_db.rows("SELECT count(*) FROM program")[0][0] > 0
    # nothing is left locked: the same run works at once
    again = run_migration(
        source_db.endpoint,
        target_db.endpoint,
        [m for m in mappings if m.target == "course"],
        MigrationOptions(),
    )
    assert again.exit_code == 0, again.headline()
