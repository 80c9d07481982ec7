"""The optimistic path: a clean table does not pay for the chance of bad rows.

Batches stream into ONE ``COPY`` per segment (up to ``SEGMENT_BYTES``, under one savepoint), so
the target server works without pausing at every batch's end. Measured with psycopg alone on
the 2-core test machine (200,000 course rows into a new table, alternated runs, load ~8, reads
and writes in one thread): one COPY took 3.4-4.6 s, a COPY per 5,000-row batch under a
savepoint 5.4-7.2 s.

A segment's rows are kept until its COPY succeeds. When a row fails, the savepoint is rolled
back and the error's line says which row it was:

- the rows before it went in fine until then: they go again as ONE COPY;
- the bad row is tried alone (``TableLoader.load_batch``), so it is rejected with its own
  reason, and a wrong line number costs a retry, never a good row;
- the rows after it never reached the table: they start the next segment.

An error that names no line (foreign keys, Citus' workers) sends the segment's batches through
the careful path instead, which bisects. Either way every row lands exactly once or is
rejected. A failed segment costs its rows before the bad one twice, so after the first error
segments are sized from the bad rows seen: about sqrt(2 x a COPY's own cost x the bytes
between bad rows), which balances the COPYs' own cost against the rows sent twice. A COPY's
own cost is measured on the table as it loads (``_CopyCost``): with a constant, the best one
for a keyed table cost a bare table twice as much, and the other way round (1,000,000 course
rows, 100 bad ones spread over them, ``benchmarks/fair_pairs.py``).

``COPY … FREEZE`` is not used: it refuses to run inside a savepoint, and the savepoint is what
lets a bad row cost one segment instead of the table (measured: no gain on a new table).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from math import isqrt
from typing import TYPE_CHECKING

import psycopg

from coursemig_gui.core.engine.copy_format import BINARY_HEADER, BINARY_TRAILER
from coursemig_gui.core.events import Cancelled
from coursemig_gui.core.rejects import copy_error_position, is_row_error
from coursemig_gui.core.row_batch import RowBatch, row_at_line

if TYPE_CHECKING:
    from coursemig_gui.core.transfer import LoadResult, TableLoader

SEGMENT_BYTES = 32 << 20  # what one segment keeps in memory until its COPY succeeds
# A COPY's own cost (savepoint, round trips, start-up), in bytes of rows it could have loaded
# instead, until the table's own is measured (``_CopyCost``). Measured with psycopg alone
# (course rows, TLS target): 6 kB into a keyed table, 35 kB into a bare one.
COPY_COST_BYTES = 16 << 10
COPY_COST_RANGE = (2 << 10, 1 << 20)  # what a measurement is trusted within

Progress = Callable[["LoadResult"], None]


class _FromSource(Exception):
    """An error reading the source while a segment's COPY is open: it ends the COPY (rolled
    back) and is raised as it was, never mistaken for a bad row of the target."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _Feed:
    """The rows still to load, in order: rows put back (those after a bad row) first, then
    the source's. Rows are counted as read once, when they come from the source."""

    def __init__(self, loader: TableLoader, batches: Iterator[RowBatch]) -> None:
        self.loader = loader
        self.source = iter(batches)
        self.back: deque[RowBatch] = deque()
        self.ended = False

    def take(self, room: int) -> RowBatch | None:
        """The next rows, at most ``room`` bytes of them (at least one row); None at the end."""
        if self.back:
            batch = self.back.popleft()
        elif self.ended:
            return None
        else:
            try:
                batch = next(self.source)
            except StopIteration:
                self.ended = True
                return None
            except BaseException as exc:  # the source's: not a bad row of the target
                raise _FromSource(exc) from exc
            self.loader.result.rows_read += len(batch)
            self.loader.result.bytes_read += batch.nbytes
        if batch.nbytes > room:
            fits = batch.rows_within(room)
            if fits < len(batch):
                self.back.appendleft(batch.part(fits, len(batch)))
                batch = batch.part(0, fits)
        return batch

    def put_back(self, batches: list[RowBatch]) -> None:
        self.back.extendleft(reversed(batches))


class _CopyCost:
    """A COPY's own cost in bytes of rows, measured on the table being loaded: how long a
    one-row COPY takes (each bad row is tried alone) over how long a byte takes in the clean
    segments. It differs by table: a row into a table with keys costs about 4x what it costs
    into a bare one, the COPY itself about the same (0.2-0.5 ms, measured with psycopg alone)."""

    def __init__(self) -> None:
        self.clean_seconds = 0.0
        self.clean_bytes = 0
        self.single_seconds = 0.0
        self.singles = 0

    def bytes(self) -> int:
        if not (self.singles and self.clean_bytes and self.clean_seconds > 0):
            return COPY_COST_BYTES
        per_byte = self.clean_seconds / self.clean_bytes
        low, high = COPY_COST_RANGE
        return int(min(high, max(low, self.single_seconds / self.singles / per_byte)))


