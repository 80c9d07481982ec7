"""One helper for a query that may fail (a catalog that is not there, no permission)."""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

log = logging.getLogger(__name__)


def probe(
    conn: psycopg.Connection, query: str | sql.Composable, params: list | None = None
) -> list[tuple] | None:
    """The rows, or None when the query failed. A savepoint rolls back only the probe, so the
    connection stays usable; outside a transaction (autocommit) a failed statement leaves
    nothing to roll back, so the probe saves the BEGIN and COMMIT round trips."""
    try:
        if conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
            return conn.execute(query, params).fetchall()
        with conn.transaction():
            return conn.execute(query, params).fetchall()
    except psycopg.Error as exc:
        log.debug("probe failed: %s", exc)
        return None
