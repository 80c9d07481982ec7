"""The reader (``core/source_rows.py``) gives back a table's rows exactly as COPY writes them,
whatever the batch size: binary COPY's header and trailer taken out (each COPY the loader
sends writes its own), rows never split between batches, numbered from 1, and the CSV copy
(``tee``) byte for byte what COPY writes."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from coursemig_gui.core.engine.copy_format import BINARY_HEADER, BINARY_TRAILER
from coursemig_gui.core.source_rows import DatabaseRows

COLUMNS = ["pid", "slug", "description", "credit"]


def _copy_out(source_db, fmt: str, header: bool = False) -> bytes:
    columns = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
    options = sql.SQL("FORMAT {}{}").format(sql.SQL(fmt), sql.SQL(", HEADER" if header else ""))
    with psycopg.connect(source_db.url) as conn, conn.cursor() as cur:
        statement = sql.SQL("COPY courses_course ({}) TO STDOUT ({})").format(columns, options)
        with cur.copy(statement) as copy:
            return b"".join(bytes(chunk) for chunk in copy)


@pytest.mark.parametrize("fmt", ["binary", "csv"])
@pytest.mark.parametrize("batch_rows, batch_bytes", [(1, 1 << 20), (7, 1 << 20), (5000, 3000)])
def test_rows_come_as_copy_writes_them(source_db, tmp_path, fmt, batch_rows, batch_bytes):
    whole = _copy_out(source_db, fmt)
    if fmt == "binary":
        assert whole.startswith(BINARY_HEADER) and whole.endswith(BINARY_TRAILER)
        whole = whole[len(BINARY_HEADER) : -len(BINARY_TRAILER)]
    tee = tmp_path / "courses.csv" if fmt == "csv" else None
    with psycopg.connect(source_db.url) as conn:
        stream = DatabaseRows(
            conn,
            sql.Identifier("courses_course"),
            COLUMNS,
            fmt,
            batch_rows,
            batch_bytes,
            tee=tee,
        )
        batches = list(stream.batches())
    assert b"".join(bytes(b.whole()) for b in batches) == whole
    assert all(len(b) <= batch_rows and b.nbytes < batch_bytes + 20_000 for b in batches)
    numbers = [b.first_number for b in batches]
    assert numbers == [1 + sum(len(b) for b in batches[:i]) for i in range(len(batches))]
    if fmt == "binary":  # every row starts with its field count
        rows = [row for b in batches for row in b.rows]
        assert all(int.from_bytes(row[:2], "big") == len(COLUMNS) for row in rows)
    else:
        assert tee.read_bytes() == _copy_out(source_db, "csv", header=True)
