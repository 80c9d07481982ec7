"""Issue 12: the live error log shows only rows of the try that counts. A table loaded again
from the start (its earlier try rolled back) drops the rows that try logged, whether they were
still waiting in the event batch or already on screen."""

from __future__ import annotations

from coursemig_gui.core.events import RejectedRow, TableRestarted
from coursemig_gui.gui.models.error_log import ErrorLogModel
from coursemig_gui.gui.worker import EventBatcher


def _row(target: str, number: int) -> RejectedRow:
    return RejectedRow(table=f"courses_{target}", target=target, row_number=number, reason="x")


def test_a_restarted_table_drops_its_rows_from_the_live_log(qtbot):
    batches = []
    batcher = EventBatcher(interval=3600)  # flushed by hand below
    batcher.batch_ready.connect(batches.append)
    model = ErrorLogModel()

    batcher.add(_row("course", 1))
    batcher.add(_row("program", 7))
    batcher.flush()
    model.append(batches[-1].rejected)  # on screen: course row 1, program row 7

    batcher.add(_row("course", 2))  # still waiting in the batch when the table restarts
    batcher.add(TableRestarted("courses_course", "course"))
    batcher.add(_row("course", 2))  # the new try finds the same bad row again
    batcher.flush()
    batch = batches[-1]
    assert batch.restarted == ["course"]
    for target in batch.restarted:  # the order MigrationRun delivers them in
        model.discard(target)
    model.append(batch.rejected)

    shown = [(r.target, r.row_number) for r in model.rejected_rows()]
    assert shown == [("program", 7), ("course", 2)]
