"""Issue 18 in the wizard: "Compare row by row" on the Summary page and "Check a finished
migration" on the Start page, against the real servers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_end_to_end import rename_meetingtime_reserved_words, run_migration, to_columns_page
from wizard_driver import WAIT_MS, click_next

from coursemig_gui.cli import main
from coursemig_gui.gui.models.comparison import ComparisonModel


def _verdicts(panel) -> dict[str, str]:
    model = panel.model
    return {model.table(r).target: model.index(r, ComparisonModel.VERDICT).data()
            for r in range(model.rowCount())}  # fmt: skip


def test_summary_compares_row_by_row_and_again(qtbot, wizard, source_db, target_db):
    to_columns_page(qtbot, wizard, source_db, target_db)
    rename_meetingtime_reserved_words(qtbot, wizard)
    assert run_migration(qtbot, wizard).exit_code == 0
    click_next(qtbot, wizard)
    summary = wizard.summary_page
    assert summary.compare_button.isVisible()
    assert summary.compare_button.text() == "Compare row by ro&w"
    panel = summary.compare_panel
    with qtbot.waitSignal(panel.finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(summary.compare_button, Qt.MouseButton.LeftButton)
        assert not summary.compare_button.isEnabled()  # one comparison at a time
    report = blocker.args[0]
    assert report.exit_code == 0, report.to_json()
    verdicts = _verdicts(panel)
    assert verdicts and all(v.startswith("✓ Identical") for v in verdicts.values()), verdicts
    assert panel.status.text().startswith(f"All {len(verdicts)} tables are identical")
    assert panel.report_file.exists() and "Open the comparison report" in panel.report_link.text()
    assert summary.compare_button.text() == "Compare a&gain"

    with target_db.admin_connect() as conn:
        slug = conn.execute("SELECT slug FROM meetingtime ORDER BY slug LIMIT 1").fetchone()[0]
        conn.execute("UPDATE meetingtime SET end_time = '2359' WHERE slug = %s", [slug])
    with qtbot.waitSignal(panel.finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(summary.compare_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].exit_code == 3
    verdict = _verdicts(panel)["meetingtime"]
    assert verdict.startswith("✗ Different: 1 row with different values"), verdict
    page = panel.report_file.read_text(encoding="utf-8")
    assert slug in page and "end → end_time" in page and "2359" in page


def test_start_page_checks_a_saved_migration(qtbot, wizard, source_db, target_db, tmp_path,
                                             monkeypatch):  # fmt: skip
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    profile = tmp_path / "courses.json"
    assert main(["plan", "--source", source_db.url, "--target", target_db.url, "--tables",
                 "courses_program,courses_course", "--output", str(profile), "-q"]) == 0  # fmt: skip
    assert main(["run", str(profile), "-q"]) == 0
    monkeypatch.delenv("PGPASSWORD")  # the person types it into the dialog instead

    assert wizard.start_page.check_button.isVisible()
    dialog = wizard.start_page.check_profile(profile)
    assert dialog is not None and dialog.target_password.isVisible()
    dialog.target_password.setText(target_db.password)
    with qtbot.waitSignal(dialog.panel.finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.compare_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].exit_code == 0
    assert set(_verdicts(dialog.panel)) == {"program", "course"}
    assert dialog.compare_button.text() == "&Compare again"

    dialog.target_password.setText("wrong")  # a plain sentence, no traceback
    with qtbot.waitSignal(dialog.panel.finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.compare_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].exit_code == 1
    assert dialog.panel.banner.isVisible() and "password" in dialog.panel.banner.text.lower()
    dialog.close()
