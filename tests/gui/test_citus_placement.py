"""Placement on a Citus target, against core's stand-in Citus functions (Citus cannot run here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from test_end_to_end import rename_meetingtime_reserved_words, run_migration, to_columns_page

from coursemig_gui.core.mapping import Placement

_STANDIN = Path(__file__).resolve().parent.parent / "integration" / "standin_citus.py"


def _standin():
    """tests/integration/standin_citus.py, shared rather than copied."""
    if "standin_citus" in sys.modules:
        return sys.modules["standin_citus"]
    spec = importlib.util.spec_from_file_location("standin_citus", _STANDIN)
    module = importlib.util.module_from_spec(spec)
    sys.modules["standin_citus"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


@pytest.mark.standin
def test_placement_suggestions_rules_and_a_run_on_stand_in_citus(
    qtbot, wizard, source_db, target_db
):
    standin = _standin()
    standin.install(target_db)
    to_columns_page(qtbot, wizard, source_db, target_db)
    assert "Citus stand-in" in wizard.connect_page.target_card.result.text
    page = wizard.columns_page
    assert page.placement_box.isVisibleTo(page)
    assert page.suggestions  # one per table
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

    page.use_suggested_placements()
    assert page.isComplete(), [p.message for p in page.problems if p.is_error]
    rename_meetingtime_reserved_words(qtbot, wizard)
    report = run_migration(qtbot, wizard)
    assert report.exit_code in (0, 3), report.to_json()
    assert target_db.rows("SELECT count(*) FROM course")[0][0] == 3547
    placed = {
        (e.event, e.table) for e in standin.read_log(target_db) if e.event.startswith("create_")
    }
    expected = {
        (
            "create_reference_table"
            if m.placement == Placement.REFERENCE
            else "create_distributed_table",
            m.target,
        )
        for m in wizard.state.mappings
        if m.placement != Placement.LOCAL
    }
    assert expected and expected <= placed, (expected, placed)
