"""What the Migrate and Summary pages say after a run that did not copy everything: a failed
table's bar is empty, the totals are the source's counts, a child of a failed table says its
parent is why, and the hand-over names the skipped rows, the owner and the changed types."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_bad_rows_and_cancel import set_type_by_editing
from test_end_to_end import to_columns_page
from wizard_driver import WAIT_MS, choose_app, click_next, connect_both

from coursemig_gui.core.django_handover.choice import DjangoAppWill
from coursemig_gui.core.events import Phase
from coursemig_gui.gui.widgets.handover_panel import default_handover_folder


def _run(qtbot, wizard):
    migrate = wizard.migrate_page
    with qtbot.waitSignal(migrate.migration_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(migrate.start_button, Qt.MouseButton.LeftButton)
    return migrate, blocker.args[0]


def _source_rows(source_db, report) -> int:
    return sum(source_db.rows(f"SELECT count(*) FROM {t.source}")[0][0] for t in report.tables)


def test_failed_tables_do_not_read_as_finished(qtbot, wizard, source_db, target_db):
    to_columns_page(qtbot, wizard, source_db, target_db)
    page = wizard.columns_page
    page.select_table("courses_course")
    set_type_by_editing(qtbot, page, "title", "character varying(18)")
    click_next(qtbot, wizard)
    wizard.migrate_page.stop_on_error.setChecked(True)  # a bad row fails its whole table
    migrate, report = _run(qtbot, wizard)
    by_target = {t.target: t for t in report.tables}
    assert by_target["course"].status == Phase.FAILED

    # a child of the failed table says why it failed: its parent, not "relation … not exist"
    child = by_target["section"]
    assert child.status == Phase.FAILED
    assert "its parent table course was not copied, so section's foreign key" in child.message
    assert "does not exist" not in child.message
    # the server's CONTEXT line once, not twice
    assert by_target["course"].detail.count("CONTEXT") == 1, by_target["course"].detail

    source_rows = _source_rows(source_db, report)
    copied = sum(t.rows_written for t in report.tables)
    failed = [t for t in report.tables if t.status == Phase.FAILED]
    line = migrate.overall_label.text()
    assert f"{len(report.tables) - len(failed)} of {len(report.tables)} tables copied" in line
    assert f"{len(failed)} failed" in line
    assert line.endswith(f"{copied:,} of {source_rows:,} rows copied"), line
    progress = migrate.progress_model
    for row, p in enumerate(progress.all_progress()):
        if p.phase == Phase.FAILED:
            assert progress.text(row, progress.PROGRESS) == "0 %"
            assert progress.text(row, progress.ROWS).startswith("none kept of ")
    assert migrate.overall_bar.value() < 1000

    click_next(qtbot, wizard)
    summary = wizard.summary_page
    assert summary.details.text().startswith(f"{copied:,} of the source's {source_rows:,} rows")


def test_skipped_rows_owner_and_changed_type_reach_the_handover(
    qtbot, wizard, source_db, target_db
):
    connect_both(qtbot, wizard, source_db.url, target_db.url)
    click_next(qtbot, wizard)
    question = wizard.tables_page.django_question
    question.buttons[DjangoAppWill.NEW_NAMES].setChecked(True)
    choose_app(qtbot, wizard, "courses")
    click_next(qtbot, wizard)
    page = wizard.columns_page
    page.select_table("courses_course")
    set_type_by_editing(qtbot, page, "title", "character varying(40)")
    click_next(qtbot, wizard)
    migrate, report = _run(qtbot, wizard)
    skipped = sum(t.rows_rejected for t in report.tables)
    assert skipped and report.exit_code == 3, report.to_json()

    click_next(qtbot, wizard)
    summary = wizard.summary_page
    target = wizard.state.target
    said = " ".join(summary.next_steps.text().split())
    assert f"cannot use {target.display_name()} until" in said
    assert f"{skipped:,} rows of " in said and "were not copied" in said
    assert f"must connect as USER {target.user}" in said
    assert "Columns copied with another type (course.title)" in said
    assert summary.handover.isVisible()
    folder = default_handover_folder(wizard.state.name)
    readme = " ".join((folder / "README.txt").read_text(encoding="utf-8").split())
    assert f"{skipped:,} rows of " in readme and "skipped-rows folder" in readme
    assert "course.title was copied as character varying(40)" in readme
    assert "set max_length=40 on the field title" in readme
    steps = (folder / "next_steps.md").read_text(encoding="utf-8")
    assert 'ON TABLE "public"."course"' in steps
