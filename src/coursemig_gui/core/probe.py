"""One helper for a query that may fail (a catalog that is not there, no permission)."""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


def probe(
    conn: psycopg.Connection, query: str | sql.Composable, params: list | None = None
) -> list[tuple] | None:
    """The rows, or None when the query failed. A savepoint (or a transaction on an
    autocommit connection) rolls back only the probe, so the connection stays usable."""
    try:
        with conn.transaction():
            return conn.execute(query, params).fetchall()
    except psycopg.Error as exc:
        log.debug("probe failed: %s", exc)
        return None
