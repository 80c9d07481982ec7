"""Issue 12: every status a table can end in has one sentence, and the wizard, the CLI and
docs/when-things-go-wrong.md all say that same sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursemig_gui.core.events import FINAL_PHASES
from coursemig_gui.core.report import MigrationReport, TableReport

DOCS = Path(__file__).resolve().parents[2] / "docs" / "when-things-go-wrong.md"


@pytest.mark.parametrize("test_run", [False, True], ids=["real run", "test run"])
def test_every_final_status_has_one_sentence_in_gui_cli_and_docs(capsys, test_run):
    import argparse

    from coursemig_gui.cli import _finish
    from coursemig_gui.core.table_status import status_label, status_sentence
    from coursemig_gui.gui.models.report import ReportModel

    docs = DOCS.read_text(encoding="utf-8")
    report = MigrationReport(
        tables=[
            TableReport(f"s{i}", f"t{i}", status) for i, status in enumerate(sorted(FINAL_PHASES))
        ],
        test_run=test_run,
    )
    model = ReportModel()
    model.set_report(report)
    capsys.readouterr()
    _finish(argparse.Namespace(json_report=None, quiet=False), report)
    cli = capsys.readouterr().err
    assert "copied, not verified" in {str(p) for p in FINAL_PHASES}
    if test_run:  # no sentence of a test run may say rows were kept
        assert not any(
            "committed" in status_sentence(s, True)
            or "are in the target" in status_sentence(s, True)
            for s in FINAL_PHASES
        )
    for row, status in enumerate(sorted(FINAL_PHASES)):
        sentence = status_sentence(status, test_run)
        assert sentence and sentence.endswith("."), status
        assert f"| {status_label(status, test_run)} | {sentence} |" in docs, status
        assert model.index(row, ReportModel.RESULT).data() == status_label(status, test_run)
        assert sentence in model.index(row, ReportModel.RESULT).data(ReportModel.SENTENCE_ROLE)
        assert f"{status}: {sentence}" in cli, (status, cli)


def test_a_test_run_whose_check_found_a_difference_says_so_in_its_headline():
    from coursemig_gui.core.events import Phase
    from coursemig_gui.core.report import Verification

    differs = TableReport("s", "course", Phase.DONE, verification=Verification.MISMATCH)
    fine = TableReport("s2", "program", Phase.DONE, verification=Verification.MATCH)
    report = MigrationReport(tables=[differs, fine], test_run=True)
    headline = report.headline()
    assert "All 2 tables would be copied" not in headline
    assert "1 would then differ from the source (course)" in headline
    assert report.exit_code != 0


def test_a_table_whose_every_row_was_refused_is_not_counted_as_copied():
    """An append of rows that are all there already: every row refused, none written. The
    headline and the table's sentence say so (it read '6 of 9 tables copied')."""
    from coursemig_gui.core.events import Phase

    refused = TableReport("s", "program", Phase.DONE_WITH_REJECTS, 32, 0, 32)
    some = TableReport("s2", "course", Phase.DONE_WITH_REJECTS, 10, 8, 2)
    fine = TableReport("s3", "degree", Phase.DONE, 5, 5, 0)
    headline = MigrationReport(tables=[refused, some, fine]).headline()
    assert headline.startswith("2 of 3 tables copied"), headline
    assert "1 with every row refused, none copied (program)" in headline
    assert "1 with 2 skipped rows" in headline
    one = MigrationReport(tables=[fine], test_run=True).headline()
    assert "The 1 table would be copied" in one


def test_a_run_level_sentence_after_the_tables_keeps_its_names_capitalised():
    """The headline goes on with ', but …': its first letter was made small whatever the word,
    so 'CourseMig stopped …' read 'courseMig stopped …'."""
    from coursemig_gui.core.events import Phase

    report = MigrationReport(tables=[TableReport("s", "t", Phase.DONE)])
    report.message = "CourseMig stopped because of a problem inside it."
    report.problems = ["The foreign key of t could not be made."]
    headline = report.headline()
    assert ", but the foreign key of t could not be made. CourseMig stopped" in headline, headline
