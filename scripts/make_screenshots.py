"""Screenshots of every wizard page for docs/user-guide.md, taken from the real widgets.

Starts the demo databases (two throwaway local PostgreSQL servers with sample courses), walks
the wizard the way a person would, and saves ``docs/screenshots/*.png``. Runs offscreen unless
told otherwise; ``--scale 2`` draws at 200 % (``QT_SCALE_FACTOR``) into
``docs/screenshots/scale-200/``:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/make_screenshots.py
    DISPLAY=:1 QT_QPA_PLATFORM=xcb .venv/bin/python scripts/make_screenshots.py --scale 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SIZE = (1100, 760)


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.5 for 150 %%, 2 for 200 %%")
    args = parser.parse_args()
    if args.scale != 1:
        # before Qt starts: the whole window drawn larger, as on a high-DPI screen
        os.environ["QT_SCALE_FACTOR"] = f"{args.scale:g}"
        OUT = OUT / f"scale-{round(args.scale * 100)}"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A throwaway user folder: the screenshots must not show (or touch) anyone's own profiles.
    os.environ["COURSEMIG_HOME"] = tempfile.mkdtemp(prefix="coursemig-shots-")
    from PySide6.QtWidgets import QApplication

    from coursemig_gui.core.profile import Profile
    from coursemig_gui.demo.demo import start_demo
    from coursemig_gui.gui.app import make_application
    from coursemig_gui.gui.wizard import MigrationWizard

    app = make_application()
    OUT.mkdir(parents=True, exist_ok=True)
    print("starting the demo databases…")
    demo = start_demo()
    try:
        wizard = MigrationWizard()
        wizard.resize(*SIZE)
        wizard.show()
        settle(app)
        shot(wizard, "1-start-first-time")
        _saved_example(Profile)
        wizard.start_page.initializePage()
        settle(app)

        def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
            deadline = time.monotonic() + timeout
            while not condition():
                if time.monotonic() > deadline:
                    raise SystemExit(f"timed out waiting for {what}")
                QApplication.processEvents()
                time.sleep(0.01)
            settle(app)

        shot(wizard, "1-start")

        wizard.start_page.start_new()  # goes on to Connect by itself
        page = wizard.connect_page
        page.source_card.apply_connection_string(demo.source_url)
        page.target_card.apply_connection_string(demo.target_url)
        for card in (page.source_card, page.target_card):
            card.test_connection()
        wait_for(lambda: page.source_card.check and page.target_card.check, "the connection tests")
        shot(wizard, "2-connect")

        wizard.next()
        tables = wizard.tables_page
        wait_for(lambda: not tables.counting.isVisible(), "the row counts")
        tables.model.set_checked(["courses_course", "courses_section"])
        settle(app)
        shot(wizard, "3-tables-warning")
        tables.model.set_app_checked("courses")
        settle(app)
        shot(wizard, "3-tables")
        # The Django question answered the seed's way, shown; the walk goes on with the
        # default answer so the Columns shots still show the reserved-word fix.
        from coursemig_gui.core.django_handover.choice import DjangoAppWill

        tables.django_question.buttons[DjangoAppWill.NEW_NAMES].setChecked(True)
        settle(app)
        shot(wizard, "3-tables-django")
        tables.django_question.buttons[DjangoAppWill.NO].setChecked(True)
        settle(app)

        wizard.next()
        columns = wizard.columns_page
        columns.select_table("courses_meetingtime")
        settle(app)
        shot(wizard, "4-columns")
        columns.fix_current_table()
        columns.columns_model.rename_column("start", "start_time")
        # One value that cannot fit, so the error log has something to show.
        columns.select_table("courses_course")
        columns.columns_model.set_column_type("description", "character varying(14000)")
        columns.sql_button.setChecked(True)
        settle(app)
        shot(wizard, "4-columns-sql")
        columns.sql_button.setChecked(False)

        # The same names the "Yes, with new names" answer gives: the Summary shows its hand-over.
        wizard.state.django_app_will = DjangoAppWill.NEW_NAMES
        wizard.next()
        migrate = wizard.migrate_page
        settle(app)
        shot(wizard, "5-migrate")
        migrate.test_run.setChecked(True)
        migrate.start_migration()
        wait_for(lambda: not migrate.running, "the test run")
        wizard.next()
        settle(app)
        shot(wizard, "7-test-run")
        wizard.back()
        migrate.show_setup()
        migrate.test_run.setChecked(False)
        migrate.start_migration()
        wait_for(lambda: not migrate.running, "the migration")
        shot(wizard, "6-progress")

        wizard.next()
        settle(app)
        wizard.summary_page.save_profile("Courses nightly")
        settle(app)
        shot(wizard, "7-summary")
        dialog = wizard.summary_page.show_nightly()
        settle(app)
        shot(dialog, "8-nightly")
        dialog.close()
        summary = wizard.summary_page
        summary.compare_rows()
        wait_for(lambda: summary.compare_panel.report is not None, "the comparison")
        shot(wizard, "8-compare")
        profile_path = summary.save_profile("Courses to Azure")
        dialog = wizard.start_page.check_profile(profile_path)
        dialog.resize(900, 560)
        # as a person would type them: the demo's passwords are not in the keyring
        dialog.source_password.setText(wizard.state.source_password or "")
        dialog.target_password.setText(wizard.state.target_password or "")
        dialog.compare()
        wait_for(lambda: dialog.panel.report is not None, "the check")
        shot(dialog, "9-check")
        dialog.close()
        wizard.shutdown()
        wizard.deleteLater()
        settle(app)
    finally:
        demo.stop()
    print(f"saved to {OUT}")
    return 0


def _saved_example(profile_class) -> None:
    """A saved migration, so the Start page shows what its list looks like."""
    profile = profile_class(name="Courses to Azure")
    profile.last_run, profile.last_result = "2026-11-20T14:05", "All 9 tables copied and verified"
    profile.save()


def settle(app) -> None:
    for _ in range(20):
        app.processEvents()
        time.sleep(0.005)


def shot(widget, name: str) -> None:
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(f"  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
