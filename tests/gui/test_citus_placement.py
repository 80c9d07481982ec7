"""Placement on the suite's real Citus cluster, through the wizard, as the non-superuser
``citus`` over TLS."""

from __future__ import annotations

from citus_cluster import placements_in_cluster
from test_end_to_end import rename_meetingtime_reserved_words, run_migration
from wizard_driver import WAIT_MS, choose_app, click_next, connect_both

from coursemig_gui.core.mapping import Placement


def test_placement_suggestions_rules_and_a_run_on_citus(qtbot, wizard, source_db, citus_db):
    connect_both(qtbot, wizard, source_db.url, citus_db.url)
    click_next(qtbot, wizard)
    # the Tables page's exact counts, which the suggestions use (not pg_class.reltuples)
    qtbot.waitUntil(lambda: bool(wizard.state.row_counts), timeout=WAIT_MS)
    choose_app(qtbot, wizard, "courses")
    click_next(qtbot, wizard)
    assert "Citus 13.2, 2 worker nodes" in wizard.connect_page.target_card.result.text
    page = wizard.columns_page
    assert page.placement_box.isVisibleTo(page)
    assert page.suggestions  # one per table
    assert page.suggestions["courses_course"].reason.startswith("course is small (3,547 rows)")
    assert not any("about" in x.reason for x in page.suggestions.values())
    page.select_table("courses_program")
    suggested = [
        page.placement.itemText(i)
        for i in range(page.placement.count())
        if page.placement.itemText(i).endswith("— suggested")
    ]
    assert len(suggested) == 1
    assert page.suggestion_note.text()

    # A rule broken in plain words: course distributed by a column outside its key.
    page.select_table("courses_course")
    course = wizard.state.mapping("courses_course")
    course.placement, course.distribution_column = Placement.DISTRIBUTED, "title"
    page.revalidate()
    assert any(p.table == "courses_course" and p.is_error for p in page.problems)
    assert not page.isComplete()

    # course by its key: section (key crn) refers to it, and the page names the way out
    course.distribution_column = "pid"
    page.revalidate()
    section = [p.message for p in page.problems if p.table == "courses_section" and p.is_error]
    assert any(
        "section cannot be distributed by course_id to keep it (its primary key (crn) does not "
        "include course_id), so make course a reference table" in m
        for m in section
    ), section

    page.use_suggested_placements()
    assert page.isComplete(), [p.message for p in page.problems if p.is_error]
    rename_meetingtime_reserved_words(qtbot, wizard)
    report = run_migration(qtbot, wizard)
    assert report.exit_code == 0, report.to_json()
    assert citus_db.rows("SELECT count(*) FROM course")[0][0] == 3547
    placed = placements_in_cluster(citus_db)
    expected = {
        m.target: "n" if m.placement == Placement.REFERENCE else "h"
        for m in wizard.state.mappings
        if m.include and m.placement != Placement.LOCAL
    }
    assert {t: p[0] for t, p in placed.items() if p[0] != "local"} == expected
    # a local table joined to a reference table by a foreign key is one Citus manages itself
    assert {p[0] for p in placed.values()} <= {"h", "n", "local"}
