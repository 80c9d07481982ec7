"""An existing, empty target table (made by ``manage.py migrate``, say) gets its indexes built
once after the load instead of row by row, in the load's own transaction: afterwards every index
and key is there exactly as defined before, each row is in the table once, and whatever could
change a row's outcome (a key the source does not promise, a key another table refers to, a
commented index) stays in place during the load."""

from __future__ import annotations

import time

import pytest
from test_transient_faults import MID_LOAD, Killer

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import Phase, TableProgress
from coursemig_gui.core.mapping import IfExists, default_mappings
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification

INDEXES = """
SELECT ic.relname, ic.oid, pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
     AND c.contype IN ('p', 'u')
WHERE i.indrelid = 'course'::regclass ORDER BY ic.relname
"""


def _mapping(source_db, if_exists: IfExists):
    with open_session(source_db.endpoint) as conn:
        (tm,) = default_mappings(read_catalog(conn), ["courses_course"])
    tm.if_exists = if_exists
    return [tm]


def _load(source_db, target_db, tmp_path, if_exists=IfExists.APPEND, on_event=None, **options):
    return run_migration(
        source_db.endpoint,
        target_db.endpoint,
        _mapping(source_db, if_exists),
        MigrationOptions(
            create_foreign_keys=False, rejects_dir=str(tmp_path / "rejects"), **options
        ),
        on_event or (lambda event: None),
    )


@pytest.fixture
def django_made(source_db, target_db, tmp_path):
    """``course`` as CourseMig makes it, plus the indexes Django adds, emptied; its indexes
    (name -> (oid, definition, constraint, constraint definition))."""
    assert _load(source_db, target_db, tmp_path, IfExists.FAIL, verify=False).exit_code == 0
    with target_db.admin_connect() as conn:
        conn.execute("CREATE INDEX course_program_id ON course (program_id)")
        conn.execute("CREATE INDEX course_slug_like ON course (slug varchar_pattern_ops)")
        conn.execute("CREATE INDEX course_title_commented ON course (title)")
        conn.execute("COMMENT ON INDEX course_title_commented IS 'kept as it is'")
        conn.execute("ALTER TABLE course OWNER TO citus")
        conn.execute("TRUNCATE course")
    return _indexes(target_db)


def _indexes(target_db) -> dict[str, tuple]:
    return {name: rest for name, *rest in target_db.rows(INDEXES)}


def _each_row_once(source_db, target_db) -> None:
    pids = {r[0] for r in source_db.rows("SELECT pid FROM courses_course")}
    count, distinct = target_db.rows("SELECT count(*), count(DISTINCT pid) FROM course")[0]
    assert count == distinct == len(pids)


def _same_definitions(before: dict, after: dict) -> None:
    assert {n: v[1:] for n, v in after.items()} == {n: v[1:] for n, v in before.items()}


@pytest.mark.parametrize("if_exists", [IfExists.APPEND, IfExists.REPLACE])
def test_indexes_are_built_after_the_load_and_come_back_as_they_were(
    source_db, target_db, tmp_path, django_made, if_exists
):
    report = _load(source_db, target_db, tmp_path, if_exists)
    course = report.tables[0]
    assert report.exit_code == 0, report.headline()
    assert course.verification == Verification.MATCH, course.verification_detail
    after = _indexes(target_db)
    _same_definitions(django_made, after)
    rebuilt = {n for n in after if after[n][0] != django_made[n][0]}
    # the keys the source promises and the plain indexes (those added by hand, and the source's
    # own that CourseMig gave the new table) were made again; the commented one was left alone
    assert rebuilt == {
        "course_pkey",
        "course_slug_key",
        "course_program_id",
        "course_slug_like",
        "courses_course_pid_5fd02e5f_like",
        "courses_course_program_id_7e46afed",
        "courses_course_program_id_7e46afed_like",
        "courses_course_slug_9c670f14_like",
    }
    _each_row_once(source_db, target_db)


def test_a_key_another_table_refers_to_stays_in_place(source_db, target_db, tmp_path, django_made):
    with target_db.admin_connect() as conn:
        conn.execute("CREATE TABLE enrolment (course_pid varchar(30) REFERENCES course (pid))")
        conn.execute("ALTER TABLE enrolment OWNER TO citus")
    try:
        report = _load(source_db, target_db, tmp_path)
        assert report.exit_code == 0, report.headline()
        after = _indexes(target_db)
        _same_definitions(django_made, after)
        assert after["course_pkey"][0] == django_made["course_pkey"][0]  # not dropped
        assert after["course_slug_key"][0] != django_made["course_slug_key"][0]
        _each_row_once(source_db, target_db)
    finally:
        with target_db.admin_connect() as conn:
            conn.execute("DROP TABLE enrolment")


def test_a_key_the_source_does_not_promise_still_rejects_row_by_row(
    source_db, target_db, tmp_path, django_made
):
    """The target's own UNIQUE (course_number), which the source lacks: it stays during the
    load, so each duplicate is rejected with its reason and the rest load."""
    total, distinct = source_db.rows(
        "SELECT count(*), count(DISTINCT course_number) FROM courses_course"
    )[0]
    assert total > distinct  # the sample has repeated course numbers
    with target_db.admin_connect() as conn:
        conn.execute("ALTER TABLE course ADD CONSTRAINT course_number_once UNIQUE (course_number)")
    before = _indexes(target_db)
    report = _load(source_db, target_db, tmp_path, max_rejects=total)
    course = report.tables[0]
    assert report.exit_code == 3, report.headline()
    assert course.rows_rejected == total - distinct
    assert course.rows_written == distinct
    after = _indexes(target_db)
    _same_definitions(before, after)
    assert after["course_number_once"][0] == before["course_number_once"][0]


def test_a_connection_killed_mid_load_leaves_the_indexes_and_loads_each_row_once(
    source_db, target_db, tmp_path, django_made
):
    """Killed while the indexes are set aside: the drop is rolled back with the rows, the
    table starts again, and ends with every index as it was and each row once."""
    rows = source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    killer = Killer(target_db, MID_LOAD, target_db.user)

    def on_event(event) -> None:
        if isinstance(event, TableProgress) and event.phase == Phase.COPYING:
            if event.rows_done >= rows // 2:
                killer.kill_now()
            else:
                time.sleep(0.25)  # past the progress throttle: the next batch reports too

    try:
        report = _load(source_db, target_db, tmp_path, on_event=on_event, batch_rows=100)
    finally:
        killer.close()
    assert killer.killed, "nothing was killed: the test did not test anything"
    assert report.exit_code == 0, report.headline()
    _same_definitions(django_made, _indexes(target_db))
    _each_row_once(source_db, target_db)
