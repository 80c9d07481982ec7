"""What a run says about placements is what the cluster holds, not what the plan asked for.

A table already on the cluster keeps its placement (a run does not move it). A rerun whose plan
says "local" for tables an earlier run distributed (the wizard and the command line start every
table as local) was silent about it, and the Django hand-over written after it told the
developer "No table was distributed: every table is a normal (local) or reference table, so the
app's queries work as on any PostgreSQL", while ``course`` was distributed by ``pid``.
"""

from __future__ import annotations

from citus_cluster import placements_in_cluster
from test_citus import acceptance, mappings_for

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.django_handover.choice import DjangoAppWill, DjangoPlan
from coursemig_gui.core.django_handover.facts import model_facts
from coursemig_gui.core.django_handover.writer import write_handover
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.mapping import IfExists
from coursemig_gui.core.options import MigrationOptions

TABLES = ["courses_program", "courses_course"]


def test_citus_a_rerun_says_where_existing_tables_really_are(source_db, citus_db, tmp_path):
    first = acceptance(source_db)
    made = run_migration(source_db.endpoint, citus_db.endpoint, first, MigrationOptions())
    assert made.exit_code == 0, made.headline()
    assert placements_in_cluster(citus_db)["course"][:2] == ("h", "pid")

    again = mappings_for(source_db, {}, TABLES)  # every table local, as a fresh plan has it
    for tm in again:
        tm.if_exists = IfExists.REPLACE
    events: list = []
    report = run_migration(
        source_db.endpoint, citus_db.endpoint, again, MigrationOptions(), events.append
    )
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    said = [e.text for e in events if isinstance(e, LogMessage)]
    assert (
        "course already exists in the target as a distributed table (by pid), not a local "
        "table as planned: it stays as it is (a run does not move an existing table), and the "
        "report says where it is."
    ) in said
    assert (
        "program already exists in the target as a reference table, not a local table as "
        "planned: it stays as it is (a run does not move an existing table), and the report "
        "says where it is."
    ) in said
    # the report (and its JSON) says what the cluster holds
    held = {t["target"]: t for t in report.to_dict()["tables"]}
    assert (held["course"]["placement"], held["course"]["distribution_column"]) == (
        "distributed",
        "pid",
    )
    assert (held["program"]["placement"], held["program"]["distribution_column"]) == (
        "reference",
        None,
    )
    assert placements_in_cluster(citus_db)["course"][:2] == ("h", "pid")

    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    plan = DjangoPlan(DjangoAppWill.NEW_NAMES, model_facts(catalog, TABLES))
    target = parse_connection_string(citus_db.url).settings
    write_handover(tmp_path, target, again, plan, copied=True, report=report)
    steps = (tmp_path / "next_steps.md").read_text(encoding="utf-8")
    assert "No table was distributed" not in steps
    assert "- course by pid: queries on the course model that filter on it" in steps
    assert "Reference tables (a full copy on every node): program." in steps
