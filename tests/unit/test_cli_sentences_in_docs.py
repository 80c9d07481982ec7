"""The sentences the command line says before a run starts are the ones
docs/when-things-go-wrong.md lists, word for word (names in italics there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursemig_gui.cli_args import table_names
from coursemig_gui.core.catalog import Catalog
from coursemig_gui.core.catalog import Table as CatalogTable
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.mapping import select_tables
from coursemig_gui.core.options import (
    CLI_IF_EXISTS_CHOICES,
    MigrationOptions,
    max_reject_percent_problem,
    max_rejects_problem,
)
from coursemig_gui.core.report_file import ReportFile

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "when-things-go-wrong.md").read_text(
    encoding="utf-8"
)


def _said(call) -> str:
    with pytest.raises((ValueError, FriendlyError)) as raised:
        call()
    exc = raised.value
    return exc.message if isinstance(exc, FriendlyError) else str(exc)


def test_before_a_run_starts_the_sentences_are_in_the_docs(tmp_path):
    empty = _said(lambda: select_tables(Catalog("s", ())))
    assert empty.replace('"s"', '"*s*"') in DOCS
    django_only = Catalog("public", (CatalogTable("auth_user", (), is_system=True, app="auth"),))
    assert _said(lambda: select_tables(django_only)).replace("_*", "_\\*") in DOCS
    assert _said(lambda: table_names(",")) in DOCS
    for problem in (max_rejects_problem(-1), max_reject_percent_problem(-5)):
        assert problem and problem.split(";")[0] + "; …" in DOCS, problem
    folder = tmp_path / "f"
    folder.write_text("x")
    csv = MigrationOptions(route=Route.DIRECT_KEEP_CSV, csv_dir=str(folder))
    said = _said(csv.check)
    assert said.replace(str(folder), "*f*", 1).replace(str(folder), "*p*") in DOCS
    report = ReportFile(tmp_path / "r.json")
    report.claim()
    claim = report.path.read_text(encoding="utf-8")
    assert "it is still running, or it was stopped before it could write its report." in claim
    assert "has not finished: it is still running, or it was stopped before it could " in DOCS


def test_the_command_line_s_words_for_an_existing_table_are_in_the_docs():
    assert f"`{CLI_IF_EXISTS_CHOICES}`" in DOCS
