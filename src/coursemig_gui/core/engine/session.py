"""Connections for the engine: autocommit, plain errors, and the session settings that make
both sides write values the same way."""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict

from coursemig_gui.core.connection import explain_error

# Session settings that make both sides write values the same way, so checksums compare.
_SESSION = ("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'",
            "SET extra_float_digits = 3", "SET bytea_output = 'hex'")  # fmt: skip


def connect(conninfo: str, **kw) -> psycopg.Connection:
    """Connect for the engine: autocommit (transactions are explicit), plain errors."""
    if str(conninfo_to_dict(conninfo).get("port", "")) == "6432":
        # Azure's PgBouncer in transaction mode: a prepared statement would land on another
        # server connection
        kw.setdefault("prepare_threshold", None)
    try:
        conn = psycopg.connect(conninfo, autocommit=True, **kw)
    except psycopg.Error as exc:
        raise explain_error(exc) from exc
    for statement in _SESSION:
        conn.execute(statement)
    return conn
