"""Placement suggestions: reference for small lookup tables, distributed by a shared key for
large ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import psycopg

from coursemig_gui.core.catalog import Catalog, Table, count_rows
from coursemig_gui.core.citus.placement import (
    distribution_candidates,
)
from coursemig_gui.core.citus.rules import _cols
from coursemig_gui.core.mapping import Placement, TableMapping

if TYPE_CHECKING:
    from coursemig_gui.core.connection import Endpoint

# -- suggestions ----------------------------------------------------------------------------------

# Small enough to copy to every node; large enough that spreading it pays off. Sizes are exact
# counts where the caller has them (``row_counts``), else the server's estimates, said so.
REFERENCE_MAX_ROWS = 100_000
DISTRIBUTE_MIN_ROWS = 100_000


class Suggestion(NamedTuple):
    placement: Placement
    column: str | None  # the target column to distribute by (distributed only)
    reason: str


class Size(NamedTuple):
    rows: int
    counted: bool  # an exact count, not the server's estimate

    def __str__(self) -> str:
        if self.counted:
            return f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
        return f"an estimated {self.rows:,} rows"


def needs_count(table: Table) -> bool:
    """The server's estimate cannot be used: missing (never ANALYZEd), or 0, which a table
    loaded since its last ANALYZE also shows. Counting an empty table costs nothing."""
    return not table.row_estimate_known or table.row_estimate == 0


def count_for_suggestions(
    conn: psycopg.Connection,
    catalog: Catalog,
    names: list[str],
    known: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Exact row counts for the tables whose estimate cannot be used (``known`` counts are
    kept): what ``suggest_placements`` needs as ``row_counts``."""
    counts = dict(known or {})
    for name in names:
        table = catalog.table(name)
        if table is not None and name not in counts and needs_count(table):
            counts[name] = count_rows(conn, name, catalog.schema)
    return counts


def suggest_with_counts(
    conn: psycopg.Connection, catalog: Catalog, mappings: list[TableMapping]
) -> dict[str, Suggestion]:
    """``suggest_placements`` for an unattended run: the tables without a usable estimate are
    counted first on ``conn`` (the source)."""
    names = [m.source for m in mappings if m.include]
    counts = count_for_suggestions(conn, catalog, names)
    return suggest_placements(catalog, mappings, row_counts=counts)


def suggest_for(
    source: Endpoint, catalog: Catalog, mappings: list[TableMapping], *, apply: bool = False
) -> list[str]:
    """The suggestions for an unattended run (the CLI), one line each with its reason to
    print; with ``apply`` they are also set on the mappings."""
    from coursemig_gui.core.engine.session import open_session

    with open_session(source) as conn:
        suggestions = suggest_with_counts(conn, catalog, mappings)
    if apply:
        apply_suggestions(mappings, suggestions)
    return suggestion_lines(mappings, suggestions)


def describe(suggestion: Suggestion) -> str:
    """ "distributed by pid", "reference", "local"."""
    if suggestion.placement == Placement.DISTRIBUTED:
        return f"distributed by {suggestion.column}"
    return suggestion.placement.value


def suggestion_lines(mappings: list[TableMapping], suggestions: dict[str, Suggestion]) -> list[str]:
    """One line per table, with its reason: what ``coursemig plan`` / ``migrate`` print."""
    return [
        f"{tm.target}: {describe(suggestions[tm.source])} (suggested). "
        f"{suggestions[tm.source].reason}"
        for tm in mappings
        if tm.source in suggestions
    ]


def _size(table: Table, row_counts: Mapping[str, int]) -> Size | None:
    if table.name in row_counts:
        return Size(row_counts[table.name], True)
    if needs_count(table):
        return None  # not counted, and no usable estimate: its size is not known
    return Size(table.row_estimate, False)


def _pick_column(tm: TableMapping, table: Table) -> str | None:
    candidates = distribution_candidates(tm, table)
    return candidates[0] if candidates else None


