"""Connections for the engine: the one ``connect()`` (so a failure reads the same sentence as
"Test connection"), autocommit because the engine's transactions are explicit, and the session
settings that make both sides write values the same way."""

from __future__ import annotations

from typing import Any

import psycopg

from coursemig_gui.core.connection import Endpoint, connect

# Session settings that make both sides write values the same way, so checksums compare.
_SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 3",
    "SET bytea_output = 'hex'",
)


def open_session(endpoint: Endpoint, **kw: Any) -> psycopg.Connection:
    """An engine connection: autocommit, the session settings above, errors as sentences."""
    # Every engine connection speaks UTF-8, whatever the database's own encoding (a LATIN1
    # source): the server converts, so bytes read on one side are valid on the other.
    kw.setdefault("client_encoding", "UTF8")
    conn = connect(endpoint.settings, endpoint.password, autocommit=True, **kw)
    for statement in _SESSION:
        conn.execute(statement)
    return conn


def pin_session(conn: psycopg.Connection) -> None:
    """The session settings again, for the transaction in progress only: behind PgBouncer
    (transaction pooling, Azure's port 6432) each transaction may run on another server
    connection, where the settings made at connect time are not in force."""
    for statement in _SESSION:
        conn.execute(statement.replace("SET ", "SET LOCAL ", 1))
