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
    conn = connect(endpoint.settings, endpoint.password, autocommit=True, **kw)
    for statement in _SESSION:
        conn.execute(statement)
    return conn
