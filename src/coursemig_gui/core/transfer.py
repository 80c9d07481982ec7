"""The COPY engine: rows stream from a source (a table, ``source_rows.py``, or a CSV file) into a
target table, one COPY per segment while rows go in clean (``segments.py``), and where a row
fails in smaller COPYs under a SAVEPOINT each, so one bad row costs a retry, not the table.
Facts this rests on (checked by the integration and fault tests): a failed ``COPY FROM`` names
the bad record's line in its context (CSV: the physical line where the record ends), except
for foreign keys and Citus' worker errors, where we bisect.
"""

from __future__ import annotations

import csv
import io
import json
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property

import psycopg
from psycopg import sql
from psycopg.adapt import AdaptersMap, Transformer
from psycopg.pq import Format
from psycopg.types.string import TextBinaryLoader

from coursemig_gui.core.engine.copy_format import (
    BINARY_HEADER,
    BINARY_TRAILER,
    binary_fields,
    csv_line,
)
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import Cancelled, CancelToken, RejectedRow
from coursemig_gui.core.load_result import LoadPolicy, LoadResult, ProgressCallback
from coursemig_gui.core.rejects import (
    RejectLog,
    copy_error_position,
    explain_row_error,
    is_row_error,
)
from coursemig_gui.core.row_batch import RowBatch
from coursemig_gui.core.segments import load_in_segments
from coursemig_gui.core.source_rows import DatabaseRows

__all__ = [
    "DatabaseRows",
    "LoadPolicy",
    "LoadResult",
    "RowBatch",
    "TableFailed",
    "TableLoader",
]


_COPY_STEP = sql.Identifier("coursemig_copy")
_SET = sql.SQL("SAVEPOINT {}").format(_COPY_STEP)
# one simple query, so one round trip: the last COPY's savepoint released, the next one's set
_RELEASE_AND_SET = sql.SQL("RELEASE SAVEPOINT {0}; SAVEPOINT {0}").format(_COPY_STEP)
_UNDO = sql.SQL("ROLLBACK TO SAVEPOINT {0}; RELEASE SAVEPOINT {0}").format(_COPY_STEP)


class TableFailed(FriendlyError):
    """The table could not be loaded; its transaction is rolled back. ``result`` holds the
    rows read and rejected until then, when the load got that far."""

    def __init__(self, message: str, detail: str = "", result: LoadResult | None = None) -> None:
        super().__init__(message, detail)
        self.result = result


