"""The plan in plain words: what a run is about to do, read before pressing Start.

"9 tables, 11,359 rows, from course_api on 127.0.0.1 to citus on c-x.postgres.cosmos.azure.com;
1 column renamed; tables that already exist: stop; a bad row is skipped (up to 100 per table);
each table is checked after copying."

Every figure is what the objects say: row counts are the counted ones, and where a table has
only the planner's estimate the total says "about".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol

from coursemig_gui.core.connection_settings import DEFAULT_PORT
from coursemig_gui.core.mapping import IfExists, TableMapping
from coursemig_gui.core.options import MigrationOptions, OnError, Route

IF_EXISTS_WORDS = {
    IfExists.FAIL: "stop",
    IfExists.APPEND: "add the rows",
    IfExists.REPLACE: "replace all their rows",
    IfExists.SKIP: "skip them",
}


class Place(Protocol):
    """Where a database is (core.connection_settings.ConnectionSettings has these)."""

    host: str
    port: int
    dbname: str


def describe_plan(
    mappings: Iterable[TableMapping],
    options: MigrationOptions,
    *,
    source: Place | None,
    target: Place | None,
    counted_rows: Mapping[str, int] | None = None,
    estimated_rows: Mapping[str, int] | None = None,
) -> str:
    """One paragraph saying what a run of ``mappings`` with ``options`` does.

    ``counted_rows`` are exact counts per source table; ``estimated_rows`` (the catalog's
    estimates) fill in for tables not counted, and then the total is "about".
    """
    tables = [m for m in mappings if m.include]
    if not tables:
        return "No table is chosen, so nothing will be copied."
    parts = [_what_and_where(tables, options, source, target, counted_rows, estimated_rows)]
    parts += _column_changes(tables)
    if options.route.writes_database:
        parts.append(_if_exists(tables))
    parts.append(_bad_rows(options))
    if options.verify and options.route.writes_database:
        parts.append("each table is checked after copying")
    return "; ".join(parts) + "."


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def place_name(place: Place) -> str:
    """``course_api on 127.0.0.1`` (the port only when it is not PostgreSQL's usual one)."""
    host = place.host or "localhost"
    if place.port and place.port != DEFAULT_PORT:
        host += f":{place.port}"
    return f"{place.dbname or 'the default database'} on {host}"


def _rows(
    tables: list[TableMapping],
    counted: Mapping[str, int] | None,
    estimated: Mapping[str, int] | None,
) -> str | None:
    counted = counted or {}
    estimated = estimated or {}
    total, guessed = 0, False
    for m in tables:
        if m.source in counted:
            total += counted[m.source]
        elif m.source in estimated:
            total += max(estimated[m.source], 0)
            guessed = True
        else:
            return None  # a table with no figure at all: say nothing rather than too little
    return ("about " if guessed else "") + _plural(total, "row")


def _what_and_where(
    tables: list[TableMapping],
    options: MigrationOptions,
    source: Place | None,
    target: Place | None,
    counted: Mapping[str, int] | None,
    estimated: Mapping[str, int] | None,
) -> str:
    what = _plural(len(tables), "table")
    if options.route.reads_database:  # CSV files are not counted before the run
        rows = _rows(tables, counted, estimated)
        if rows:
            what += f", {rows}"
    folder = options.csv_dir or "the chosen folder"
    src = place_name(source) if source else "the source database"
    dst = place_name(target) if target else "the target database"
    if options.route == Route.EXPORT:
        return f"{what}, from {src} to CSV files in {folder} (nothing is written to a database)"
    if options.route == Route.IMPORT:
        return f"{what}, from the CSV files in {folder} to {dst}"
    text = f"{what}, from {src} to {dst}"
    if options.route == Route.DIRECT_KEEP_CSV:
        text += f", keeping CSV files in {folder}"
    return text


def _column_changes(tables: list[TableMapping]) -> list[str]:
    renamed = left_out = retyped = 0
    for m in tables:
        for c in m.columns:
            if not c.include:
                left_out += 1
                continue
            renamed += c.target != c.source
            retyped += bool(c.source_type) and c.target_type != c.source_type
    parts = []
    if renamed:
        parts.append(_plural(renamed, "column") + " renamed")
    if retyped:
        parts.append(_plural(retyped, "column") + " given another type")
    if left_out:
        parts.append(_plural(left_out, "column") + " left out")
    return parts


def _if_exists(tables: list[TableMapping]) -> str:
    choices = Counter(m.if_exists for m in tables)
    if len(choices) == 1:
        return f"tables that already exist: {IF_EXISTS_WORDS[next(iter(choices))]}"
    # most tables first, then the order the Columns page offers them in
    ordered = sorted(choices.items(), key=lambda kv: (-kv[1], list(IfExists).index(kv[0])))
    return "tables that already exist: " + ", ".join(
        f"{IF_EXISTS_WORDS[choice]} ({_plural(n, 'table')})" for choice, n in ordered
    )


def _bad_rows(options: MigrationOptions) -> str:
    if options.on_error == OnError.STOP or 0 in (options.max_rejects, options.max_reject_percent):
        # a limit of none: the first bad row fails the table, as --on-error stop does
        return "a bad row stops its table (rolled back)"
    limit = f"up to {_plural(options.max_rejects, 'row')} per table" if options.max_rejects else ""
    if options.max_reject_percent is not None:
        percent = f"{options.max_reject_percent:g} % of a table"
        limit = f"{limit} or {percent}" if limit else f"up to {percent}"
    return "a bad row is skipped" + (f" ({limit})" if limit else "")
