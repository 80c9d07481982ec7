"""The rules Citus enforces, checked before anything runs, each with its sentence."""

from __future__ import annotations

from collections.abc import Iterable

from coursemig_gui.core.catalog import Catalog, ForeignKey, Table, base_type
from coursemig_gui.core.citus.detection import CitusInfo
from coursemig_gui.core.citus.placement import (
    _distribution_source_column,
    distribution_target_column,
)
from coursemig_gui.core.mapping import Placement, Problem, TableMapping

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
                (
                    c
                    for c in current.included_columns
                    if c.target == distribution_target_column(current)
                ),
                None,
            )
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
    generated = table.column(source_column)
    if generated is not None and generated.generated is not None:
        # measured on Citus 13.2: create_distributed_table refuses it ("Distribution column
        # must not use GENERATED ALWAYS AS (...) STORED."); said before the run instead
        return [
            Problem(
                tm.source,
                f"{t} cannot be distributed by {column}: its values are computed by the "
                f"database (GENERATED ALWAYS AS {generated.generated}), and Citus does not "
                "distribute a table by a generated column. Choose another column.",
                column=source_column,
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


# Measured on Citus 13.2: it refuses the first; it takes the second without an error, but a
# DELETE on the distributed table does not check the local rows, so the key would not hold.
_WHY_NO_FK_TO_DISTRIBUTED = {
    Placement.REFERENCE: "Citus does not allow a foreign key from a reference table to a "
    "distributed table",
    Placement.LOCAL: "Citus accepts a foreign key from a local table to a distributed table but "
    "does not enforce it when rows of the distributed table are deleted, so it is not made",
}


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
                    f"distributed. {_WHY_NO_FK_TO_DISTRIBUTED[tm.placement]}. "
                    + _way_out(tm, table, parent_tm, fk),
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


def _way_out(tm: TableMapping, table: Table, parent_tm: TableMapping, fk: ForeignKey) -> str:
    """What keeps ``tm``'s foreign key to the distributed ``parent_tm``, in a sentence.

    Citus allows it only from a table distributed by the key's column, co-located with the
    parent (a reference table may not refer to a distributed one). That needs the column in
    every primary key and UNIQUE of the table, NOT NULL. Where the Django schema does not allow
    it (``section``'s key is ``crn``), the way out is the parent as a reference table."""
    child, parent = tm.target, parent_tm.target
    parent_col = _distribution_source_column(parent_tm)
    column = next(
        (c for c, r in zip(fk.columns, fk.ref_columns, strict=False) if r == parent_col), None
    )
    target_column = (tm.target_column(column) or column) if column else None
    leave_out = f"leave {child} out of this migration"
    if column is None:
        return f"To keep it, make {parent} a reference table, or {leave_out}."
    blockers = [
        k
        for k in ((table.primary_key,) if table.primary_key else ()) + table.unique
        if column not in k
    ]
    col = table.column(column)
    if not blockers and col is not None and col.not_null:
        return (
            f"To keep it, distribute {child} by {target_column}, co-located with {parent}; "
            f"or make {parent} a reference table, or {leave_out}."
        )
    if blockers:
        key = _cols(tm.target_column(c) or c for c in blockers[0])
        what = "primary key" if blockers[0] == table.primary_key else "unique constraint"
        why = f"its {what} ({key}) does not include {target_column}"
    else:
        why = f"{target_column} allows NULL"
    return (
        f"{child} cannot be distributed by {target_column} to keep it ({why}), so make "
        f"{parent} a reference table (a copy on every node, for a table of modest size), "
        f"or {leave_out}."
    )


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
        table = catalog.table(tm.source)
        advice = _way_out(tm, table, parent_tm, fk) if table else ""
        return [
            Problem(
                tm.source,
                f"{child} refers to {parent} through ({fk_cols}), which does not include "
                f"{distribution_target_column(tm)}, the column {child} is distributed by. A "
                "foreign key between distributed tables must join their distribution columns. "
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
