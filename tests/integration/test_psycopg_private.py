"""psycopg's private API that CourseMig relies on (all of it in ``core/psycopg_private.py``):
if a psycopg release renames or changes any of it, this fails loudly, before a migration does."""

from __future__ import annotations

import inspect

import psycopg
import psycopg.errors
import psycopg.generators
import psycopg.waiting
import pytest
from psycopg import sql

from coursemig_gui.core.psycopg_private import copy_out_into
from coursemig_gui.core.row_batch import RowBatch, offsets


def test_the_private_names_are_still_there():
    assert inspect.isgeneratorfunction(psycopg.generators._fetch_many)
    assert list(inspect.signature(psycopg.generators._fetch_many).parameters)[0] == "pgconn"
    assert hasattr(psycopg.waiting.Wait, "R")
    assert callable(psycopg.Connection.wait)
    assert "encoding" in inspect.signature(psycopg.errors.error_from_result).parameters


def test_copy_out_into_reads_a_real_copy(source_db):
    with psycopg.connect(source_db.url, autocommit=True) as conn:
        assert isinstance(conn.pgconn._encoding, str) and conn.pgconn._encoding
        rows: list[bytes] = []
        query = sql.SQL("COPY (SELECT g, 'x' || g FROM generate_series(1, 1000) g) TO STDOUT")
        with conn.cursor() as cur, cur.copy(query):
            ended = False
            while not ended:
                buf, ends = bytearray(), offsets(())
                ended = copy_out_into(conn, buf, ends, 100, 1 << 20)
                assert len(ends) <= 100 and (ended or len(ends) == 100)
                rows.extend(RowBatch(buf, ends, 1).rows)
        assert rows[0] == b"1\tx1\n" and rows[-1] == b"1000\tx1000\n" and len(rows) == 1000
        assert rows == [f"{g}\tx{g}\n".encode() for g in range(1, 1001)]


def test_copy_out_into_stops_at_the_byte_limit(source_db):
    with psycopg.connect(source_db.url, autocommit=True) as conn:
        query = sql.SQL("COPY (SELECT repeat('y', 99) FROM generate_series(1, 50) g) TO STDOUT")
        with conn.cursor() as cur, cur.copy(query):
            sizes = []
            ended = False
            while not ended:
                buf, ends = bytearray(), offsets(())
                ended = copy_out_into(conn, buf, ends, 1000, 1000)
                sizes.append(len(ends))
                assert ends[-1] == len(buf) if ends else not buf
        assert sizes[:5] == [10] * 5 and sum(sizes) == 50


def test_copy_out_into_raises_the_servers_error(source_db):
    with psycopg.connect(source_db.url, autocommit=True) as conn:
        query = sql.SQL("COPY (SELECT 1 / (g - 500) FROM generate_series(1, 1000) g) TO STDOUT")
        with pytest.raises(psycopg.errors.DivisionByZero):
            with conn.cursor() as cur, cur.copy(query):
                ended = False
                while not ended:
                    ended = copy_out_into(conn, bytearray(), offsets(()), 50, 1 << 20)
