"""What a running migration tells its caller, and how the caller asks it to stop.

The core reports through one callback taking these events; the GUI's worker turns each into a Qt
signal, the CLI prints them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    WAITING = "waiting"
    CREATING = "creating"
    COPYING = "copying"
    EXPORTING = "exporting"
    VERIFYING = "verifying"
    DONE = "done"
    DONE_WITH_REJECTS = "done with rejects"
    FAILED = "failed"
    ROLLED_BACK = "rolled back"  # cancelled: the table is as it was before
    SKIPPED = "skipped"
    # After COMMIT: the rows are in the target, but the check afterwards did not finish
    COPIED_NOT_VERIFIED = "copied, not verified"
    # The connection broke during COMMIT and the target could not say how it ended
    COMMIT_UNKNOWN = "commit unknown"
    NOT_STARTED = "not started"  # the run stopped before this table began


# Every status a table can end a run in; core.table_status has each one's sentence.
FINAL_PHASES = frozenset(
    {
        Phase.DONE,
        Phase.DONE_WITH_REJECTS,
        Phase.COPIED_NOT_VERIFIED,
        Phase.COMMIT_UNKNOWN,
        Phase.FAILED,
        Phase.ROLLED_BACK,
        Phase.SKIPPED,
        Phase.NOT_STARTED,
    }
)


@dataclass(frozen=True)
class TableProgress:
    """A table's state: sent when its phase changes and every few thousand rows."""

    table: str  # source table name (or CSV file stem on import)
    target: str
    phase: Phase
    rows_done: int = 0
    rows_total: int = 0  # an estimate until the table is done
    bytes_done: int = 0
    rejected: int = 0
    seconds: float = 0.0
    message: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows_done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class RejectedRow:
    """One row that could not be copied, with its text and the reason."""

    table: str
    target: str
    row_number: int  # 1-based, in the order rows were read (CSV: data row, header not counted)
    reason: str  # plain sentence
    column: str | None = None
    value: str | None = None
    sqlstate: str | None = None
    detail: str = ""  # the server's own message
    text: str = ""  # the row as it was read (CSV)
    line: int | None = None  # CSV files: the physical line the row starts on (header = line 1)


@dataclass(frozen=True)
class TableRestarted:
    """A table is loaded again from its first row (its earlier try was rolled back): the rows
    that try rejected no longer count, and a live error log drops them."""

    table: str
    target: str


@dataclass(frozen=True)
class LogMessage:
    text: str
    level: str = "info"  # info | warning | error
    detail: str = ""


Event = TableProgress | RejectedRow | LogMessage | TableRestarted
EventCallback = Callable[[Event], None]


def ignore_events(event: Event) -> None:
    """The callback for callers that do not watch progress."""


class Cancelled(Exception):
    """Raised inside the engine when the user asked to stop; the current table is rolled back."""


class CancelToken:
    """Cooperative cancel: the engine checks it between batches, and it can interrupt a query."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._connections: list = []

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            # A long COPY or query is interrupted server-side; the engine then rolls back.
            try:
                conn.cancel_safe(timeout=2.0)
            except Exception:  # noqa: BLE001 - a closed connection has nothing left to cancel
                pass

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def watch(self, conn) -> None:
        with self._lock:
            self._connections.append(conn)

    def unwatch(self, conn) -> None:
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)


class ProgressThrottle:
    """Calls through at most every ``interval`` seconds (and always when forced)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self._last = 0.0

    def due(self, force: bool = False) -> bool:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            return True
        return False
