"""Issue 19: the pages as a person sees them: Start, Columns, the plan before Start, nightly runs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_end_to_end import rename_meetingtime_reserved_words, to_columns_page
from wizard_driver import WAIT_MS, click_next

from coursemig_gui.core.nightly import cli_program, nightly_run
from coursemig_gui.core.plan_sentence import describe_plan
from coursemig_gui.core.profile import Profile


def test_start_page_choices_stay_together_with_a_line_about_the_app(qtbot, wizard):
    page = wizard.start_page
    wizard.resize(1100, 900)
    qtbot.waitUntil(lambda: page.new_button.isVisible())
    buttons = [page.new_button, page.open_button, page.demo_button]
    for button in buttons:  # as tall as their text at this width, not stretched to fill
        assert button.height() <= button.heightForWidth(button.width()) + 2
    gap = page.open_button.geometry().top() - page.new_button.geometry().bottom()
    assert gap < 12, gap
    # no saved migrations yet: a line saying what CourseMig does, right under the choices
    assert page.intro.isVisible() and not page.recent_view.isVisible()
    assert "copies the tables of a Django app" in page.intro.text()
    assert "user-guide.md" in page.intro.text()  # the link, in a checkout
    assert page.intro.geometry().top() - page.demo_button.geometry().bottom() < 40


def test_start_page_lists_saved_migrations_under_the_choices(qtbot):
    Profile(name="Courses to Azure").save()
    from coursemig_gui.gui.app import make_application
    from coursemig_gui.gui.wizard import MigrationWizard

    make_application()
    window = MigrationWizard()
    window.show()
    try:
        page = window.start_page
        qtbot.waitUntil(page.recent_view.isVisible)
        assert not page.intro.isVisible()
        assert page.recent_view.geometry().top() > page.open_button.geometry().bottom()
        assert (
            page.new_button.height() <= page.new_button.heightForWidth(page.new_button.width()) + 2
        )
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()


def test_columns_list_fits_names_and_notes_wrap(qtbot, wizard, source_db, target_db):
    to_columns_page(qtbot, wizard, source_db, target_db)
    page = wizard.columns_page
    view = page.table_list
    assert view.horizontalScrollBar().isHidden() or not view.horizontalScrollBar().isVisible()
    longest = max(
        view.fontMetrics().horizontalAdvance(page.tables_model.index(r).data())
        for r in range(page.tables_model.rowCount())
    )
    # as wide as the longest name, up to 30 % of the page; past that elided in the middle
    qtbot.waitUntil(
        lambda: view.viewport().width() >= min(longest, 0.3 * page.splitter.width() - 40)
    )
    assert view.textElideMode() == Qt.TextElideMode.ElideMiddle
    row = page.tables_model.row_of("courses_coursesectionlink_sections")
    assert "courses_coursesectionlink_sections" in page.tables_model.index(row).data(
        Qt.ItemDataRole.ToolTipRole
    )
    page.select_table("courses_meetingtime")
    notes = page.columns_model.NOTES
    header = page.columns_view.horizontalHeader()
    view_width = page.columns_view.viewport().width()
    assert header.sectionSize(notes) >= 0.2 * view_width  # the remaining width
    model = page.columns_model
    end = [model.index(r, model.SOURCE).data() for r in range(model.rowCount())].index("end")
    note = model.index(end, notes).data()
    assert "reserved word" in note
    # the row is as tall as its wrapped note
    lines = page.columns_view.rowHeight(end) // page.columns_view.fontMetrics().lineSpacing()
    width = header.sectionSize(notes)
    assert lines >= min(3, page.columns_view.fontMetrics().horizontalAdvance(note) // width)


def test_the_plan_before_start_says_what_will_happen(qtbot, wizard, source_db, target_db):
    to_columns_page(qtbot, wizard, source_db, target_db)
    rename_meetingtime_reserved_words(qtbot, wizard)
    qtbot.waitUntil(lambda: bool(wizard.state.row_counts), timeout=WAIT_MS)
    click_next(qtbot, wizard)
    page = wizard.migrate_page
    state = wizard.state
    chosen = [m for m in state.mappings if m.include]
    rows = sum(source_db.rows(f"SELECT count(*) FROM {m.source}")[0][0] for m in chosen)
    text = page.plan_box.text.text()
    target = state.target
    assert text.startswith(
        f"{len(chosen)} tables, {rows:,} rows, from {source_db.dbname} on 127.0.0.1:"
    ), text
    assert f"to {target.dbname} on {target.host}:{target.port};" in text
    assert "; 2 columns renamed; tables that already exist: stop;" in text
    assert text == describe_plan(
        state.mappings,
        state.options,
        source=state.source,
        target=target,
        counted_rows=state.row_counts,
    )
    # what the page shows right now, before Start takes the options
    qtbot.mouseClick(page.stop_on_error, Qt.MouseButton.LeftButton)
    assert "a bad row stops its table (rolled back)" in page.plan_box.text.text()
    # Start sits right under the plan's last line, on the left where the reading ends
    box = page.plan_box
    assert page.start_button.parent() is box
    assert page.start_button.geometry().top() >= box.text.geometry().bottom()
    assert page.start_button.geometry().left() <= box.text.geometry().left() + 4


def test_nightly_run_is_offered_after_saving_and_shows_the_command(
    qtbot, wizard, source_db, target_db
):
    to_columns_page(qtbot, wizard, source_db, target_db)
    rename_meetingtime_reserved_words(qtbot, wizard)
    click_next(qtbot, wizard)
    page = wizard.migrate_page
    with qtbot.waitSignal(page.migration_finished, timeout=WAIT_MS):
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    click_next(qtbot, wizard)
    summary = wizard.summary_page
    assert not summary.nightly_button.isVisible()
    path = summary.save_profile("Courses nightly")
    assert summary.nightly_button.isVisible()
    dialog = summary.show_nightly()
    try:
        expected = nightly_run(path, cli_program(), name="Courses nightly")
        assert dialog.command.toPlainText() == expected.command
        assert dialog.schedule.toPlainText() == expected.schedule
        assert f"run {path}" in dialog.command.toPlainText().replace("'", "")
        password = state_password = wizard.state.target_password
        assert state_password and password not in dialog.schedule.toPlainText()
        assert password not in dialog.command.toPlainText()
        # the passwords were typed, not remembered: the dialog says the night run cannot connect
        assert dialog.warning.isVisible()
        assert "No password is saved for" in dialog.warning.text()
        # the tables were left at 'Stop': every night after the first would fail
        assert "are set to 'Stop', so they are not copied again and the run fails" in (
            dialog.warning.text()
        )
        # the log cron appends to exists already, readable by the user only
        assert path.with_suffix(".nightly.log").stat().st_mode & 0o777 == 0o600
    finally:
        dialog.close()


def test_a_saved_limit_of_no_bad_rows_stays_so_on_the_migrate_page(
    qtbot, wizard, source_db, target_db
):
    """A migration saved with --max-rejects 0 opened in the wizard: the page shows it, the plan
    says the table stops, and Start keeps 0 (it used to become 100 without a word)."""
    to_columns_page(qtbot, wizard, source_db, target_db)
    wizard.state.options.max_rejects = 0
    click_next(qtbot, wizard)
    page = wizard.migrate_page
    assert page.max_rejects.value() == 0
    assert "none (the first bad row stops the table)" in page.max_rejects.text()
    assert "a bad row is skipped" not in page.plan_box.text.text()
    page._fill_options(wizard.state.options)
    assert wizard.state.options.max_rejects == 0
