"""Start, Connect and Tables pages against the real servers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from wizard_driver import WAIT_MS, click_next, connect_both

from coursemig_gui.gui.signals import emit


def test_next_needs_both_connections_tested(qtbot, wizard, source_db, target_db):
    qtbot.mouseClick(wizard.start_page.new_button, Qt.MouseButton.LeftButton)
    page = wizard.connect_page
    assert not page.isComplete()
    assert page.reason_label.text() == "Test both connections to continue."
    assert page.target_card.apply_connection_string(target_db.url)
    card = page.target_card
    assert card.host.text() == "127.0.0.1" or card.host.text()
    assert card.security.currentData() == "verify-file"  # the test CA
    assert card.password.text() == target_db.password
    with qtbot.waitSignal(card.tested, timeout=WAIT_MS):
        qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    assert "Connected to PostgreSQL" in card.result.text
    assert "Django database" in page.reason_label.text()
    # editing a field after the test makes it count no more
    card.dbname.setText("other")
    emit(card.dbname.textEdited, "other")
    assert card.check is None and not page.isComplete()


def test_wrong_password_is_a_sentence_with_details(qtbot, wizard, target_db):
    qtbot.mouseClick(wizard.start_page.new_button, Qt.MouseButton.LeftButton)
    card = wizard.connect_page.target_card
    card.apply_connection_string(target_db.url)
    card.password.setText("not the password")
    emit(card.password.textEdited, "not the password")
    with qtbot.waitSignal(card.test_failed, timeout=WAIT_MS):
        qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    assert card.check is None
    assert card.result.isVisible() and card.result.level == "error"
    assert "password" in card.result.text.lower()
    assert "Traceback" not in card.result.text
    assert card.result.detail_text  # the server's own words, behind Details…


def test_tables_grouped_by_app_with_counts_and_parent_warning(qtbot, wizard, source_db, target_db):
    connect_both(qtbot, wizard, source_db.url, target_db.url)
    click_next(qtbot, wizard)
    page = wizard.tables_page
    model = page.model
    assert model.app_names()[0] == "courses"
    assert not any(name.startswith(("auth_", "django_")) for name in model.visible_tables())
    page.show_system.setChecked(True)
    assert any(name.startswith("auth_") for name in model.visible_tables())
    page.show_system.setChecked(False)
    assert not page.isComplete()
    assert "Tick at least one table" in page.reason_label.text()

    qtbot.waitUntil(lambda: not page.counting.isVisible(), timeout=WAIT_MS)
    model.set_checked(["courses_course"])
    assert "course refers to program, which is not selected" in page.banner.text
    courses = source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    assert page.footer.text() == f"1 table · {courses:,} rows selected"
    model.set_app_checked("courses")
    assert not page.banner.isVisible()
    assert page.isComplete()
    click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.columns_page
    assert "courses_meetingtime" in [m.source for m in wizard.state.mappings]


def test_filter_box_narrows_the_tree(qtbot, wizard, source_db, target_db):
    connect_both(qtbot, wizard, source_db.url, target_db.url)
    click_next(qtbot, wizard)
    page = wizard.tables_page
    page.filter_edit.setText("meeting")
    app_index = page.proxy.index(0, 0)
    names = [
        page.proxy.index(r, 0, app_index).data() for r in range(page.proxy.rowCount(app_index))
    ]
    assert names == ["courses_meetinglocation", "courses_meetingtime"]
