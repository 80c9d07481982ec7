"""Verification computed by the servers: each side sums a 64-bit hash of every row's values as
text, both at once, and only two numbers cross the network (on Citus the sum runs on the
shards).

Only used where it is exactly as strict as reading every row back: same column types on both
sides (so equal values write equal text under the pinned session settings), a target that was
empty before, and no rejected rows (the source's sum would hold rows the target lacks). Any
difference it finds is handed to the client-side check, which decides; so a server that
hashes differently (another encoding, no ``hashtextextended``) costs time, never a false
verdict. No ``md5()``: Azure Cosmos DB for PostgreSQL disables it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from coursemig_gui.core.engine.session import pin_session
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.report import TableReport, Verification

if TYPE_CHECKING:
    from coursemig_gui.core.options import MigrationOptions
    from coursemig_gui.core.transfer import LoadResult


def row_hash(columns: list[str]) -> sql.Composed:
    """A 64-bit hash of one row: each value's text (``COLLATE "C"``: its bytes, whatever the
    column's collation) hashed with its column's own seed, NULL as the seed itself, the values'
    hashes XORed and hashed once more, so the sum over rows cannot trade a value of one row for
    another's. One changed byte, NULL for an empty string or two values swapped between
    columns change it. Three times cheaper than hashing ``ROW(…)::text`` (measured: 0.15 s
    against 0.46 s for 200,000 course rows)."""
    values = [
        sql.SQL('coalesce(hashtextextended({}::text COLLATE "C", {}), {})').format(
            sql.Identifier(column), sql.Literal(seed), sql.Literal(seed)
        )
        for seed, column in enumerate(columns, start=1)
    ]
    return sql.SQL("hashint8extended({}, 0)").format(sql.SQL(" # ").join(values))


def server_checksum(
    conn: psycopg.Connection, table: sql.Composable, columns: list[str]
) -> tuple[int, int]:
    """(row count, sum of ``row_hash`` over the rows) of ``columns`` of ``table``, computed by
    the server. The sum is exact (numeric), so it does not depend on the order of the rows."""
    statement = sql.SQL("SELECT count(*), coalesce(sum({}), 0) FROM {}").format(
        row_hash(columns), table
    )
    with conn.transaction():  # a savepoint inside the source's snapshot transaction
        pin_session(conn)  # values written the same way on both sides, even behind PgBouncer
        count, total = conn.execute(statement).fetchone()
    return int(count), int(total)


def verify_on_servers(
    src: psycopg.Connection,
    tgt: psycopg.Connection,
    options: MigrationOptions,
    tm: TableMapping,
    report: TableReport,
    result: LoadResult,
    same_types: bool,
    before: int,
) -> bool:
    """Mark the table verified and say True when both servers' sums and counts agree; False
    when this check does not apply or disagrees (the caller then runs the client-side check).

    ``src`` must still be inside the snapshot the rows were copied from.
    """
    rows_written = result.rows_written
    if before or result.rows_rejected or not same_types:
        return False
    columns = tm.included_columns
    source = sql.Identifier(options.source_schema, tm.source)
    target = sql.Identifier(options.target_schema, tm.target)
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="verify-source") as pool:
            source_side = pool.submit(server_checksum, src, source, [c.source for c in columns])
            target_side = server_checksum(tgt, target, [c.target for c in columns])
            source_sum = source_side.result()
    except (psycopg.errors.UndefinedFunction, psycopg.errors.InsufficientPrivilege):
        return False  # no hashtextextended here (PostgreSQL < 11, or revoked)
    if source_sum != target_side or target_side[0] != rows_written:
        return False
    report.verification = Verification.MATCH
    report.verification_detail = f"{rows_written} rows; content checksum matches"
    return True
