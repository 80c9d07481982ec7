"""A table whose parent this run did not copy, on the real Citus cluster.

On Citus the foreign keys between new tables are added after every load, so nothing stops a
child from loading when its parent failed. On plain PostgreSQL such a child fails with a
sentence naming its parent (its foreign key cannot be made); on Citus it was copied, reported
"copied and verified", and its foreign key to the missing parent was left out without a word,
for good: a rerun of the parent alone never adds it, since the child then exists already.
"""

from __future__ import annotations

from citus_cluster import placements_in_cluster
from test_citus import mappings_for

from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.events import Phase
from coursemig_gui.core.options import MigrationOptions

PLACEMENTS = {"courses_program": "reference", "courses_course": "distributed:pid"}


def test_citus_a_child_whose_parent_was_not_copied_fails_and_says_why(source_db, citus_db):
    mappings = mappings_for(source_db, PLACEMENTS, list(PLACEMENTS))
    program = next(m for m in mappings if m.target == "program")
    # every program's subject is longer than 3 characters: with no reject allowed, program fails
    next(c for c in program.columns if c.target == "subject").target_type = "varchar(3)"
    report = run_migration(
        source_db.endpoint, citus_db.endpoint, mappings, MigrationOptions(max_rejects=0)
    )
    by_name = {t.target: t for t in report.tables}
    assert by_name["program"].status == Phase.FAILED
    course = by_name["course"]
    assert course.status == Phase.FAILED, course.message
    assert course.rows_written == 0
    assert course.message == (
        "course could not be copied and was left as it was: its parent table program was not "
        "copied, so course's foreign key to it could not be made. Copy program first (its own "
        "line says why it was not), then course."
    )
    assert report.exit_code == 1
    assert report.headline() == "0 of 2 tables copied, 2 failed (program, course)"
    # both were made for this run and removed again: a rerun starts clean and makes the key
    assert placements_in_cluster(citus_db) == {}
    assert citus_db.rows("SELECT to_regclass('course'), to_regclass('program')") == [(None, None)]
