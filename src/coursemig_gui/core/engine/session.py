"""Connections for the engine: the one ``connect()`` (so a failure reads the same sentence as
"Test connection"), autocommit because the engine's transactions are explicit, and the session
settings that make both sides write values the same way."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import pq, sql

from coursemig_gui.core.connection import Endpoint, connect

# Session settings that make both sides write values the same way, so checksums compare.
_SESSION = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
)


def _set_all(local: bool) -> sql.Composed:
    """All of ``_SESSION`` in one statement: one round trip instead of one per setting (each
    connection and each table transaction pays it). ``set_config(…, true)`` is ``SET LOCAL``."""
    return sql.SQL("SELECT {}").format(
        sql.SQL(", ").join(
            sql.SQL("set_config({}, {}, {})").format(
                sql.Literal(name), sql.Literal(value), sql.Literal(local)
            )
            for name, value in _SESSION
        )
    )


_SET_SESSION = _set_all(local=False)
_SET_LOCAL = _set_all(local=True)


def open_session(endpoint: Endpoint, **kw: Any) -> psycopg.Connection:
    """An engine connection: autocommit, the session settings above, errors as sentences."""
    # Every engine connection speaks UTF-8, whatever the database's own encoding (a LATIN1
    # source): the server converts, so bytes read on one side are valid on the other.
    kw.setdefault("client_encoding", "UTF8")
    conn = connect(endpoint.settings, endpoint.password, autocommit=True, **kw)
    conn.execute(_SET_SESSION)
    return conn


_STEP = sql.Identifier("coursemig_step")


def pinned_query(conn: psycopg.Connection, statement: sql.Composable) -> psycopg.Cursor:
    """``statement`` with the session settings pinned (``pin_session``), in one round trip
    (``in_one_round_trip``); its cursor, to fetch from."""
    return in_one_round_trip(conn, [_SET_LOCAL, statement])[-1]


def in_one_round_trip(
    conn: psycopg.Connection, statements: list[sql.Composable]
) -> list[psycopg.Cursor]:
    """``statements`` in a transaction of their own (a savepoint inside one already open), all
    sent in one round trip; their cursors. A failure is rolled back to where it started, then
    raised.

    Explicit statements, not ``conn.transaction()``: a psycopg transaction in a pipeline syncs
    at its start and end, a round trip each (to a cloud server, each costs more than a small
    table's query)."""
    nested = conn.info.transaction_status == pq.TransactionStatus.INTRANS
    if nested:
        begin = sql.SQL("SAVEPOINT {}").format(_STEP)
        end = sql.SQL("RELEASE SAVEPOINT {}").format(_STEP)
        undo = [sql.SQL("ROLLBACK TO SAVEPOINT {}").format(_STEP), end]
    else:
        begin, end, undo = sql.SQL("BEGIN"), sql.SQL("COMMIT"), [sql.SQL("ROLLBACK")]
    try:
        with conn.pipeline():
            conn.execute(begin)
            cursors = [conn.execute(statement) for statement in statements]
            conn.execute(end)
    except psycopg.Error:
        if (
            not conn.closed
            and not conn.broken
            and conn.info.transaction_status == pq.TransactionStatus.INERROR
        ):
            for step in undo:
                conn.execute(step)
        raise
    return cursors


def pin_session(conn: psycopg.Connection) -> None:
    """The session settings again, for the transaction in progress only: behind PgBouncer
    (transaction pooling, Azure's port 6432) each transaction may run on another server
    connection, where the settings made at connect time are not in force."""
    conn.execute(_SET_LOCAL)
