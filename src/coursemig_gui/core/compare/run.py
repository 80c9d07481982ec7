"""Runs a row-by-row comparison of every table of a migration: each server hashes its rows,
both hash lists stream sorted by key and are merged here; values are read only for the
differing rows shown."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.compare.merge import Kind, MergeResult, OutOfOrder, merge_sorted
from coursemig_gui.core.compare.report import (
    ColumnDifference,
    CompareReport,
    RowDifference,
    Status,
    TableComparison,
)
from coursemig_gui.core.compare.spec import (
    TableSpec,
    build_spec,
    empty_key_count_query,
    empty_key_values_query,
    hash_query,
    values_query,
)
from coursemig_gui.core.compare.stream import HashStream
from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import Cancelled, CancelToken, LogMessage
from coursemig_gui.core.explain import explain_error
from coursemig_gui.core.mapping import TableMapping

DEFAULT_SHOWN_ROWS = 1000

# Both servers must write every value the same way for the hashes to agree; Citus passes the
# SET LOCAL copies on to its worker nodes, where the hashes are computed.
_PINNED = (("TimeZone", "UTC"), ("DateStyle", "ISO, YMD"), ("IntervalStyle", "postgres"),
           ("extra_float_digits", "3"), ("bytea_output", "hex"), ("client_encoding", "UTF8"),
           ("lc_monetary", "C"))  # fmt: skip


@dataclass(frozen=True)
class CompareProgress:
    """Sent as each table starts, every 10,000 source rows, and when it is done."""

    table: str
    target: str
    index: int  # 1-based
    total: int
    rows_done: int = 0
    status: Status = Status.WAITING
    verdict: str = ""


ProgressCallback = Callable[[CompareProgress | LogMessage], None]


def compare_tables(
    source: Endpoint,
    target: Endpoint,
    mappings: list[TableMapping],
    source_schema: str = "public",
    target_schema: str = "public",
    shown_rows: int = DEFAULT_SHOWN_ROWS,
    on_event: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    profile: str = "",
) -> CompareReport:
    """Compare every included table of ``mappings``; blocking. Never raises for what a user
    can meet: a problem with one table is that table's verdict, a problem with both
    databases is ``report.message``."""
    emit = on_event or (lambda event: None)
    cancel = cancel or CancelToken()
    report = CompareReport(source.settings.display_name(), target.settings.display_name(), profile)
    included = [tm for tm in mappings if tm.include]
    report.tables = [TableComparison(tm.source, tm.target) for tm in included]
    try:
        with _connect(source) as src, _connect(target) as tgt:
            report.hash_method = _hash_method(src, tgt)
            citus = _has_citus(tgt)
            source_catalog = read_catalog(src, source_schema)
            target_catalog = read_catalog(tgt, target_schema)
        for index, (tm, result) in enumerate(zip(included, report.tables, strict=True), 1):
            if cancel.cancelled:
                result.status = Status.STOPPED
                continue
            spec = build_spec(tm, source_catalog, target_catalog)
            emit(CompareProgress(tm.source, tm.target, index, len(included)))
            _compare_one(spec, source, target, report.hash_method, citus, shown_rows, result,
                         lambda rows, i=index, t=tm: emit(CompareProgress(
                             t.source, t.target, i, len(included), rows)), cancel)  # fmt: skip
            emit(CompareProgress(tm.source, tm.target, index, len(included),
                                 result.source_rows, result.status, result.verdict()))  # fmt: skip
    except FriendlyError as exc:
        report.message, report.detail = exc.message, exc.detail
    except psycopg.Error as exc:
        friendly = explain_error(exc)
        report.message, report.detail = friendly.message, friendly.detail
    report.cancelled = cancel.cancelled
    report.finished = datetime.now().isoformat(timespec="seconds")
    if report.message:
        emit(LogMessage(report.message, "error", report.detail))
    return report


def _connect(endpoint: Endpoint) -> psycopg.Connection:
    """The one ``connect`` (plain errors, PgBouncer handled), then the pinned settings."""
    conn = endpoint.connect(autocommit=True)
    for name, value in _PINNED:
        conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
    return conn


def _probe(conn: psycopg.Connection, query: str) -> bool:
    try:
        with conn.transaction():
            conn.execute(query)
        return True
    except psycopg.Error:
        return False


def _hash_method(src: psycopg.Connection, tgt: psycopg.Connection) -> str:
    """``hashtextextended`` when both servers have it and store text alike, else ``sha256``."""
    versions = [c.info.server_version for c in (src, tgt)]
    if min(versions) < 110000:
        raise FriendlyError(
            "Comparing row by row needs PostgreSQL 11 or later on both databases.",
            f"server versions: {versions}",
        )
    encodings = [c.execute("SHOW server_encoding").fetchone()[0] for c in (src, tgt)]
    if encodings[0] == encodings[1] and all(
        _probe(c, "SELECT hashtextextended('x', 0)") for c in (src, tgt)
    ):
        return "hashtextextended"
    if all(_probe(c, "SELECT sha256(convert_to('x', 'UTF8'))") for c in (src, tgt)):
        return "sha256"
    raise FriendlyError(
        "Neither database lets this user compute row fingerprints (hashtextextended or "
        "sha256), so the tables cannot be compared row by row.",
        f"server encodings: {encodings}",
    )


def _has_citus(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone()
    return row is not None


@contextlib.contextmanager
def _snapshot(endpoint: Endpoint, citus: bool, cancel: CancelToken) -> Iterator[psycopg.Connection]:
    """A connection in one read-only snapshot: the hashes and the values shown agree."""
    conn = _connect(endpoint)
    cancel.watch(conn)
    try:
        if citus:
            conn.execute("SET citus.propagate_set_commands = 'local'")
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for name, value in _PINNED:
            conn.execute(
                sql.SQL("SET LOCAL {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        yield conn
    finally:
        cancel.unwatch(conn)
        conn.close()


def _compare_one(
    spec: TableSpec,
    source: Endpoint,
    target: Endpoint,
    method: str,
    citus: bool,
    shown_rows: int,
    result: TableComparison,
    tick: Callable[[int], None],
    cancel: CancelToken,
) -> None:
    started = time.monotonic()
    result.key_kind, result.key_columns = spec.key_kind, spec.key_names
    result.left_out = list(spec.left_out)
    if spec.problem:
        result.status, result.message = Status.NOT_COMPARED, spec.problem
        return
    try:
        with _snapshot(source, False, cancel) as src, _snapshot(target, citus, cancel) as tgt:
            empty_keys = 0
            if not spec.multiset:
                empty_keys = tgt.execute(empty_key_count_query(spec, "target")).fetchone()[0]
            merged = _merge(spec, src, tgt, method, shown_rows, tick, cancel)
            merged.target_rows += empty_keys
            merged.only_target += empty_keys
            _fill(result, merged)
            result.rows = _values(spec, src, tgt, method, merged.shown)
            if empty_keys and len(result.rows) < shown_rows:
                result.rows += _empty_key_rows(spec, tgt, shown_rows - len(result.rows))
        result.status = Status.DIFFERENT if result.differences else Status.IDENTICAL
    except Cancelled:
        result.status = Status.STOPPED
    except OutOfOrder as exc:
        result.status = Status.NOT_COMPARED
        result.message = ("the two databases sort this table's key differently, so its rows "
                          "cannot be matched one by one.")  # fmt: skip
        result.detail = str(exc)
    except psycopg.Error as exc:
        if cancel.cancelled:
            result.status = Status.STOPPED
        else:
            friendly = explain_error(exc)
            result.status = Status.NOT_COMPARED
            result.message = _why(exc, spec) or friendly.message
            result.detail = friendly.detail or str(exc)
    finally:
        result.seconds = time.monotonic() - started


def _why(exc: psycopg.Error, spec: TableSpec) -> str:
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return f"this user may not read {spec.source} or {spec.target}."
    if isinstance(exc, psycopg.errors.InvalidTextRepresentation | psycopg.errors.CannotCoerce):
        return (f"a value in {spec.target} cannot be read as the source column's type, so the "
                "two cannot be compared value by value.")  # fmt: skip
    return ""


def _merge(spec, src, tgt, method, shown_rows, tick, cancel) -> MergeResult:
    streams = [HashStream(conn, hash_query(spec, side, method), spec.multiset).start()
               for conn, side in ((src, "source"), (tgt, "target"))]  # fmt: skip

    def progress(rows: int) -> None:
        cancel.check()
        tick(rows)

    try:
        return merge_sorted(streams[0].rows(), streams[1].rows(), shown_rows, progress)
    finally:
        for stream in streams:
            stream.close()


def _fill(result: TableComparison, merged: MergeResult) -> None:
    result.source_rows, result.target_rows = merged.source_rows, merged.target_rows
    result.identical, result.different = merged.identical, merged.different
    result.only_in_source, result.only_in_target = merged.only_source, merged.only_target


def _values(spec: TableSpec, src, tgt, method: str, shown: list) -> list[RowDifference]:
    """Read the values of the rows shown (each side once), and name the differing columns."""
    if not shown:
        return []
    keys = list(dict.fromkeys(key for _, key in shown))
    src_rows = _fetch(src, spec, "source", method, keys)
    tgt_rows = _fetch(tgt, spec, "target", method, keys)
    names = [p.source for p in spec.columns]
    unmatched: dict[tuple, tuple[list, list]] = {}
    rows = []
    for kind, key in shown:
        if key not in unmatched:
            unmatched[key] = _unmatched(src_rows.get(key, []), tgt_rows.get(key, []))
        left, right = unmatched[key]
        # the rows of a key left once equal rows are paired, taken in the order merge_sorted
        # counted them: different (one from each side), then only in source, only in target
        before = _take(left) if kind != Kind.ONLY_TARGET else []
        after = _take(right) if kind != Kind.ONLY_SOURCE else []
        key_text = {} if spec.multiset else dict(zip(spec.key_names, (str(k) for k in key),
                                                     strict=True))  # fmt: skip
        if kind == Kind.DIFFERENT:
            columns = [
                ColumnDifference(p.source, p.target, a, b)
                for p, a, b in zip(spec.columns, before, after, strict=False)
                if a != b
            ]
            rows.append(RowDifference(str(kind), key_text, columns))
        else:
            values = before if kind == Kind.ONLY_SOURCE else after
            rows.append(RowDifference(str(kind), key_text, values=dict(zip(names, values,
                                                                           strict=False))))  # fmt: skip
    return rows


def _empty_key_rows(spec: TableSpec, tgt, limit: int) -> list[RowDifference]:
    """Target rows with an empty key, which match no source row: shown with their values (the
    merge never meets them, so they were counted but not listed)."""
    names = [p.source for p in spec.columns]
    key = dict.fromkeys(spec.key_names)  # each None: shown as the empty key it is
    return [
        RowDifference(str(Kind.ONLY_TARGET), key, values=dict(zip(names, row, strict=False)))
        for row in tgt.execute(empty_key_values_query(spec, "target"), [limit])
    ]


def _unmatched(left: list[tuple], right: list[tuple]) -> tuple[list, list]:
    """The values of one key's (hash, values) rows on each side, less the rows whose hash the
    other side has too (the identical ones, as merge_sorted paired them)."""
    matched = Counter(h for h, _ in left) & Counter(h for h, _ in right)
    return _less(left, matched.copy()), _less(right, matched)


def _less(rows: list[tuple], matched: Counter) -> list:
    kept = []
    for h, values in rows:
        if matched[h]:
            matched[h] -= 1
        else:
            kept.append(values)
    return kept


def _take(rows: list) -> list:
    return rows.pop(0) if rows else []


def _fetch(conn, spec: TableSpec, side: str, method: str, keys: list[tuple]) -> dict:
    """key -> list of (row hash, value list as text), for the given keys; a multiset's key is
    the hash."""
    if spec.multiset:
        params = [[k[0] for k in keys]]
    else:
        params = [[k[i] for k in keys] for i in range(len(spec.key))]
    found: dict[tuple, list] = {}
    width = 1 if spec.multiset else len(spec.key)
    # a multiset's rows start with their hash (its key); a keyed table's with its key, then
    # the hash
    start = width if spec.multiset else width + 1
    for row in conn.execute(values_query(spec, side, method), params):
        found.setdefault(tuple(row[:width]), []).append((row[start - 1], list(row[start:])))
    return found


def compare_profile(
    profile,
    source: Endpoint,
    target: Endpoint,
    shown_rows: int = DEFAULT_SHOWN_ROWS,
    on_event: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> CompareReport:
    """Compare the tables of a saved migration (``core.profile.Profile``), through its renames
    and left-out columns."""
    options = profile.options
    return compare_tables(source, target, profile.tables, options.source_schema,
                          options.target_schema, shown_rows, on_event, cancel, profile.name)  # fmt: skip
