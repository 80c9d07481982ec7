"""Citus targets (Azure Cosmos DB for PostgreSQL, Elastic Clusters): detection, placement
suggestions, the rules Citus enforces (checked before anything runs), and the statements that
distribute a table.

A table on a Citus cluster is *local* (a plain table on the coordinator), a *reference* table
(a full copy on every node, for small lookup tables) or *distributed* by one column (its rows
spread over the worker nodes by a hash of that column). Placement is offered only when the target
has Citus; ``run_migration`` refuses a non-local placement on a plain PostgreSQL target.

How a run on Citus goes (see ``plan.py``): create every new table and distribute it while it is
still empty -> load the reference and local tables and commit -> load the distributed tables ->
add the foreign keys -> move sequences and identities past their largest value (on the
coordinator). Foreign keys come after the loads because Citus checks them across nodes, and a
table's load must not wait for another table's shards.

Parallel loading: ``MigrationOptions.loaders`` tables load at once, each over its own
connections. Each COPY into a distributed table opens one connection per shard on the worker
nodes (up to ``citus.max_adaptive_executor_pool_size`` per worker), so N loaders into tables of
32 shards may hold N x 32 worker connections: keep the cap low on small clusters.

The unique-constraint choice: Citus can only enforce a UNIQUE constraint that includes the
distribution column. Django's ``course`` has ``UNIQUE (slug)`` besides its key ``pid``; distributing
it by ``pid`` cannot keep that constraint. Rather than block such a table, the check reports a
*warning* that says so, and ``ddl.create_table`` leaves that constraint out of a distributed
table (the values are unique in the source; new rows are no longer checked). A PRIMARY KEY
without the distribution column is an *error*: a table without its key is not what the user
asked for. To keep such a UNIQUE, distribute the table by a column of that constraint instead.

Every Citus error text the tool expects is in ``CITUS_MESSAGES``, so a run against a real
cluster can check them (``citus_error_kind``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import psycopg
from psycopg import sql

from coursemig_gui.core.catalog import Catalog, ForeignKey, Table, base_type
from coursemig_gui.core.mapping import Placement, Problem, TableMapping

# -- Citus's own error texts ----------------------------------------------------------------------


@dataclass(frozen=True)
class CitusMessage:
    """An error Citus raises, as its source writes it; ``{name}`` marks a substituted part."""

    sqlstate: str
    message: str
    detail: str = ""

    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"\{\w+\}", self.message)
        return re.compile(".+?".join(re.escape(p) for p in parts), re.S)


# Taken from Citus's source (create_distributed_table.c, foreign_constraint.c, multi_copy.c,
# colocation_utils.c) and DESIGN.md's measurements on Citus 13.2. Matched on the words of the
# primary message: Citus's messages are not translated, and its SQLSTATEs are not always specific.
CITUS_MESSAGES: dict[str, CitusMessage] = {
    # create_distributed_table on a table whose PRIMARY KEY / UNIQUE lacks the column
    "constraint_without_distribution_column": CitusMessage(
        "42P16",
        'cannot create constraint on "{table}"',
        "Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do "
        "not include the partition column (with an equality operator if EXCLUDE).",
    ),
    "fk_from_reference_or_local_to_distributed": CitusMessage(
        "0A000",
        "cannot create foreign key constraint since foreign keys from reference tables and "
        "local tables to distributed tables are not supported",
        "Reference tables and local tables can only have foreign keys to reference tables and "
        "local tables",
    ),
    "fk_not_colocated": CitusMessage(
        "0A000",
        "cannot create foreign key constraint since relations are not colocated or not "
        "referencing a reference table",
        "A distributed table can only have foreign keys if it is referencing another colocated "
        "hash distributed table or a reference table",
    ),
    "fk_without_distribution_column": CitusMessage(
        "0A000",
        "cannot create foreign key constraint",
        "Foreign keys are supported in two cases, either in between two colocated tables "
        "including partition column in the same ordinal in the both tables or from distributed "
        "to reference tables",
    ),
    # COPY of a row with NULL in the distribution column (multi_copy.c)
    "null_distribution_column": CitusMessage(
        "22004", "the partition column of table {table} cannot be NULL"
    ),
    "colocate_type_mismatch": CitusMessage(
        "XX000",
        "cannot colocate tables {table} and {other}",
        "Distribution column types don't match for {table} and {other}.",
    ),
    # measured (DESIGN.md): unique violations from a worker come back as XX000 with the shard's
    # constraint name ("dt_pkey_102012") and no COPY context line; rejects.is_row_error and
    # rejects.strip_shard_suffix rely on this shape.
    "unique_violation_on_worker": CitusMessage(
        "XX000", 'duplicate key value violates unique constraint "{constraint}"'
    ),
}

# Most specific first: "cannot create foreign key constraint" alone is a prefix of the others.
_MATCH_ORDER = (
    "fk_from_reference_or_local_to_distributed",
    "fk_not_colocated",
    "constraint_without_distribution_column",
    "null_distribution_column",
    "colocate_type_mismatch",
    "unique_violation_on_worker",
    "fk_without_distribution_column",
)


def citus_error_kind(exc: BaseException | str) -> str | None:
    """Which ``CITUS_MESSAGES`` entry an error is, or None."""
    if isinstance(exc, psycopg.Error) and exc.diag and exc.diag.message_primary:
        text = exc.diag.message_primary
    else:
        text = str(exc)
    for key in _MATCH_ORDER:
        if CITUS_MESSAGES[key].pattern().fullmatch(text.strip()):
            return key
    return None


def explain_citus_error(exc: BaseException, tm: TableMapping | None = None) -> str | None:
    """A plain sentence for an error Citus raised (None when it is not one of Citus's)."""
    kind = citus_error_kind(exc)
    t = tm.target if tm else "the table"
    column = distribution_target_column(tm) if tm else None
    by = f" ({column})" if column else ""
    sentences = {
        "constraint_without_distribution_column": (
            f"Citus refused to distribute {t}: every primary key and unique constraint of a "
            f"distributed table must include its distribution column{by}."
        ),
        "fk_from_reference_or_local_to_distributed": (
            "Citus refused a foreign key: a reference or local table cannot refer to a "
            "distributed table."
        ),
        "fk_not_colocated": (
            "Citus refused a foreign key: a distributed table can refer only to reference tables "
            "and to distributed tables co-located with it."
        ),
        "fk_without_distribution_column": (
            "Citus refused a foreign key: between distributed tables it must join their "
            "distribution columns."
        ),
        "null_distribution_column": (
            f"A row has no value in the distribution column{by} of {t}; Citus needs one in every row."
        ),
        "colocate_type_mismatch": (
            f"Citus cannot co-locate {t} with the chosen table: their distribution columns have "
            "different types."
        ),
        "unique_violation_on_worker": "A row repeats a key that is already in the table.",
    }
    return sentences.get(kind) if kind else None


# -- detection ------------------------------------------------------------------------------------

# Tests define create_distributed_table / create_reference_table on plain PostgreSQL to record the
# calls (Citus cannot be installed there). They are recognised only with this comment on them,
# so no user's function of the same name is ever taken for Citus.
STANDIN_COMMENT = "coursemig stand-in for Citus"


@dataclass(frozen=True)
class CitusInfo:
    """What the target's Citus is: its version and how many worker nodes it has."""

    version: str | None  # the extension's version, e.g. "12.1-1"; None for the stand-in
    worker_count: int | None = None  # None when it could not be read
    standin: bool = False  # the test stand-in functions, not a real Citus

    @property
    def short_version(self) -> str:
        """ "12.1-1" -> "12.1"."""
        return (self.version or "").split("-")[0]

    def summary(self) -> str:
        """One line for the connection card: "Citus 12.1, 2 worker nodes"."""
        if self.standin:
            return "Citus stand-in functions (a test database, not a Citus cluster)"
        text = f"Citus {self.short_version}"
        n = self.worker_count
        if n is None:
            return text
        if n == 0:
            return f"{text}, no worker nodes (a single node holds every shard)"
        return f"{text}, {n} worker node{'s' if n != 1 else ''}"


def _probe(conn: psycopg.Connection, query: str, params: list | None = None) -> list[tuple] | None:
    # A probe that may fail (no such catalog, no permission) must not spoil the connection:
    # a savepoint (or a transaction on an autocommit connection) rolls back only the probe.
    try:
        with conn.transaction():
            return conn.execute(query, params).fetchall()
    except psycopg.Error:
        return None


def detect_citus(conn: psycopg.Connection) -> CitusInfo | None:
    """Citus on this connection's database, or None for plain PostgreSQL."""
    rows = _probe(conn, "SELECT extversion FROM pg_extension WHERE extname = 'citus'")
    if rows:
        workers = _probe(
            conn,
            "SELECT count(*) FROM pg_dist_node"
            " WHERE groupid <> 0 AND noderole = 'primary' AND isactive",
        )
        if workers is None:
            workers = _probe(conn, "SELECT count(*) FROM citus_get_active_worker_nodes()")
        return CitusInfo(rows[0][0], int(workers[0][0]) if workers else None)
    standin = _probe(
        conn,
        "SELECT count(DISTINCT p.proname) FROM pg_proc p"
        " WHERE p.proname IN ('create_distributed_table', 'create_reference_table')"
        " AND pg_function_is_visible(p.oid)"
        " AND obj_description(p.oid, 'pg_proc') = %s",
        [STANDIN_COMMENT],
    )
    if standin and standin[0][0] == 2:
        return CitusInfo(None, None, standin=True)
    return None


# -- statements -----------------------------------------------------------------------------------


def distribution_target_column(tm: TableMapping) -> str | None:
    """The target column ``tm`` is distributed by. ``distribution_column`` names the target
    column (after renames); a source column name is accepted when no target column has it."""
    name = tm.distribution_column
    if not name:
        return None
    included = tm.included_columns
    if any(cm.target == name for cm in included):
        return name
    match = next((cm for cm in included if cm.source == name), None)
    return match.target if match else None


def _distribution_source_column(tm: TableMapping) -> str | None:
    target = distribution_target_column(tm)
    return next((cm.source for cm in tm.included_columns if cm.target == target), None)


def _regclass(schema: str, table: str) -> sql.Composable:
    # The server quotes the name (format %I), so no name is ever pasted into SQL text.
    return sql.SQL("format('%I.%I', {}::text, {}::text)::regclass").format(
        sql.Literal(schema), sql.Literal(table)
    )


def placement_statement(
    tm: TableMapping, schema: str = "public", mappings: Iterable[TableMapping] = ()
) -> sql.Composed | None:
    """``SELECT create_reference_table(...)`` / ``create_distributed_table(...)`` for a mapping,
    to run while the table is empty; None for a local table. ``mappings`` resolve a
    ``colocate_with`` given as a source table name to its target name."""
    if tm.placement == Placement.REFERENCE:
        return sql.SQL("SELECT create_reference_table({})").format(_regclass(schema, tm.target))
    if tm.placement != Placement.DISTRIBUTED:
        return None
    column = distribution_target_column(tm)
    if column is None:
        raise ValueError(f"{tm.target}: no distribution column")
    colocate = (tm.colocate_with or "default").strip()
    if colocate.lower() in ("default", "none"):
        colocate_sql: sql.Composable = sql.Literal(colocate.lower())
    else:
        other = next((m.target for m in mappings if colocate in (m.source, m.target)), colocate)
        # colocate_with is parsed as a (possibly qualified) name by Citus: quote it server-side
        colocate_sql = sql.SQL("format('%I.%I', {}::text, {}::text)").format(
            sql.Literal(schema), sql.Literal(other)
        )
    # the distribution column is a plain column name to Citus (not quoted SQL): pass it as is
    return sql.SQL("SELECT create_distributed_table({}, {}, colocate_with => {})").format(
        _regclass(schema, tm.target), sql.Literal(column), colocate_sql
    )


def creation_order(mappings: list[TableMapping]) -> list[TableMapping]:
    """The given order, except that a table co-located with another comes after it (Citus
    needs the other table distributed first)."""
    by_name = {}
    for m in mappings:
        by_name.setdefault(m.source, m)
        by_name.setdefault(m.target, m)
    done: set[str] = set()
    ordered: list[TableMapping] = []

    def visit(tm: TableMapping, path: set[str]) -> None:
        if tm.source in done or tm.source in path:
            return
        other = by_name.get((tm.colocate_with or "").strip())
        if tm.placement == Placement.DISTRIBUTED and other is not None and other is not tm:
            visit(other, path | {tm.source})
        done.add(tm.source)
        ordered.append(tm)

    for tm in mappings:
        visit(tm, set())
    return ordered


def load_stages(ordered: list[TableMapping]) -> list[list[TableMapping]]:
    """Reference and local tables first (committed before the next stage), then distributed."""
    first = [tm for tm in ordered if tm.placement != Placement.DISTRIBUTED]
    second = [tm for tm in ordered if tm.placement == Placement.DISTRIBUTED]
    return [stage for stage in (first, second) if stage]


def unenforceable_uniques(tm: TableMapping, table: Table) -> list[tuple[str, ...]]:
    """UNIQUE constraints (source column names) a distributed table cannot keep because they
    lack its distribution column; ``ddl.create_table`` leaves them out."""
    if tm.placement != Placement.DISTRIBUTED:
        return []
    column = _distribution_source_column(tm)
    if column is None:
        return []
    return [u for u in table.unique if column not in u]


def distribution_candidates(tm: TableMapping, table: Table) -> list[str]:
    """Target column names ``tm`` can be distributed by without breaking its primary key or
    allowing NULL: every NOT NULL column of the key, or any NOT NULL column if it has none.
    Columns that keep every UNIQUE constraint come first."""
    included = {cm.source: cm.target for cm in tm.included_columns}
    names = list(table.primary_key) if table.primary_key else [c.name for c in table.columns]
    ok = [n for n in names if n in included and table.column(n) and table.column(n).not_null]
    keeps_all = [n for n in ok if all(n in u for u in table.unique)]
    return [included[n] for n in keeps_all + [n for n in ok if n not in keeps_all]]


# -- the rules, checked before running ------------------------------------------------------------


def _cols(names: Iterable[str]) -> str:
    return ", ".join(names)


def _kind(tm: TableMapping) -> str:
    return "reference" if tm.placement == Placement.REFERENCE else "local"


def _colocation_group(tm: TableMapping, by_name: dict[str, TableMapping]) -> tuple[str, str]:
    """What decides co-location: an explicit table, "none" (alone), or by column type."""
    seen: set[str] = set()
    current = tm
    while True:
        colocate = (current.colocate_with or "default").strip()
        if colocate.lower() == "none":
            return ("alone", current.source)
        if colocate.lower() == "default":
            cm = next(
                (c for c in current.included_columns
                 if c.target == distribution_target_column(current)), None,
            )  # fmt: skip
            return ("type", base_type(cm.target_type).lower() if cm else "")
        other = by_name.get(colocate)
        if other is None or other.placement != Placement.DISTRIBUTED or other.source in seen:
            return ("table", colocate)
        seen.add(current.source)
        current = other


def require_citus(mappings: list[TableMapping], citus: CitusInfo | None) -> list[Problem]:
    """A reference or distributed table needs a Citus target."""
    if citus is not None:
        return []
    placed = [m for m in mappings if m.include and m.placement != Placement.LOCAL]
    if not placed:
        return []
    names = _cols(m.target for m in placed)
    return [
        Problem(
            placed[0].source,
            f"The target database is not a Citus cluster, so {names} cannot be made distributed "
            "or reference tables there. Set them to local, or connect to a Citus target such as "
            "Azure Cosmos DB for PostgreSQL.",
        )
    ]


def validate_placements(
    mappings: list[TableMapping], catalog: Catalog, *, foreign_keys: bool = True
) -> list[Problem]:
    """Citus's rules for the chosen placements, in plain sentences. Errors block the run.

    ``foreign_keys=False`` (the run creates no foreign keys) skips the foreign-key rules.
    """
    included = [m for m in mappings if m.include]
    by_source = {m.source: m for m in included}
    by_name: dict[str, TableMapping] = {}
    for m in included:
        by_name.setdefault(m.source, m)
        by_name.setdefault(m.target, m)
    problems: list[Problem] = []
    for tm in included:
        table = catalog.table(tm.source)
        if table is None:
            continue  # mapping.validate already says the table is gone
        if tm.placement == Placement.DISTRIBUTED:
            problems.extend(_distributed_rules(tm, table, by_name, catalog))
        if foreign_keys:
            problems.extend(_foreign_key_rules(tm, table, by_source, by_name, catalog))
    return problems


def _distributed_rules(
    tm: TableMapping, table: Table, by_name: dict[str, TableMapping], catalog: Catalog
) -> list[Problem]:
    t = tm.target
    if not tm.distribution_column:
        return [Problem(tm.source, f"Choose the column to distribute {t} by.")]
    column = distribution_target_column(tm)
    source_column = _distribution_source_column(tm)
    if column is None or source_column is None:
        return [
            Problem(
                tm.source,
                f"{t} cannot be distributed by {tm.distribution_column}: it is not one of the "
                f"columns copied into {t}.",
                column=tm.distribution_column,
            )
        ]
    problems: list[Problem] = []
    mapped = {cm.source: cm.target for cm in tm.included_columns}
    if table.primary_key and source_column not in table.primary_key:
        key = _cols(mapped.get(c, c) for c in table.primary_key)
        only_id = table.primary_key == ("id",)
        advice = (
            f"{t}'s only key is id, so it can be distributed only by id."
            if only_id
            else f"Distribute {t} by a column of its key, or make it a reference table."
        )
        problems.append(
            Problem(
                tm.source,
                f"{t} cannot be distributed by {column}: its primary key ({key}) does not include "
                f"{column}, and on a distributed table the primary key must include the "
                f"distribution column. {advice}",
                column=source_column,
                fix=mapped.get(table.primary_key[0]) if len(table.primary_key) == 1 else None,
            )
        )
    for unique in table.unique:
        if source_column in unique:
            continue
        cols = _cols(mapped.get(c, c) for c in unique)
        problems.append(
            Problem(
                tm.source,
                f"{t} is distributed by {column}, so its unique constraint on ({cols}) cannot be "
                "kept: Citus can only enforce unique constraints that include the distribution "
                f"column. It will be left out of the target table, and new rows will not be "
                f"checked for duplicate ({cols}).",
                "warning",
                column=source_column,
            )
        )
    col = table.column(source_column)
    if col is not None and not col.not_null:
        problems.append(
            Problem(
                tm.source,
                f"{t}.{column} allows NULL, but {t} is distributed by it: the distribution column "
                "must be NOT NULL, and rows with NULL in it would be rejected. Distribute "
                f"{t} by a NOT NULL column, such as its key.",
                column=source_column,
            )
        )
    colocate = (tm.colocate_with or "").strip()
    if colocate and colocate.lower() not in ("default", "none"):
        other = by_name.get(colocate)
        if other is None:
            problems.append(
                Problem(
                    tm.source,
                    f"{t} is to be co-located with {colocate}, which is not part of this "
                    "migration: it must already be a distributed table in the target.",
                    "warning",
                )
            )
        elif other.placement != Placement.DISTRIBUTED:
            problems.append(
                Problem(
                    tm.source,
                    f"{t} is to be co-located with {other.target}, which is not a distributed "
                    f"table. Distribute {other.target} too, or choose another table to "
                    "co-locate with.",
                )
            )
        else:
            mine, theirs = _dist_type(tm), _dist_type(other)
            if mine and theirs and mine != theirs:
                problems.append(
                    Problem(
                        tm.source,
                        f"{t} cannot be co-located with {other.target}: their distribution "
                        f"columns have different types ({mine} and {theirs}).",
                    )
                )
    return problems


def _dist_type(tm: TableMapping) -> str:
    column = distribution_target_column(tm)
    cm = next((c for c in tm.included_columns if c.target == column), None)
    return base_type(cm.target_type).lower() if cm else ""


def _foreign_key_rules(
    tm: TableMapping,
    table: Table,
    by_source: dict[str, TableMapping],
    by_name: dict[str, TableMapping],
    catalog: Catalog,
) -> list[Problem]:
    problems: list[Problem] = []
    child = tm.target
    for fk in table.foreign_keys:
        parent_tm = by_source.get(fk.ref_table)
        if parent_tm is None or parent_tm is tm:
            continue  # no FK is made to a table outside the run; self-references stay inside
        if any(tm.target_column(c) is None for c in fk.columns):
            continue  # a left-out column: ddl makes no FK
        parent = parent_tm.target
        fk_cols = _cols(tm.target_column(c) or c for c in fk.columns)
        child_dist = tm.placement == Placement.DISTRIBUTED
        parent_dist = parent_tm.placement == Placement.DISTRIBUTED
        if parent_dist and not child_dist:
            problems.append(
                Problem(
                    tm.source,
                    f"{child} is a {_kind(tm)} table and refers to {parent}, which is "
                    "distributed. Citus does not allow a foreign key from a reference or local "
                    f"table to a distributed table: make {parent} a reference table, or "
                    f"distribute {child} too.",
                )
            )
        elif child_dist and parent_tm.placement == Placement.LOCAL:
            problems.append(
                Problem(
                    tm.source,
                    f"{child} is distributed and refers to {parent}, a local table. A "
                    "distributed table can refer only to reference tables and to distributed "
                    f"tables co-located with it: make {parent} a reference table.",
                )
            )
        elif child_dist and parent_dist:
            problems.extend(_distributed_fk(tm, parent_tm, fk, fk_cols, by_name, catalog))
    return problems


def _distributed_fk(
    tm: TableMapping,
    parent_tm: TableMapping,
    fk: ForeignKey,
    fk_cols: str,
    by_name: dict[str, TableMapping],
    catalog: Catalog,
) -> list[Problem]:
    child, parent = tm.target, parent_tm.target
    child_col = _distribution_source_column(tm)
    parent_col = _distribution_source_column(parent_tm)
    if child_col is None or parent_col is None:
        return []  # the missing column is reported by _distributed_rules
    pairs = list(zip(fk.columns, fk.ref_columns, strict=False))
    if (child_col, parent_col) not in pairs:
        matching = next((c for c, r in pairs if r == parent_col), None)
        advice = (
            f"distribute {child} by {tm.target_column(matching) or matching} to keep it, or "
            f"make {parent} a reference table."
            if matching
            else f"make {parent} a reference table."
        )
        return [
            Problem(
                tm.source,
                f"{child} refers to {parent} through ({fk_cols}), which does not include "
                f"{distribution_target_column(tm)}, the column {child} is distributed by. A "
                "foreign key between distributed tables must join their distribution columns: "
                + advice,
            )
        ]
    group = _colocation_group(tm, by_name)
    other = _colocation_group(parent_tm, by_name)
    if group != other:
        return [
            Problem(
                tm.source,
                f"{child} refers to {parent}, so the two must be co-located (stored on the same "
                f"nodes by their distribution columns): co-locate {child} with {parent}.",
                fix=parent,
            )
        ]
    return []


# -- suggestions ----------------------------------------------------------------------------------

# Small enough to copy to every node; large enough that spreading it pays off. Row counts are
# the catalog's estimates.
REFERENCE_MAX_ROWS = 100_000
DISTRIBUTE_MIN_ROWS = 100_000


class Suggestion(NamedTuple):
    placement: Placement
    column: str | None  # the target column to distribute by (distributed only)
    reason: str


def _rows(n: int) -> str:
    return f"about {n:,} rows"


def _pick_column(tm: TableMapping, table: Table) -> str | None:
    candidates = distribution_candidates(tm, table)
    return candidates[0] if candidates else None


def suggest_placements(
    catalog: Catalog,
    mappings: list[TableMapping],
    *,
    reference_max_rows: int = REFERENCE_MAX_ROWS,
    distribute_min_rows: int = DISTRIBUTE_MIN_ROWS,
) -> dict[str, Suggestion]:
    """A placement for each included table (by source name), with the reason in a sentence.

    Small lookup tables that others refer to -> reference; large tables -> distributed by a
    column of their key; the rest stays local. Then the foreign keys are made to fit: a local
    table a distributed one refers to becomes a reference table when it is small enough.
    """
    included = {m.source: m for m in mappings if m.include and catalog.table(m.source)}
    tables = {s: catalog.table(s) for s in included}
    parents = {s: sorted(p for p in tables[s].parents if p in included) for s in included}
    children = {s: sorted(c for c in included if s in parents[c]) for s in included}
    result: dict[str, Suggestion] = {}

    for s, tm in included.items():
        table, t, n = tables[s], tm.target, tables[s].row_estimate
        only_id = table.primary_key == ("id",)
        if n >= distribute_min_rows:
            column = _pick_column(tm, table)
            if column is None:
                result[s] = Suggestion(
                    Placement.LOCAL, None,
                    f"{t} is large ({_rows(n)}) but has no NOT NULL key column to distribute it "
                    "by, so it stays local; choose a NOT NULL column to distribute it.",
                )  # fmt: skip
            elif only_id:
                result[s] = Suggestion(
                    Placement.DISTRIBUTED, column,
                    f"{t} is large ({_rows(n)}): distribute it to spread its rows over the "
                    f"worker nodes. Its only key is id, so it can be distributed only by id.",
                )  # fmt: skip
            else:
                key = _cols(tm.target_column(c) or c for c in table.primary_key)
                result[s] = Suggestion(
                    Placement.DISTRIBUTED, column,
                    f"{t} is large ({_rows(n)}): distribute it by {column}, a column of its key "
                    f"({key}), to spread its rows over the worker nodes.",
                )  # fmt: skip
        elif children[s] and not parents[s] and n <= reference_max_rows:
            k = len(children[s])
            result[s] = Suggestion(
                Placement.REFERENCE, None,
                f"{t} is a small lookup table ({_rows(n)}) that {k} other "
                f"table{'s' if k != 1 else ''} refer{'' if k != 1 else 's'} to: a copy on "
                "every node keeps joins with it on one node.",
            )  # fmt: skip
        else:
            extra = (
                " If you distribute it, its only key is id, so it can be distributed only by id."
                if only_id
                else ""
            )
            result[s] = Suggestion(
                Placement.LOCAL, None,
                f"{t} is small ({_rows(n)}) and can stay a local table on the coordinator.{extra}",
            )  # fmt: skip

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
                if tables[p].row_estimate > reference_max_rows:
                    continue  # too large to copy everywhere: validation will explain
                who = "distributed" if placement == Placement.DISTRIBUTED else "reference"
                result[p] = Suggestion(
                    Placement.REFERENCE, None,
                    f"{included[p].target} is small ({_rows(tables[p].row_estimate)}) and "
                    f"{included[s].target}, a {who} table, refers to it, so it must be a "
                    "reference table (a copy on every node).",
                )  # fmt: skip
                changed = True
    # A local table that refers to a distributed one cannot stay local: say so.
    for s in included:
        if result[s].placement != Placement.LOCAL:
            continue
        dist_parents = [included[p].target for p in parents[s]
                        if result[p].placement == Placement.DISTRIBUTED]  # fmt: skip
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
