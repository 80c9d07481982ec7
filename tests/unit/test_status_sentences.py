"""Issue 12: every status a table can end in has one sentence, and the wizard, the CLI and
docs/when-things-go-wrong.md all say that same sentence."""

from __future__ import annotations

from pathlib import Path

from coursemig_gui.core.events import FINAL_PHASES
from coursemig_gui.core.report import MigrationReport, TableReport

DOCS = Path(__file__).resolve().parents[2] / "docs" / "when-things-go-wrong.md"


def test_every_final_status_has_one_sentence_in_gui_cli_and_docs(capsys):
    import argparse

    from coursemig_gui.cli import _finish
    from coursemig_gui.core.table_status import status_label, status_sentence
    from coursemig_gui.gui.models.report import ReportModel

    docs = DOCS.read_text(encoding="utf-8")
    report = MigrationReport(
        tables=[
            TableReport(f"s{i}", f"t{i}", status) for i, status in enumerate(sorted(FINAL_PHASES))
        ]
    )
    model = ReportModel()
    model.set_report(report)
    capsys.readouterr()
    _finish(argparse.Namespace(json_report=None, quiet=False), report)
    cli = capsys.readouterr().err
    assert "copied, not verified" in {str(p) for p in FINAL_PHASES}
    for row, status in enumerate(sorted(FINAL_PHASES)):
        sentence = status_sentence(status)
        assert sentence and sentence.endswith("."), status
        assert f"| {status_label(status)} | {sentence} |" in docs, status
        assert model.index(row, ReportModel.RESULT).data() == status_label(status)
        assert sentence in model.index(row, ReportModel.RESULT).data(ReportModel.SENTENCE_ROLE)
        assert f"{status}: {sentence}" in cli, (status, cli)
