"""Database work off the GUI thread: a QObject in its own QThread, results back as Qt signals.

Every page that touches a database goes through a ``Worker``: connection tests, reading the
catalog, counting rows and the migration itself. Nothing here ever calls ``QThread.terminate``;
a migration stops through core's ``CancelToken`` and rolls back its current table.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import psycopg
from PySide6.QtCore import QObject, QThread, Signal, Slot

# Imported up front, not when Start is clicked: importing the engine took 0.2 s on the GUI thread.
from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import (
    FINAL_PHASES,
    CancelToken,
    Event,
    LogMessage,
    RejectedRow,
    TableProgress,
    TableRestarted,
)
from coursemig_gui.gui.signals import emit

_job_ids = itertools.count(1)
GUI_SWITCH_INTERVAL = 0.0005  # seconds; see MigrationRun.start


def as_friendly(exc: BaseException) -> FriendlyError:
    """Any exception from a job as a sentence for a person, with the technical text as detail."""
    if isinstance(exc, FriendlyError):
        return exc
    if isinstance(exc, psycopg.Error):
        try:
            from coursemig_gui.core.explain import explain_error

            return explain_error(exc)
        except Exception:  # noqa: BLE001 - explaining must never hide the original error
            pass
    detail = "".join(traceback.format_exception(exc)).strip()
    return FriendlyError(
        "Something unexpected went wrong. Try again; if it happens again, copy the details "
        "and send them to whoever looks after CourseMig.",
        detail,
    )


class _Runner(QObject):
    """Lives in the worker thread; runs one call at a time, in the order they were sent."""

    done = Signal(int, object)
    failed = Signal(int, object)

    @Slot(int, object)
    def run(self, job_id: int, call: Callable[[], Any]) -> None:
        try:
            result = call()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the page
            emit(self.failed, job_id, as_friendly(exc))
        else:
            emit(self.done, job_id, result)


class Worker(QObject):
    """Runs callables on its own thread; their results come back to callbacks on the GUI thread.

    Jobs run one after another. Pages that must not wait for each other (the two connection
    cards) each have their own worker.
    """

    busy_changed = Signal(bool)
    _request = Signal(int, object)

    def __init__(self, name: str = "worker", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(f"coursemig-{name}")
        self._runner = _Runner()
        self._runner.moveToThread(self._thread)
        self._request.connect(self._runner.run)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._callbacks: dict[int, tuple[Callable, Callable | None]] = {}
        self._thread.start()

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def submit(
        self,
        call: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[FriendlyError], None] | None = None,
    ) -> int:
        """Queue ``call`` on the worker thread; returns a job id (to ignore stale answers)."""
        job_id = next(_job_ids)
        was_busy = self.busy
        self._callbacks[job_id] = (on_done, on_error)
        if not was_busy:
            emit(self.busy_changed, True)
        emit(self._request, job_id, call)
        return job_id

    def stop(self, wait_ms: int = 30000) -> None:
        """Let the running job finish, then end the thread (called when the window closes)."""
        self._callbacks.clear()
        self._thread.quit()
        self._thread.wait(wait_ms)

    @Slot(int, object)
    def _on_done(self, job_id: int, result: object) -> None:
        callbacks = self._finish(job_id)
        if callbacks:
            callbacks[0](result)

    @Slot(int, object)
    def _on_failed(self, job_id: int, error: FriendlyError) -> None:
        callbacks = self._finish(job_id)
        if callbacks and callbacks[1]:
            callbacks[1](error)

    def _finish(self, job_id: int) -> tuple[Callable, Callable | None] | None:
        callbacks = self._callbacks.pop(job_id, None)
        if not self._callbacks:
            emit(self.busy_changed, False)
        return callbacks


class EventBatcher(QObject):
    """Collects core events on the worker thread and hands them to the GUI in batches.

    A 200,000-row table sends hundreds of progress events; one Qt signal each would flood the
    GUI thread. Progress is coalesced to the newest state per table and sent at most every
    ``interval`` seconds; a phase change is sent at once so the state column never lags.
    """

    batch_ready = Signal(object)  # EventBatch

    def __init__(self, interval: float = 0.1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._interval = interval
        self._lock = threading.Lock()
        self._pending = EventBatch()
        self._last_flush = 0.0
        self._phases: dict[str, str] = {}

    def add(self, event: Event) -> None:
        """The ``on_event`` callback handed to core (runs on the worker thread)."""
        urgent = False
        with self._lock:
            if isinstance(event, TableProgress):
                self._pending.progress[event.table] = event
                urgent = self._phases.get(event.table) != event.phase
                self._phases[event.table] = event.phase
            elif isinstance(event, RejectedRow):
                self._pending.rejected.append(event)
            elif isinstance(event, TableRestarted):  # its rows so far were rolled back
                self._pending.rejected = [
                    r for r in self._pending.rejected if r.target != event.target
                ]
                self._pending.restarted.append(event.target)
            elif isinstance(event, LogMessage):
                self._pending.messages.append(event)
                urgent = event.level == "error"
        if urgent or time.monotonic() - self._last_flush >= self._interval:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, EventBatch()
            self._last_flush = time.monotonic()
        if not batch.empty:
            emit(self.batch_ready, batch)


class EventBatch:
    """What arrived since the last batch: newest progress per table, every reject and message."""

    __slots__ = ("progress", "rejected", "messages", "restarted")

    def __init__(self) -> None:
        self.progress: dict[str, TableProgress] = {}
        self.rejected: list[RejectedRow] = []
        self.messages: list[LogMessage] = []
        self.restarted: list[str] = []  # target tables loaded again from the start

    @property
    def empty(self) -> bool:
        return not (self.progress or self.rejected or self.messages or self.restarted)


class MigrationRun(QObject):
    """One run of ``core.engine.run.run_migration`` on a worker thread, with its events as signals."""

    table_progress = Signal(object)  # TableProgress, the newest per table
    rows_rejected = Signal(list)  # list[RejectedRow], in the order they were found
    table_restarted = Signal(str)  # a target table loaded again: drop its rows so far
    log_message = Signal(object)  # LogMessage
    finished = Signal(object)  # MigrationReport
    failed = Signal(object)  # FriendlyError: a bug, since run_migration reports user errors

    def __init__(self, parent: QObject | None = None, interval: float = 0.1) -> None:
        super().__init__(parent)
        self._worker = Worker("migration", self)
        self._batcher = EventBatcher(interval, self)
        self._batcher.batch_ready.connect(self._deliver)
        self._cancel = CancelToken()
        self.running = False
        self._old_switch_interval = sys.getswitchinterval()

    def start(
        self,
        source: Endpoint | None,
        target: Endpoint | None,
        mappings: list,
        options: Any,
        test_run: bool = False,
    ) -> None:
        batcher, cancel = self._batcher, self._cancel

        def call():
            try:
                return run_migration(source, target, mappings, options, batcher.add, cancel,
                                     test_run=test_run)  # fmt: skip
            finally:
                batcher.flush()  # queued before the result, so the last figures arrive first

        self.running = True
        self._old_switch_interval = sys.getswitchinterval()
        # The engine runs two busy Python threads (reader and loader). With the default 5 ms
        # GIL switch interval the GUI thread could lose the race for the GIL again and again
        # (one run: 350 ms frozen); at 0.5 ms the worst gaps measured 70-100 ms, and the
        # 200,000-course run took as long either way (tests/gui/test_responsiveness.py).
        sys.setswitchinterval(GUI_SWITCH_INTERVAL)
        self._worker.submit(call, self._on_finished, self._on_failed)

    def cancel(self) -> None:
        """Ask the engine to stop; it rolls back the table in progress and reports."""
        # CancelToken.cancel() sends a cancel request to the servers, which can take seconds on
        # a slow network: never on the GUI thread.
        threading.Thread(target=self._cancel.cancel, name="coursemig-cancel", daemon=True).start()

    @property
    def cancelling(self) -> bool:
        return self._cancel.cancelled

    def stop(self) -> None:
        """Wait for the run to end (after ``cancel()``); no signal is delivered after this."""
        self._worker.stop()
        self._ended()

    @Slot(object)
    def _deliver(self, batch: EventBatch) -> None:
        for progress in batch.progress.values():
            emit(self.table_progress, progress)
        for target in batch.restarted:  # before the rows of the new try
            emit(self.table_restarted, target)
        if batch.rejected:
            emit(self.rows_rejected, batch.rejected)
        for message in batch.messages:
            emit(self.log_message, message)

    def _on_finished(self, report: object) -> None:
        self._ended()
        emit(self.finished, report)

    def _on_failed(self, error: FriendlyError) -> None:
        self._ended()
        emit(self.failed, error)

    def _ended(self) -> None:
        self.running = False
        sys.setswitchinterval(self._old_switch_interval)


def is_final(progress: TableProgress) -> bool:
    return progress.phase in FINAL_PHASES
