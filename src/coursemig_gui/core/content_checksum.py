"""A content checksum that can be stored: the export writes it into its manifest, the import
computes it again from the loaded table.

The same construction as ``transfer.rows_checksum`` (an order-independent sum of per-row hashes
over the rows as ``COPY ... (FORMAT csv)`` writes them), but with BLAKE2b instead of Python's
per-process ``hash``, whose key changes with every process and so cannot be written down.
"""

from __future__ import annotations

from collections.abc import Iterator
from hashlib import blake2b

import psycopg
from psycopg import sql

from coursemig_gui.core.row_batch import RowBatch
from coursemig_gui.core.source_rows import read_statement

_MASK = (1 << 64) - 1


def stable_rows_checksum(rows: list[bytes]) -> int:
    """Sum of 64-bit BLAKE2b digests of the rows, mod 2**64; the same in every process."""
    return (
        sum(int.from_bytes(blake2b(row, digest_size=8).digest(), "little") for row in rows) & _MASK
    )


def add_checksums(a: int, b: int) -> int:
    return (a + b) & _MASK


class RowsChecksum:
    """Rows counted and checksummed as their batches pass by, for a CSV file written beside
    a load (the package's manifest proves the file with them)."""

    def __init__(self) -> None:
        self.rows = 0
        self.value = 0

    def through(self, batches: Iterator[RowBatch]) -> Iterator[RowBatch]:
        for batch in batches:
            rows = batch.rows
            self.rows += len(rows)
            self.value = add_checksums(self.value, stable_rows_checksum(rows))
            yield batch


def format_checksum(value: int) -> str:
    return f"{value:016x}"


def parse_checksum(text: str) -> int:
    return int(text, 16) & _MASK


def content_checksum(
    conn: psycopg.Connection, table: sql.Composable, columns: list[str]
) -> tuple[int, int]:
    """(row count, stable checksum) of a table as ``COPY ... (FORMAT csv)`` writes it.

    Computed on the client: Azure Cosmos DB for PostgreSQL disables md5() on the server. The
    connection must use the engine's session settings (UTC, ISO dates), as the export did.
    """
    statement = read_statement(table, columns, "csv")
    count, total = 0, 0
    rows: list[bytes] = []
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for chunk in copy:
            rows.append(bytes(chunk))
            if len(rows) >= 10_000:
                count, total = count + len(rows), add_checksums(total, stable_rows_checksum(rows))
                rows = []
    count, total = count + len(rows), add_checksums(total, stable_rows_checksum(rows))
    return count, total
