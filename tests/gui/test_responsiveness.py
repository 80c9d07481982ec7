"""The GUI thread stays responsive while a big table loads in the worker."""

from __future__ import annotations

import os
import time

import pytest
from PySide6.QtCore import Qt, QTimer
from test_end_to_end import to_columns_page
from wizard_driver import click_next

from coursemig_gui.demo.sample_data import fill_sample_data

BIG = 200_000
LIMIT_MS = 100
# The worst single gap depends on what else the machine runs (other test suites, two PostgreSQL
# servers on two cores): asserted only on a quiet machine, when this variable is set. The 99th
# percentile is asserted always.
STRICT = os.environ.get("COURSEMIG_STRICT_HEARTBEAT") == "1"


class Heartbeat:
    """A 10 ms timer on the GUI thread; the longest time between two beats is the worst stall."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.beat)
        self.last = 0.0
        self.gaps: list[float] = []

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000)
        self.last = now

    def worst(self) -> float:
        return max(self.gaps) if self.gaps else 0.0


@pytest.mark.slow
def test_gui_thread_never_stalls_during_a_200000_row_migration(
    qtbot, wizard, empty_source_db, target_db
):
    fill_sample_data(empty_source_db.url, courses=BIG, seed=5)
    to_columns_page(qtbot, wizard, empty_source_db, target_db)
    click_next(qtbot, wizard)
    migrate = wizard.migrate_page
    heartbeat = Heartbeat()
    heartbeat.start()
    started = time.perf_counter()
    with qtbot.waitSignal(migrate.migration_finished, timeout=900_000) as blocker:
        qtbot.mouseClick(migrate.start_button, Qt.MouseButton.LeftButton)
    heartbeat.stop()
    seconds = time.perf_counter() - started
    report = blocker.args[0]
    assert report.exit_code == 0, report.to_json()
    course = next(t for t in report.tables if t.source == "courses_course")
    assert course.rows_written == BIG
    rows = sum(t.rows_written for t in report.tables)
    gaps = sorted(heartbeat.gaps)
    p99 = gaps[int(len(gaps) * 0.99)]
    print(
        f"\nGUI heartbeat during a {rows:,}-row migration ({BIG:,} courses) in {seconds:.1f} s: "
        f"worst gap {heartbeat.worst():.1f} ms, 99th percentile {p99:.1f} ms, "
        f"{len(gaps)} beats of 10 ms; load average {os.getloadavg()[0]:.1f}"
    )
    assert p99 < LIMIT_MS
    if STRICT:
        assert heartbeat.worst() < LIMIT_MS
