"""The message banner, the worker and the event batching, without databases."""

from __future__ import annotations

import threading

from PySide6.QtGui import QGuiApplication

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import LogMessage, Phase, RejectedRow, TableProgress
from coursemig_gui.gui.widgets.banner import Level, MessageBanner
from coursemig_gui.gui.worker import EventBatcher, Worker


def test_banner_keeps_details_one_click_away_and_copies_both(qtbot):
    banner = MessageBanner()
    qtbot.addWidget(banner)
    banner.show()
    banner.show_error(FriendlyError("Azure refused this computer.", "FATAL: no pg_hba.conf entry"))
    assert banner.isVisible() and banner.level == Level.ERROR
    assert not banner.details.isVisible()
    banner.details_button.click()
    assert banner.details.isVisible() and banner.details_button.text() == "Hide details"
    banner.copy_button.click()
    assert QGuiApplication.clipboard().text() == (
        "Azure refused this computer.\n\nFATAL: no pg_hba.conf entry"
    )
    banner.show_message(Level.INFO, "Just so you know.")
    assert not banner.details_button.isVisible()
    banner.close_button.click()
    assert not banner.isVisible()


def test_worker_runs_off_the_gui_thread_and_reports_failures_as_sentences(qtbot):
    worker = Worker("test")
    gui_thread = threading.get_ident()
    seen = {}
    try:
        with qtbot.waitSignal(worker.busy_changed, timeout=5000, check_params_cb=lambda b: not b):
            worker.submit(threading.get_ident, lambda result: seen.setdefault("thread", result))
        assert seen["thread"] != gui_thread

        def broken():
            raise ZeroDivisionError("a bug")

        with qtbot.waitSignal(worker.busy_changed, timeout=5000, check_params_cb=lambda b: not b):
            worker.submit(broken, lambda _r: None, lambda error: seen.setdefault("error", error))
        error = seen["error"]
        assert isinstance(error, FriendlyError)
        assert "Something unexpected went wrong" in error.message
        assert "ZeroDivisionError: a bug" in error.detail
    finally:
        worker.stop()


def test_progress_is_coalesced_per_table_and_rejects_are_all_kept(qtbot):
    batcher = EventBatcher(interval=60)  # no time-based flush during the test
    batches = []
    batcher.batch_ready.connect(batches.append)
    batcher.add(TableProgress("t", "t", Phase.COPYING, 0))  # a phase change goes out at once
    assert len(batches) == 1
    for n in range(1, 1001):
        batcher.add(TableProgress("t", "t", Phase.COPYING, n))
        if n % 100 == 0:
            batcher.add(RejectedRow("t", "t", n, "bad"))
    batcher.add(LogMessage("note"))
    assert len(batches) == 1  # nothing urgent since: all waiting for the next flush
    batcher.flush()
    last = batches[-1]
    assert list(last.progress) == ["t"] and last.progress["t"].rows_done == 1000
    assert [r.row_number for r in last.rejected] == list(range(100, 1001, 100))
    assert [m.text for m in last.messages] == ["note"]


def test_emitting_signals_does_not_use_up_true(qtbot):
    """PySide6 6.12.0's emit() drops a reference to True each time; gui.signals.emit gives it back."""
    import sys

    from coursemig_gui.gui.signals import emit

    banner = MessageBanner()
    qtbot.addWidget(banner)
    before = sys.getrefcount(True)
    for _ in range(500):
        emit(banner.action_clicked)
    assert sys.getrefcount(True) >= before


def test_exported_error_log_is_private_and_shows_formulas_as_text(qtbot, tmp_path):
    import csv
    import os
    import stat

    from coursemig_gui.gui.models.error_log import ErrorLogModel

    formula = '=HYPERLINK("http://x","y")'
    model = ErrorLogModel()
    model.append(
        [
            RejectedRow(
                "courses_program",
                "program",
                1,
                "The value is too long.",
                "subject",
                formula,
                "22001",
                "value too long",
                f"P1,{formula}",
            )
        ]
    )
    path = tmp_path / "skipped-rows.csv"
    model.export_csv(path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["value"] == "'" + formula
    assert rows[0]["row text"] == f"P1,{formula}"  # does not start a formula: kept as it was
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
