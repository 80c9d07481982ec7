"""Reading a source table: ``COPY ... TO STDOUT`` in a background thread, in batches of rows kept
back to back in one buffer (``row_batch.py``). ``COPY ... TO STDOUT`` yields one row per chunk
(libpq returns COPY OUT data a row at a time), so rows are batched without parsing them.
"""

from __future__ import annotations

import queue
import threading
from array import array
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from coursemig_gui.core.engine.copy_format import BINARY_HEADER, BINARY_TRAILER, csv_line
from coursemig_gui.core.private_files import open_private
from coursemig_gui.core.psycopg_private import copy_out_into
from coursemig_gui.core.row_batch import RowBatch, offsets


class _StopReading(Exception):
    pass


def read_statement(
    table: sql.Composable,
    columns: list[str],
    fmt: str,
    leaving_out: sql.Composable | None = None,
) -> sql.Composed:
    """``COPY (SELECT …) TO STDOUT``: the rows a SELECT sees, so a partitioned table (which
    ``COPY table TO`` refuses) is read whole, as the servers' sums read it. ``leaving_out``:
    the rows ``read_likely_refused`` read first (IS NOT TRUE keeps a row it says NULL of)."""
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    if leaving_out is None:
        return sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT {})").format(
            names, table, sql.SQL(fmt)
        )
    return sql.SQL("COPY (SELECT {} FROM {} WHERE ({}) IS NOT TRUE) TO STDOUT (FORMAT {})").format(
        names, table, leaving_out, sql.SQL(fmt)
    )


class _TooMany(Exception):
    pass


# Likely refused rows are kept in memory and sent one by one: beyond these, the table has
# more bad rows than a split can help with, and it loads as before.
LIKELY_REFUSED_ROWS = 10_000
LIKELY_REFUSED_BYTES = 16 << 20


def read_order_settings(conn: psycopg.Connection) -> None:
    """Every read of a table on ``conn`` starts at its first block and runs in one process,
    so two reads in one snapshot meet the rows in the same order (numbers stay the source's)."""
    conn.execute(
        "SELECT set_config('synchronize_seqscans', 'off', false),"
        " set_config('max_parallel_workers_per_gather', '0', false)"
    )


def read_likely_refused(
    conn: psycopg.Connection,
    table: sql.Composable,
    columns: list[str],
    fmt: str,
    condition: sql.Composable,
) -> list[RowBatch] | None:
    """The rows for which ``condition`` is true, each as a batch of its own numbered with its
    place in the table's read order; None when there are too many, or the source cannot say
    (the source's transaction and snapshot are kept either way)."""
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    # names no Django column has: a clash would only make the source refuse, and read nothing
    statement = sql.SQL(
        "COPY (SELECT {}, coursemig_row FROM (SELECT {}, row_number() OVER () AS coursemig_row,"
        " ({}) AS coursemig_refused FROM {}) AS q WHERE coursemig_refused LIMIT {})"
        " TO STDOUT (FORMAT {})"
    ).format(names, names, condition, table, sql.Literal(LIKELY_REFUSED_ROWS + 1), sql.SQL(fmt))
    chunks: list[bytes] = []
    size = 0
    try:
        with conn.transaction():  # a savepoint: a failure here never ends the snapshot
            read_order_settings(conn)
            with conn.cursor() as cur, cur.copy(statement) as copy:
                for chunk in copy:
                    chunks.append(bytes(chunk))
                    size += len(chunk)
                    if size > LIKELY_REFUSED_BYTES:
                        raise _TooMany()
    except psycopg.errors.QueryCanceled:
        raise  # a Stop, or the source's statement timeout: the main read would meet it too
    except (_TooMany, psycopg.Error, UnicodeError):
        return None
    rows = _binary_rows(b"".join(chunks)) if fmt == "binary" else chunks
    if len(rows) > LIKELY_REFUSED_ROWS:
        return None
    return [_numbered(row, fmt) for row in rows]


def _binary_rows(data: bytes) -> list[bytes]:
    """The rows of a whole binary COPY output (header and trailer taken off)."""
    pos, rows = len(BINARY_HEADER), []
    while True:
        count = int.from_bytes(data[pos : pos + 2], "big", signed=True)
        if count < 0:
            return rows
        end = pos + 2
        for _ in range(count):
            size = int.from_bytes(data[end : end + 4], "big", signed=True)
            end += 4 + max(size, 0)
        rows.append(data[pos:end])
        pos = end


def _numbered(row: bytes, fmt: str) -> RowBatch:
    """A row read with its number as an extra last field, as a batch of one numbered so."""
    if fmt == "binary":
        count = int.from_bytes(row[0:2], "big", signed=True)
        number = int.from_bytes(row[-8:], "big", signed=True)  # int8: 4-byte size, 8 bytes
        row = (count - 1).to_bytes(2, "big", signed=True) + row[2:-12]
    else:
        head, _, tail = row.rstrip(b"\n").rpartition(b",")
        number = int(tail)
        row = head + b"\n"
    return RowBatch.of_rows([row], number)


_END = object()


def _without_binary_frame(buf: bytearray, ends: array, first: bool) -> tuple[bytearray, array]:
    """Binary COPY's file header (before the first row, in its chunk or one of its own) and
    trailer (a chunk of its own after the last row) taken out: each COPY the loader sends
    writes its own."""
    if first and buf.startswith(BINARY_HEADER):
        cut = len(BINARY_HEADER)  # no extension area: flags are 0
        del buf[:cut]
        ends = offsets(end - cut for end in ends if end > cut)
    # a row is never just the trailer (-1 as its field count), whichever batch it ends
    if ends and len(buf) - (ends[-2] if len(ends) > 1 else 0) == len(BINARY_TRAILER):
        if buf.endswith(BINARY_TRAILER):
            del buf[-len(BINARY_TRAILER) :]
            ends.pop()
    return buf, ends


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
        leaving_out: sql.Composable | None = None,
    ) -> None:
        self.conn = conn
        self.fmt = fmt
        self.columns = columns
        self.header_names = header_names or columns
        self.statement = read_statement(table, columns, fmt, leaving_out)
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
            number = 1
            binary = self.fmt == "binary"
            first = True
            with self.conn.cursor() as cur, cur.copy(self.statement):
                # psycopg's own row iterator waits once per row and makes an object per row;
                # this reads every row libpq already holds per wait into one buffer per batch
                ended = False
                while not ended:
                    buf, ends = bytearray(), offsets(())
                    ended = copy_out_into(self.conn, buf, ends, self.batch_rows, self.batch_bytes)
                    if binary:
                        buf, ends = _without_binary_frame(buf, ends, first)
                    first = False
                    if not ends:
                        continue
                    if tee_file is not None:
                        tee_file.write(buf)
                    self.bytes_read += len(buf)
                    yield RowBatch(buf, ends, number)  # never changed once handed over
                    number += len(ends)
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
