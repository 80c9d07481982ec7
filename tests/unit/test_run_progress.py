"""The Migrate page's bars and lines: a rolled-back table never reads as complete, the totals
are the source's counts, and the Summary's rows line is true whatever happened."""

from __future__ import annotations

from coursemig_gui.core.events import Phase, TableProgress
from coursemig_gui.core.report import MigrationReport, TableReport
from coursemig_gui.core.run_progress import (
    best_total,
    overall,
    overall_line,
    percent,
    rows_text,
    rows_written_sentence,
)


def _p(phase: Phase, done: int, total: int, rejected: int = 0) -> TableProgress:
    return TableProgress("s_" + phase.name, phase.name.lower(), phase, done, total, 0, rejected)


def test_a_stopped_or_failed_table_is_not_complete():
    stopped = _p(Phase.ROLLED_BACK, 54_557, 150_000)
    failed = _p(Phase.FAILED, 0, 120)
    assert percent(stopped) == 0 and percent(failed) == 0
    assert rows_text(stopped) == "none kept of 150,000, 54,557 read"
    assert rows_text(_p(Phase.FAILED, 40, 40)) == "none kept, 40 read"  # no total known
    assert rows_text(failed) == "none kept of 120"
    assert percent(_p(Phase.DONE, 12, 12)) == 100
    assert percent(_p(Phase.COPYING, 50, 200)) == 25


def test_the_overall_line_counts_stopped_and_failed_apart():
    rows = [
        _p(Phase.DONE, 32, 32),
        _p(Phase.DONE_WITH_REJECTS, 10, 10, rejected=2),
        _p(Phase.FAILED, 0, 300),
        _p(Phase.ROLLED_BACK, 40, 97),
        _p(Phase.NOT_STARTED, 0, 5),
    ]
    o = overall(rows)
    assert overall_line(o) == (
        "2 of 5 tables copied · 1 failed · 1 stopped and rolled back · 1 not started · "
        "40 of 444 rows copied"
    )
    assert o.fraction < 0.1
    assert overall_line(overall(rows[:1]), test_run=True).startswith("1 of 1 table would be copied")


def test_totals_are_the_counts_made_before_the_run():
    # the run's own estimate (0 for a table never analysed) does not replace the count
    assert best_total(_p(Phase.WAITING, 0, 0), 439) == 439
    assert best_total(_p(Phase.FAILED, 0, 0), 439) == 439
    assert best_total(_p(Phase.COPYING, 500, 0), 439) == 500  # rows added since the count
    assert best_total(_p(Phase.DONE, 440, 440), 439) == 440  # what the copy read
    assert best_total(_p(Phase.WAITING, 0, 17), None) == 17


def test_rows_written_of_the_sources_rows():
    report = MigrationReport(route="direct")
    report.tables = [
        TableReport("a", "a", Phase.FAILED, rows_read=0),
        TableReport("b", "b", Phase.FAILED, rows_read=0),
    ]
    assert rows_written_sentence(report, {"a": 500, "b": 28}) == (
        "0 of the source's 528 rows written"
    )
    assert rows_written_sentence(report, {}) == "0 rows written of 0 read"
    report.test_run = True
    assert rows_written_sentence(report, {"a": 1, "b": 1}).endswith("would be written")