def suggest_placements(
    catalog: Catalog,
    mappings: list[TableMapping],
    *,
    row_counts: Mapping[str, int] | None = None,
    reference_max_rows: int = REFERENCE_MAX_ROWS,
    distribute_min_rows: int = DISTRIBUTE_MIN_ROWS,
) -> dict[str, Suggestion]:
    """A placement for each included table (by source name), with the reason in a sentence.

    ``row_counts`` (source name -> exact rows, e.g. the Tables page's refined counts or
    ``count_for_suggestions``) are used before the server's estimates; a table with neither is
    left local and the reason says its size is not known. An estimate is never worded as a count.

    Small lookup tables that others refer to -> reference; large tables -> distributed by a
    column of their key; the rest stays local. Then the foreign keys are made to fit: a local
    table a distributed one refers to becomes a reference table when it is small enough.
    """
    included = {m.source: m for m in mappings if m.include and catalog.table(m.source)}
    tables = {s: catalog.table(s) for s in included}
    parents = {s: sorted(p for p in tables[s].parents if p in included) for s in included}
    children = {s: sorted(c for c in included if s in parents[c]) for s in included}
    sizes = {s: _size(tables[s], row_counts or {}) for s in included}
    result: dict[str, Suggestion] = {}

    for s, tm in included.items():
        table, t, size = tables[s], tm.target, sizes[s]
        only_id = table.primary_key == ("id",)
        if size is None:
            result[s] = Suggestion(
                Placement.LOCAL,
                None,
                f"{t}'s size is not known (the source has no row estimate for it and it was not "
                "counted), so it stays local; count its rows for a suggestion.",
            )
            continue
        n = size.rows
        if n >= distribute_min_rows:
            column = _pick_column(tm, table)
            if column is None:
                result[s] = Suggestion(
                    Placement.LOCAL,
                    None,
                    f"{t} is large ({size}) but has no NOT NULL key column to distribute it "
                    "by, so it stays local; choose a NOT NULL column to distribute it.",
                )
            elif only_id:
                result[s] = Suggestion(
                    Placement.DISTRIBUTED,
                    column,
                    f"{t} is large ({size}): distribute it to spread its rows over the "
                    f"worker nodes. Its only key is id, so it can be distributed only by id.",
                )
            else:
                key = _cols(tm.target_column(c) or c for c in table.primary_key)
                result[s] = Suggestion(
                    Placement.DISTRIBUTED,
                    column,
                    f"{t} is large ({size}): distribute it by {column}, a column of its key "
                    f"({key}), to spread its rows over the worker nodes.",
                )
        elif children[s] and not parents[s] and n <= reference_max_rows:
            k = len(children[s])
            result[s] = Suggestion(
                Placement.REFERENCE,
                None,
                f"{t} is a small lookup table ({size}) that {k} other "
                f"table{'s' if k != 1 else ''} refer{'' if k != 1 else 's'} to: a copy on "
                "every node keeps joins with it on one node.",
            )
        else:
            extra = (
                " If you distribute it, its only key is id, so it can be distributed only by id."
                if only_id
                else ""
            )
            result[s] = Suggestion(
                Placement.LOCAL,
                None,
                f"{t} is small ({size}) and can stay a local table on the coordinator.{extra}",
            )

    # Make the foreign keys fit. A table a distributed table refers to must be a reference
    # table (or a co-located distributed one); a reference table may refer only to reference
    # tables. Repeat until nothing changes (each pass only turns local tables into reference).
    changed = True
    while changed:
        changed = False
        for s in included:
            placement = result[s].placement
            for p in parents[s]:
                if result[p].placement != Placement.LOCAL:
                    continue
                if placement == Placement.LOCAL:
                    continue
                if sizes[p] is None or sizes[p].rows > reference_max_rows:
                    continue  # too large (or unknown) to copy everywhere: validation explains
                who = "distributed" if placement == Placement.DISTRIBUTED else "reference"
                result[p] = Suggestion(
                    Placement.REFERENCE,
                    None,
                    f"{included[p].target} is small ({sizes[p]}) and "
                    f"{included[s].target}, a {who} table, refers to it, so it must be a "
                    "reference table (a copy on every node).",
                )
                changed = True
    # A local table that refers to a distributed one cannot stay local: say so.
    for s in included:
        if result[s].placement != Placement.LOCAL:
            continue
        dist_parents = [
            included[p].target for p in parents[s] if result[p].placement == Placement.DISTRIBUTED
        ]
        if dist_parents:
            result[s] = result[s]._replace(
                reason=result[s].reason + f" It refers to {_cols(dist_parents)}, which is "
                "distributed, so it cannot keep that foreign key as a local table: distribute "
                f"{included[s].target} too, or load it without foreign keys."
            )
    return result


def apply_suggestions(mappings: list[TableMapping], suggestions: dict[str, Suggestion]) -> None:
    """Set each mapping's placement from ``suggest_placements`` (the "Use suggestions" button)."""
    for tm in mappings:
        s = suggestions.get(tm.source)
        if s is None:
            continue
        tm.placement = s.placement
        tm.distribution_column = s.column if s.placement == Placement.DISTRIBUTED else None
        if s.placement != Placement.DISTRIBUTED:
            tm.colocate_with = None
