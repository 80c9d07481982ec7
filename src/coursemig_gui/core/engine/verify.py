"""Verification on the client, where the servers' own check (``server_checksum.py``) cannot
decide: an order-independent checksum of COPY's output on both sides (the source read again in
the load's snapshot, the target read back once) and exact row counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import count_rows
from coursemig_gui.core.engine.copy_format import BINARY_HEADER, BINARY_TRAILER
from coursemig_gui.core.engine.server_checksum import (
    ServerCheck,
    ServerVerdict,
    Sums,
    verify_on_servers,
)
from coursemig_gui.core.engine.session import pin_session
from coursemig_gui.core.events import CancelToken
from coursemig_gui.core.load_result import KEEP_REJECTED_BYTES
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.report import TableReport, Verification
from coursemig_gui.core.source_rows import read_statement
from coursemig_gui.core.type_changes import castable, read_back_as

if TYPE_CHECKING:
    from coursemig_gui.core.load_result import LoadResult

CHECKSUM_MASK = (1 << 64) - 1


def rows_checksum(rows: list[bytes]) -> int:
    """Order-independent: a sum of per-row hashes, so neither side needs an ORDER BY.

    Python's own ``hash`` of bytes (SipHash) runs in C and is about 6x cheaper than blake2b per
    row; its key is random per process, which is fine because both sides of a comparison are
    hashed by the same process, and never stored.
    """
    return sum(map(hash, rows)) & CHECKSUM_MASK


def table_checksum(
    conn: psycopg.Connection,
    table: sql.Composable,
    columns: list[str],
    fmt: str,
    statement: sql.Composable | None = None,
    cancel: CancelToken | None = None,
) -> tuple[int, int]:
    """(row count, checksum) of a table as COPY writes it, computed on the client
    (``statement``: another COPY ... TO STDOUT giving the same rows, say read back as other
    types). A Stop is honoured between rows.

    No md5() on the server: Azure Cosmos DB for PostgreSQL disables it.
    """
    if statement is None:
        statement = read_statement(table, columns, fmt)
    count, total = 0, 0
    rows: list[bytes] = []
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for chunk in copy:
            if cancel is not None and len(rows) % 1000 == 0:
                cancel.check()
            row = bytes(chunk)
            if fmt == "binary":
                if row.startswith(BINARY_HEADER):
                    row = row[len(BINARY_HEADER) :]
                if row == BINARY_TRAILER or not row:
                    continue
            rows.append(row)
            if len(rows) >= 10_000:
                count, total = count + len(rows), total + rows_checksum(rows)
                rows = []
    count, total = count + len(rows), total + rows_checksum(rows)
    return count, total & CHECKSUM_MASK


def source_checksum(
    src: psycopg.Connection,
    table: sql.Composable,
    columns: list[str],
    fmt: str,
    rejected: list[bytes] | None,
    cancel: CancelToken | None = None,
) -> int | None:
    """The checksum of the rows written, as ``table_checksum`` gives the target's: the source's
    rows read again (``src`` still in the load's snapshot, so the same rows, the same bytes),
    less the rejected ones as they were read. None when the rejected rows were not all kept."""
    if rejected is None:
        return None
    _, total = table_checksum(src, table, columns, fmt, cancel=cancel)
    return (total - rows_checksum(rejected)) & CHECKSUM_MASK


def verify_loaded(
    src: psycopg.Connection,
    tgt: psycopg.Connection,
    check: ServerCheck,
    tm: TableMapping,
    report: TableReport,
    result: LoadResult,
    source_types: list[str],
    target_types: list[str],
    cancel: CancelToken | None = None,
    source_sums: Sums | None = None,
) -> None:
    """A table loaded from a database: the servers' check, and where it cannot decide, the
    client-side one (``src`` still in the load's snapshot)."""
    verdict = verify_on_servers(src, tgt, check, report, result, source_sums)
    if verdict == ServerVerdict.MATCH:
        return
    rejected = result.rejected_rows if result.rejected_rows_kept else None
    columns = [cm.source for cm in tm.included_columns]
    verify_copy(
        tgt,
        check.target_schema,
        tm,
        report,
        result.rows_written,
        lambda: source_checksum(src, check.source, columns, check.fmt, rejected, cancel),
        check.fmt,
        source_types,
        target_types,
        check.rows_before,
        cancel,
        servers_differ=verdict == ServerVerdict.DIFFERENT,
    )


def verify_copy(
    tgt: psycopg.Connection,
    schema: str,
    tm: TableMapping,
    report: TableReport,
    rows_written: int,
    source_sum: Callable[[], int | None],
    fmt: str,
    source_types: list[str],
    target_types: list[str],
    before: int,
    cancel: CancelToken | None = None,
    servers_differ: bool = False,
) -> None:
    """A table copied from a database: counts, and the content checksum where the table was
    empty before (rows already there would be in the target's sum but not the source's).

    Where a column's type changed, the target's values are read back as the source's type,
    so a change that altered a value shows as a difference. Whatever is not compared is said
    in ``verification_detail``."""
    columns = [cm.target for cm in tm.included_columns]
    if before:
        count = count_rows(tgt, tm.target, schema)
        ok = count == before + rows_written
        report.verification = Verification.COUNTS_MATCH if ok else Verification.MISMATCH
        report.verification_detail = (
            f"{before} rows were there before, {rows_written} added, {count} now; "
            + (
                "the servers' checksums of the added rows did not agree, and with rows there "
                "before the rows cannot be compared one by one here: compare the tables with "
                "'coursemig compare'"
                if servers_differ
                else "the content was not compared, since the rows there before could not be "
                "told apart from the added ones"
            )
        )
        return
    target = sql.Identifier(schema, tm.target)
    changed = [
        f"{c} ({s} -> {t})"
        for c, s, t in zip(columns, source_types, target_types, strict=True)
        if s != t
    ]
    statement = None
    if changed:
        if not all(castable(t) for t in source_types):
            count = count_rows(tgt, tm.target, schema)
            ok = count == rows_written
            report.verification = Verification.COUNTS_MATCH if ok else Verification.MISMATCH
            report.verification_detail = (
                f"{count} rows in the target, {rows_written} written; the content was not "
                f"compared, because a changed type cannot be read back: {', '.join(changed)}"
            )
            return
        statement = read_back_as(target, columns, source_types, fmt)
    expected = source_sum()
    if expected is None:
        count = count_rows(tgt, tm.target, schema)
        ok = count == rows_written
        report.verification = Verification.COUNTS_MATCH if ok else Verification.MISMATCH
        report.verification_detail = (
            f"{count} rows in the target, {rows_written} written; the content was not "
            f"compared, because the rejected rows came to more than {KEEP_REJECTED_BYTES >> 20} "
            "MB, too much to keep for the check"
        )
        return
    try:
        with tgt.transaction():
            pin_session(tgt)  # both sides write values the same way, even behind PgBouncer
            count, checksum = table_checksum(tgt, target, columns, fmt, statement, cancel)
    except (psycopg.DataError, psycopg.ProgrammingError) as exc:
        if statement is None:
            raise
        # a changed type that cannot be read back as the source's (no such type or cast in
        # the target): the counts, and the report says what was not compared
        count = count_rows(tgt, tm.target, schema)
        ok = count == rows_written
        report.verification = Verification.COUNTS_MATCH if ok else Verification.MISMATCH
        report.verification_detail = (
            f"{count} rows in the target, {rows_written} written; the content was not "
            f"compared, because a changed type cannot be read back ({', '.join(changed)}: "
            f"{str(exc).strip()})"
        )
        return
    if count != rows_written:
        report.verification = Verification.MISMATCH
        report.verification_detail = f"{rows_written} rows written, {count} in the target"
    elif checksum == expected:
        report.verification = Verification.MATCH
        report.verification_detail = f"{count} rows; content checksum matches" + (
            " (read back as the source's types)" if changed else ""
        )
    else:
        report.verification = Verification.MISMATCH
        report.verification_detail = f"{count} rows, but their content differs from the source" + (
            f": the type changes altered values ({', '.join(changed)})" if changed else ""
        )


def verify_import(
    tgt: psycopg.Connection,
    schema: str,
    tm: TableMapping,
    report: TableReport,
    rows_written: int,
    before: int,
) -> None:
    """A table loaded from a CSV file: there is no source checksum, so the count."""
    count = count_rows(tgt, tm.target, schema)
    ok = count == before + rows_written
    report.verification = Verification.COUNTS_MATCH if ok else Verification.MISMATCH
    report.verification_detail = (
        f"{count} rows in {tm.target}, {rows_written} loaded from the file; the content was not "
        "compared (a file has no checksum to compare with)"
    )


def say_computed(report: TableReport, computed: list[str]) -> None:
    """The verification's detail names the columns the target computed itself (generated
    columns), which it did not compare.

    Why not compared here: a rejected row is taken off the source's sum from its bytes as read,
    and those hold no generated values (they are not read), so a sum over them could not be
    made exact. 'coursemig compare' reads both sides and compares them, so a target whose
    expression differs from the source's shows there."""
    if not computed or not report.verification_detail:
        return
    many = len(computed) > 1
    report.verification_detail += (
        f"; the generated column{'s' if many else ''} {', '.join(computed)} "
        f"{'are' if many else 'is'} computed by the target and not compared here "
        "('coursemig compare' compares them)"
    )
