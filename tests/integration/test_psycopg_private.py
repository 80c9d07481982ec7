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

from coursemig_gui.core.psycopg_private import copy_out_rows


def test_the_private_names_are_still_there():
    assert inspect.isgeneratorfunction(psycopg.generators._fetch_many)
    assert list(inspect.signature(psycopg.generators._fetch_many).parameters)[0] == "pgconn"
    assert hasattr(psycopg.waiting.Wait, "R")
    assert callable(psycopg.Connection.wait)
    assert "encoding" in inspect.signature(psycopg.errors.error_from_result).parameters


def test_copy_out_rows_reads_a_real_copy(source_db):
    with psycopg.connect(source_db.url, autocommit=True) as conn:
        assert isinstance(conn.pgconn._encoding, str) and conn.pgconn._encoding
        rows: list[bytes] = []
        query = sql.SQL("COPY (SELECT g, 'x' || g FROM generate_series(1, 1000) g) TO STDOUT")
        with conn.cursor() as cur, cur.copy(query):
            ended = False
            while not ended:
                got, ended = copy_out_rows(conn, 100)
                assert len(got) <= 100
                rows.extend(got)
        assert rows[0] == b"1\tx1\n" and rows[-1] == b"1000\tx1000\n" and len(rows) == 1000


def test_copy_out_rows_raises_the_servers_error(source_db):
    with psycopg.connect(source_db.url, autocommit=True) as conn:
        query = sql.SQL("COPY (SELECT 1 / (g - 500) FROM generate_series(1, 1000) g) TO STDOUT")
        with pytest.raises(psycopg.errors.DivisionByZero):
            with conn.cursor() as cur, cur.copy(query):
                ended = False
                while not ended:
                    _, ended = copy_out_rows(conn, 50)
