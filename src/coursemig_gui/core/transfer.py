"""The COPY engine: rows stream from a source (a table or a CSV file) into a target table, one
COPY per segment while rows go in clean (``segments.py``), and where a row fails in batches
under a SAVEPOINT each, so one bad row costs a retry, not the table. Facts this rests on
(checked by the integration and fault tests): ``COPY ... TO STDOUT`` yields one row per chunk
(libpq returns COPY OUT data a row at a time), so rows are batched without parsing them; a
failed ``COPY FROM`` names the bad record's line in its context (CSV: the physical line where
the record ends), except for foreign keys and Citus' worker errors, where we bisect.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.adapt import Transformer
from psycopg.pq import Format

from coursemig_gui.core.engine.copy_format import (
    BINARY_HEADER,
    BINARY_TRAILER,
    binary_fields,
    csv_line,
)
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import Cancelled, CancelToken, RejectedRow
from coursemig_gui.core.load_result import LoadPolicy, LoadResult, ProgressCallback
from coursemig_gui.core.private_files import open_private
from coursemig_gui.core.psycopg_private import copy_out_rows
from coursemig_gui.core.rejects import (
    RejectLog,
    copy_error_position,
    explain_row_error,
    is_row_error,
)
from coursemig_gui.core.segments import load_in_segments


class TableFailed(FriendlyError):
    """The table could not be loaded; its transaction is rolled back."""


@dataclass
class RowBatch:
    rows: list[bytes]
    first_number: int  # the 1-based row number of rows[0]
    lines: list[int] | None = None  # CSV files: the physical line each row starts on


class _StopReading(Exception):
    pass


_END = object()


class DatabaseRows:
    """Rows of one table read by ``COPY ... TO STDOUT`` in a background thread.

    The thread overlaps reading the source with writing the target, as a ``psql | psql`` pipe
    does with two processes; a small queue bounds memory whatever the table's size.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        table: sql.Composable,
        columns: list[str],
        fmt: str,
        batch_rows: int,
        batch_bytes: int,
        tee: Path | None = None,
        header_names: list[str] | None = None,
    ) -> None:
        self.conn = conn
        self.fmt = fmt
        self.columns = columns
        self.header_names = header_names or columns
        self.statement = sql.SQL("COPY {} ({}) TO STDOUT (FORMAT {})").format(
            table, sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(fmt)
        )
        self.batch_rows = batch_rows
        self.batch_bytes = batch_bytes
        self.tee = tee
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bytes_read = 0

    def csv_header(self) -> str:
        return csv_line(self.header_names)

    def _put(self, item: object) -> None:
        while True:
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                if self._stop.is_set():
                    raise _StopReading() from None

    def _produce(self) -> Iterator[RowBatch]:
        """Read the table, yielding batches; the CSV copy (``tee``) is renamed into place only
        when the whole table was read."""
        tee_file = None
        part = self.tee.with_suffix(".csv.part") if self.tee is not None else None
        finished = False
        try:
            if part is not None:
                part.parent.mkdir(parents=True, exist_ok=True)
                part.unlink(missing_ok=True)  # a stale one would keep its wider permissions
                tee_file = open_private(part, "wb")  # closed in finally
                tee_file.write(self.csv_header().encode("utf-8"))
            batch: list[bytes] = []
            size = 0
            number = 1
            binary = self.fmt == "binary"
            first = True
            with self.conn.cursor() as cur, cur.copy(self.statement):
                # psycopg's own row iterator waits once per row; this reads every row libpq
                # already holds per wait, which halves the client's CPU per row (measured).
                ended = False
                while not ended:
                    rows, ended = copy_out_rows(self.conn, self.batch_rows)
                    if binary:
                        if first and rows and rows[0].startswith(BINARY_HEADER):
                            rows[0] = rows[0][
                                len(BINARY_HEADER) :
                            ]  # no extension area: flags are 0
                            if not rows[0]:
                                del rows[0]
                        if rows and rows[-1] == BINARY_TRAILER:
                            rows.pop()
                    first = False
                    if tee_file is not None:
                        tee_file.writelines(rows)
                    batch.extend(rows)
                    size += sum(map(len, rows))
                    if len(batch) >= self.batch_rows or size >= self.batch_bytes:
                        self.bytes_read += size
                        yield RowBatch(batch, number)
                        number += len(batch)
                        batch, size = [], 0
            if batch:
                self.bytes_read += size
                yield RowBatch(batch, number)
            if tee_file is not None:
                tee_file.close()
                tee_file = None
                part.replace(self.tee)
                finished = True
        finally:
            if tee_file is not None:
                tee_file.close()
            if part is not None and not finished:  # no half file is left behind
                part.unlink(missing_ok=True)

    def _read(self) -> None:
        try:
            for batch in self._produce():
                if self._stop.is_set():
                    raise _StopReading()
                self._put(batch)
            self._put(_END)
        except _StopReading:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the loader, which reports it
            try:
                self._put(exc)
            except _StopReading:
                pass

    def batches(self) -> Iterator[RowBatch]:
        self._thread = threading.Thread(target=self._read, name="coursemig-reader", daemon=True)
        self._thread.start()
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the reader thread and wait for it, so it never outlives its connection."""
        self._stop.set()
        if self._thread is not None:
            # drain, so a reader blocked on a full queue sees the stop flag; one still waiting
            # on the source after a while has its COPY cancelled, so it ends too
            waited = 0
            while self._thread.is_alive():
                try:
                    self._queue.get(timeout=0.1)
                except queue.Empty:
                    waited += 1
                    if waited == 10:
                        try:
                            self.conn.cancel_safe(timeout=2.0)
                        except Exception:  # noqa: BLE001 - a broken connection ends it anyway
                            pass
            self._thread = None


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

    # -- sending -------------------------------------------------------------------------------

    def _send(self, rows: list[bytes]) -> None:
        payload = b"".join(rows)
        if self.fmt == "binary":
            payload = BINARY_HEADER + payload + BINARY_TRAILER
        with self.conn.transaction(), self.conn.cursor() as cur, cur.copy(self.statement) as copy:
            copy.write(payload)

    def load(self, batches: Iterator[RowBatch], on_progress: ProgressCallback) -> LoadResult:
        load_in_segments(self, batches, on_progress)
        self._check_percent()
        return self.result

    def count_written(self, rows: list[bytes]) -> None:
        self.result.rows_written += len(rows)

    def load_batch(self, batch: RowBatch) -> None:
        """The careful path: one COPY per batch under a savepoint, a bad row isolated."""
        # A segment is a run of positions in the batch; a failed one is split around its bad
        # row (found from the error's line, or by halving when the error names no line).
        work: deque[list[int]] = deque([list(range(len(batch.rows)))])
        while work:
            segment = work.popleft()
            if not segment:
                continue
            rows = [batch.rows[i] for i in segment]
            try:
                self._send(rows)
            except psycopg.errors.QueryCanceled as exc:
                if self.cancel.cancelled:
                    raise Cancelled() from exc
                raise
            except psycopg.Error as exc:
                if self.cancel.cancelled:
                    raise Cancelled() from exc
                if not is_row_error(exc):
                    raise
                position, column = self._locate(rows, exc)
                if len(segment) == 1:
                    self._reject(batch, segment[0], exc, column)
                elif position is not None:
                    # Rows before the bad one went in fine until the error: send them first.
                    # The suspect is tried alone, so a wrong line number costs a retry, never
                    # a good row.
                    work.appendleft(segment[position + 1 :])
                    work.appendleft([segment[position]])
                    work.appendleft(segment[:position])
                else:
                    half = len(segment) // 2
                    work.appendleft(segment[half:])
                    work.appendleft(segment[:half])
                continue
            self.count_written(rows)

    def _locate(self, rows: list[bytes], exc: psycopg.Error) -> tuple[int | None, str | None]:
        line, column = copy_error_position(exc)
        if line is None:
            return None, column
        if self.fmt == "binary":
            index = line - 1
            return (index if 0 <= index < len(rows) else None), column
        # CSV: the line is physical, and counts the newlines inside quoted values.
        seen = 0
        for index, row in enumerate(rows):
            seen += max(row.count(b"\n"), 1)
            if line <= seen:
                return index, column
        return None, column

    # -- rejects -------------------------------------------------------------------------------

    def _reject(
        self, batch: RowBatch, position: int, exc: psycopg.Error, column: str | None
    ) -> None:
        raw = batch.rows[position]
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
            row_number=batch.first_number + position,
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
            )
        if (
            self.policy.max_rejects is not None
            and self.result.rows_rejected > self.policy.max_rejects
        ):
            raise TableFailed(
                f"More than {self.policy.max_rejects} rows of {self.table_name} could not be "
                f"copied, so {self.target_name} was left as it was. The rows are listed in the "
                "error log; fix them or raise the limit.",
                rejected.detail,
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
            self._transformer = Transformer(self.conn)
            self._transformer.set_loader_types(self._oids or [], Format.BINARY)
        fields = binary_fields(raw)
        values = self._transformer.load_sequence(fields)
        return [_as_text(v) for v in values]


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
    parts = [f"{exc.sqlstate or ''} {str(exc).strip()}".strip()]
    if exc.diag and exc.diag.context:
        parts.append(f"CONTEXT: {exc.diag.context.strip()}")
    return "\n".join(parts)