def load_in_segments(
    loader: TableLoader,
    batches: Iterator[RowBatch],
    on_progress: Progress,
    segment_bytes: int = 0,
) -> None:
    """Load every batch: segments while rows go in clean, and around a bad row as the module
    says. Counts rows read, written and rejected in ``loader.result``."""
    ceiling = segment_bytes or SEGMENT_BYTES
    limit = ceiling
    feed = _Feed(loader, batches)
    errors = 0
    settled = 0  # bytes of rows written or rejected: with ``errors``, how far apart bad rows are
    cost = _CopyCost()
    while True:
        started = time.perf_counter()
        try:
            outcome = _segment(loader, feed, on_progress, limit)
        except _FromSource as wrapped:
            raise wrapped.error from None
        if outcome is None:
            return
        if isinstance(outcome, int):
            settled += outcome
            cost.clean_seconds += time.perf_counter() - started
            cost.clean_bytes += outcome
        else:
            errors += 1
            settled += _around_bad_row(loader, feed, *outcome, on_progress, cost)
        outcome = None  # a segment's rows are not kept while the next one is read
        if errors:
            copy_bytes = cost.bytes()
            limit = min(ceiling, max(copy_bytes, isqrt(2 * copy_bytes * settled // errors)))


def _segment(
    loader: TableLoader, feed: _Feed, on_progress: Progress, limit: int
) -> int | tuple[list[RowBatch], psycopg.Error] | None:
    """One COPY fed rows until ``limit`` bytes or their end. Returns the bytes loaded, or the
    batches sent and the row error that rolled them back, or None when no rows were left."""
    batch = feed.take(limit)
    if batch is None:
        return None
    binary = loader.fmt == "binary"
    sent = [batch]
    size = batch.nbytes
    try:
        with loader.copy_under_savepoint() as copy:
            if binary:
                copy.write(BINARY_HEADER)
            while True:
                loader.cancel.check()
                copy.write(batch.whole())  # psycopg splits it without copying
                on_progress(loader.result)
                if size >= limit:
                    break
                batch = feed.take(limit - size)
                if batch is None:
                    break
                sent.append(batch)
                size += batch.nbytes
            if binary:
                copy.write(BINARY_TRAILER)
    except psycopg.Error as exc:
        return sent, _bad_row(loader, exc)
    for batch in sent:
        loader.count_written(batch)
    on_progress(loader.result)
    return size


def _around_bad_row(
    loader: TableLoader,
    feed: _Feed,
    sent: list[RowBatch],
    error: psycopg.Error,
    on_progress: Progress,
    cost: _CopyCost,
) -> int:
    """Settle a failed segment's rows up to its bad row (the rows after it go back to the
    feed); returns the bytes settled."""
    line, _ = copy_error_position(error)
    at = None if line is None else row_at_line(sent, line, loader.fmt != "binary")
    if at is None:
        for batch in sent:
            loader.load_batch(batch)
            on_progress(loader.result)
        return sum(batch.nbytes for batch in sent)
    k, row = at
    holder = sent[k]
    good = sent[:k] + ([holder.part(0, row)] if row else [])
    rest = [holder.part(row + 1, len(holder))] if row + 1 < len(holder) else []
    feed.put_back(rest + sent[k + 1 :])
    if good:
        _known_good(loader, good)
    suspect = holder.part(row, row + 1)
    started = time.perf_counter()
    loader.load_batch(suspect)
    cost.single_seconds += time.perf_counter() - started
    cost.singles += 1
    on_progress(loader.result)
    return sum(batch.nbytes for batch in good) + suspect.nbytes


def _known_good(loader: TableLoader, good: list[RowBatch]) -> None:
    """Rows that went in fine before a bad row: again as one COPY under a savepoint. Should
    that fail after all (a line number that was off), the careful path takes them."""
    binary = loader.fmt == "binary"
    try:
        with loader.copy_under_savepoint() as copy:
            if binary:
                copy.write(BINARY_HEADER)
            for batch in good:
                copy.write(batch.whole())
            if binary:
                copy.write(BINARY_TRAILER)
    except psycopg.Error as exc:
        _bad_row(loader, exc)
        for batch in good:
            loader.load_batch(batch)
        return
    for batch in good:
        loader.count_written(batch)


def _bad_row(loader: TableLoader, exc: psycopg.Error) -> psycopg.Error:
    """A COPY's error when it is a bad row's; a Stop, a timeout or a lost connection is raised
    as what it is."""
    if loader.cancel.cancelled:
        raise Cancelled() from exc
    if isinstance(exc, psycopg.errors.QueryCanceled) or not is_row_error(exc):
        raise exc
    return exc
