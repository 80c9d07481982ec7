"""Issue 12: Stop pressed while a committed table is being verified. The run is real (the Stop
lands as the table announces its check); the Summary page then says the table is copied and
not verified, never "as it was before", and offers no next step."""

from __future__ import annotations

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import CancelToken, Phase, TableProgress
from coursemig_gui.core.mapping import default_mappings, select_tables
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.gui.models.report import ReportModel


def test_summary_says_copied_not_verified_after_stop_during_the_check(
    qtbot, wizard, source_db, target_db
):
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, select_tables(catalog, ["courses_program"]))
    cancel = CancelToken()

    def on_event(event) -> None:
        if isinstance(event, TableProgress) and event.phase == Phase.VERIFYING:
            cancel.cancel()  # Stop, as the check begins (after the COMMIT)

    report = run_migration(
        source_db.endpoint, target_db.endpoint, mappings, MigrationOptions(), on_event, cancel
    )
    wizard.state.report = report
    summary = wizard.summary_page
    summary.initializePage()

    assert "Copied, not verified: program." in summary.headline.text()
    details = summary.details.text()
    assert "Copied but not verified: program — their rows are in the target" in details
    assert "as they were before" not in details
    assert summary.model.index(0, ReportModel.RESULT).data() == "Copied, not verified"
    assert summary.next_steps.text() == ""  # no "point the app at the new database"
    rows = source_db.rows("SELECT count(*) FROM courses_program")[0][0]
    assert target_db.rows("SELECT count(*) FROM program")[0][0] == rows
