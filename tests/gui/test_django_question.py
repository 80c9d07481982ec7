"""Issue 17 in the wizard: the question on the Tables page, the names it gives, and the Summary
page's hand-over folder (its link, and the project folder that adds models.patch)."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from wizard_driver import WAIT_MS, choose_app, click_next, connect_both

from coursemig_gui.core.django_handover.choice import DjangoAppWill
from coursemig_gui.core.profile import Profile
from coursemig_gui.gui.models.tables import TablesModel

DJANGO_PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "djangoproject"


def _target_names(page) -> dict[str, str]:
    model = page.model
    names = {}
    for app_row in range(model.rowCount()):
        app = model.index(app_row, 0)
        for row in range(model.rowCount(app)):
            table = model.index(row, TablesModel.TABLE, app).data()
            names[table] = model.index(row, TablesModel.TARGET, app).data()
    return names


def test_new_names_answer_then_summary_links_the_handover(
    qtbot, wizard, source_db, target_db, tmp_path, monkeypatch
):
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    connect_both(qtbot, wizard, source_db.url, target_db.url)
    click_next(qtbot, wizard)
    page = wizard.tables_page
    question = page.django_question
    assert question.isVisible()
    assert question.title() == "Will the Django app use the new database?"
    assert question.buttons[DjangoAppWill.NO].isChecked()  # today's behaviour until answered

    # keeping Django's names offers (and ticks) Django's own tables under their own names
    qtbot.mouseClick(question.buttons[DjangoAppWill.KEEP_NAMES], Qt.MouseButton.LeftButton)
    assert page.show_system.isChecked()
    assert {"django_migrations", "django_content_type", "auth_user"} <= set(
        page.model.selected_tables()
    )
    assert _target_names(page)["courses_course"] == "courses_course"

    # the seed's answer: short names, reserved words renamed; Django's own tables not ticked
    qtbot.mouseClick(question.buttons[DjangoAppWill.NEW_NAMES], Qt.MouseButton.LeftButton)
    assert "db_table" not in question.explanation.text()  # plain words for office staff
    page.model.set_checked(page.model.selected_tables(), False)
    choose_app(qtbot, wizard, "courses")
    assert _target_names(page)["courses_course"] == "course"
    click_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.columns_page
    assert wizard.state.mapping("courses_meetingtime").column("end").target == "end_time"
    assert wizard.state.mapping("courses_course").target == "course"

    click_next(qtbot, wizard)
    migrate = wizard.migrate_page
    with qtbot.waitSignal(migrate.migration_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(migrate.start_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].exit_code == 0, blocker.args[0].to_json()
    click_next(qtbot, wizard)
    summary = wizard.summary_page
    assert wizard.currentPage() is summary

    # What's next tells the truth for this answer: the models must learn the new names
    text = summary.next_steps.text()
    assert "cannot use" in text and "courses_course is now course" in text
    assert "point the Django app at the new database in its settings" not in text

    # the folder is written and linked
    panel = summary.handover
    assert panel.isVisible() and panel.result is not None
    folder = panel.result.folder
    assert (folder / "README.txt").exists() and (folder / "next_steps.md").exists()
    assert not (folder / "models.patch").exists()
    assert QUrl.fromLocalFile(str(folder)).toString() in panel.link.text()
    assert panel.link.openExternalLinks()

    # the project folder picker's choice adds the patch
    project = tmp_path / "project"
    shutil.copytree(DJANGO_PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    result = panel.set_project(project)
    assert result is not None and result.has_patch
    assert 'db_table = "course"' in (folder / "models.patch").read_text(encoding="utf-8")
    assert "with models.patch" in panel.link.text()
    for path in folder.iterdir():
        assert target_db.password not in path.read_text(encoding="utf-8")

    # the answer is kept in the saved migration
    saved = summary.save_profile("Courses for the app")
    assert saved is not None
    profile = Profile.load(saved)
    assert profile.django.app_will == DjangoAppWill.NEW_NAMES
    assert {m.table for m in profile.django.models} >= {"courses_course", "courses_meetingtime"}