class TableLoader:
    """Loads batches into one target table inside the caller's open transaction."""

    def __init__(
        self,
        conn: psycopg.Connection,
        target: sql.Composable,
        target_columns: list[str],
        fmt: str,
        *,
        table_name: str,
        target_name: str,
        header: str,
        policy: LoadPolicy,
        rejects: RejectLog,
        on_reject: Callable[[RejectedRow], None],
        cancel: CancelToken,
        source_type_oids: list[int] | None = None,
        text_type_oids: frozenset[int] = frozenset(),
        source_columns: list[str] | None = None,
        copy_options: sql.Composable | None = None,
    ) -> None:
        self.conn = conn
        self.fmt = fmt
        options = sql.SQL("FORMAT {}").format(sql.SQL(fmt))
        if copy_options is not None:
            options = sql.SQL(", ").join([options, copy_options])
        self.statement = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
            target, sql.SQL(", ").join(map(sql.Identifier, target_columns)), options
        )
        self.target_columns = target_columns
        self.source_columns = source_columns or target_columns
        self.table_name = table_name
        self.target_name = target_name
        self.header = header
        self.policy = policy
        self.rejects = rejects
        self.on_reject = on_reject
        self.cancel = cancel
        self.result = LoadResult()
        self._transformer: Transformer | None = None
        self._oids = source_type_oids
        self._text_oids = text_type_oids  # sent as their text in binary too: enums
        self._number: Callable[[int], int] = int  # a row's number in the source's read order
        self._savepoint_held = False  # the last COPY's, not yet released

    # -- sending -------------------------------------------------------------------------------

    @cached_property
    def copy_sql(self) -> bytes:
        """The COPY statement, rendered once: a table with bad rows sends it a thousand times."""
        return self.statement.as_bytes(self.conn)

    @contextmanager
    def copy_under_savepoint(self) -> Iterator[psycopg.Copy]:
        """A COPY under a savepoint of its own: a failure rolls back only its rows. A COPY that
        went in keeps its savepoint until the next one is set, released in the same round trip
        (or until the table's COMMIT, which ends it too): SAVEPOINT, COPY, RELEASE took a round
        trip more per COPY, and to a cloud server each costs more than a small table's rows."""
        conn = self.conn
        conn.execute(_RELEASE_AND_SET if self._savepoint_held else _SET)
        self._savepoint_held = False
        try:
            with conn.cursor() as cur, cur.copy(self.copy_sql) as copy:
                yield copy
        except BaseException:
            if not (conn.closed or conn.broken):
                try:
                    conn.execute(_UNDO)
                except psycopg.Error:
                    pass  # the transaction is lost with it: the table fails and rolls back
            raise
        self._savepoint_held = True

    def _send(self, data: memoryview | bytes) -> None:
        """One COPY of rows back to back, under its own savepoint."""
        with self.copy_under_savepoint() as copy:
            if self.fmt == "binary":
                copy.write(BINARY_HEADER)
            copy.write(data)
            if self.fmt == "binary":
                copy.write(BINARY_TRAILER)

    def load(
        self,
        batches: Iterator[RowBatch],
        on_progress: ProgressCallback,
        likely_refused: list[RowBatch] | None = None,
    ) -> LoadResult:
        """Load every row. ``likely_refused`` (rows the source named, each a batch of one with
        its own number, ``engine/likely_refused.py``) go first, one COPY each; ``batches``
        are the rest, numbered 1, 2, … among themselves."""
        if likely_refused:
            for batch in likely_refused:
                self.cancel.check()
                self.result.rows_read += 1
                self.result.bytes_read += batch.nbytes
                self.load_batch(batch)
                on_progress(self.result)
            numbers = sorted(batch.first_number for batch in likely_refused)
            self._number = lambda n: _number_among(numbers, n)
        load_in_segments(self, batches, on_progress)
        self._check_percent()
        return self.result

    def count_written(self, batch: RowBatch, lo: int = 0, hi: int | None = None) -> None:
        self.result.rows_written += (len(batch) if hi is None else hi) - lo

    def load_batch(self, batch: RowBatch) -> None:
        """The careful path: one COPY per batch under a savepoint, a bad row isolated."""
        # A run of rows lo..hi-1 goes as one COPY; a failed one is split around its bad row
        # (found from the error's line, or by halving when the error names no line).
        work: deque[tuple[int, int]] = deque([(0, len(batch))])
        while work:
            lo, hi = work.popleft()
            if lo >= hi:
                continue
            try:
                self._send(batch.span(lo, hi))
            except psycopg.errors.QueryCanceled as exc:
                if self.cancel.cancelled:
                    raise Cancelled() from exc
                raise
            except psycopg.Error as exc:
                if self.cancel.cancelled:
                    raise Cancelled() from exc
                if not is_row_error(exc):
                    raise
                line, column = copy_error_position(exc)
                position = (
                    None if line is None else batch.row_at_line(line, self.fmt != "binary", lo, hi)
                )
                if hi - lo == 1:
                    self._reject(batch, lo, exc, column)
                elif position is not None:
                    # Rows before the bad one went in fine until the error: send them first.
                    # The suspect is tried alone, so a wrong line number costs a retry, never
                    # a good row.
                    work.appendleft((position + 1, hi))
                    work.appendleft((position, position + 1))
                    work.appendleft((lo, position))
                else:
                    half = (lo + hi) // 2
                    work.appendleft((half, hi))
                    work.appendleft((lo, half))
                continue
            self.count_written(batch, lo, hi)

    # -- rejects -------------------------------------------------------------------------------

    def _reject(
        self, batch: RowBatch, position: int, exc: psycopg.Error, column: str | None
    ) -> None:
        raw = batch.row(position)
        values = self._row_values(raw)
        if column is None and exc.diag and exc.diag.column_name:
            column = exc.diag.column_name
        value = None
        if column and values is not None and column in self.target_columns:
            value = values[self.target_columns.index(column)]
        text = raw if self.fmt != "binary" else csv_line(values or []).encode("utf-8")
        line = batch.lines[position] if batch.lines else None
        rejected = RejectedRow(
            table=self.table_name,
            target=self.target_name,
            row_number=self._number(batch.first_number + position),
            line=line,
            reason=explain_row_error(exc, column, self.target_name),
            column=column,
            value=value,
            sqlstate=exc.sqlstate,
            detail=_server_message(exc),
            text=text.decode("utf-8", "replace"),
        )
        self.rejects.add(rejected, self.header, text)
        self.result.rows_rejected += 1
        self.result.keep_rejected(raw)
        self.on_reject(rejected)
        if self.policy.stop_on_error:
            where = f" (line {line} of the file)" if line else ""
            raise TableFailed(
                f"Row {rejected.row_number}{where} of {self.table_name} could not be copied, so "
                f"{self.target_name} was left as it was. {rejected.reason}",
                rejected.detail,
                self.result,
            )
        if (
            self.policy.max_rejects is not None
            and self.result.rows_rejected > self.policy.max_rejects
        ):
            raise TableFailed(
                f"More than {self.policy.max_rejects} rows of {self.table_name} could not be "
                f"copied, so {self.target_name} was left as it was. The rows are listed in the "
                f"error log and in {self.rejects.reject_file(self.target_name)}; fix them or "
                "raise the limit.",
                rejected.detail,
                self.result,
            )

    def _check_percent(self) -> None:
        pct = self.policy.max_reject_percent
        if pct is None or not self.result.rows_read:
            return
        share = 100.0 * self.result.rows_rejected / self.result.rows_read
        if share > pct:
            raise TableFailed(
                f"{share:.1f}% of the rows of {self.table_name} could not be copied (the limit is "
                f"{pct:g}%), so {self.target_name} was left as it was.",
                "",
                self.result,
            )

    def _row_values(self, raw: bytes) -> list[str | None] | None:
        """The row's fields as text, for the error log."""
        try:
            if self.fmt == "binary":
                return self._decode_binary(raw)
            text = raw.decode("utf-8", "replace")
            parsed = next(csv.reader(io.StringIO(text)), [])
            return [None if v == "" else v for v in parsed]
        except Exception:  # noqa: BLE001 - the log can live without the parsed value
            return None

    def _decode_binary(self, raw: bytes) -> list[str | None]:
        if self._transformer is None:
            # the source's own types (enums) are unknown here: read their values as the text
            # they are sent as, not as bytes
            adapters = AdaptersMap(self.conn.adapters)
            for oid in self._text_oids:
                adapters.register_loader(oid, TextBinaryLoader)
            self._transformer = Transformer(adapters)
            self._transformer.set_loader_types(self._oids or [], Format.BINARY)
        fields = binary_fields(raw)
        values = self._transformer.load_sequence(fields)
        return [_as_text(v) for v in values]


def _number_among(taken: list[int], n: int) -> int:
    """The ``n``-th number that is not in ``taken`` (sorted): the source's number of the
    ``n``-th row read after the likely refused ones were read first."""
    number = n
    while True:
        after = n + bisect_right(taken, number)
        if after == number:
            return number
        number = after


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _server_message(exc: psycopg.Error) -> str:
    said = str(exc).strip()
    parts = [f"{exc.sqlstate or ''} {said}".strip()]
    # libpq puts the CONTEXT line in the message already (its default verbosity): once is enough
    if exc.diag and exc.diag.context and exc.diag.context.strip() not in said:
        parts.append(f"CONTEXT: {exc.diag.context.strip()}")
    return "\n".join(parts)
