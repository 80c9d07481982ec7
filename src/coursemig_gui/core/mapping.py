"""What goes where: table and column mappings, their default rules, and their validation."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from coursemig_gui.core.catalog import Catalog, Table, base_type, django_model_name
from coursemig_gui.core.type_changes import lossy_change
from coursemig_gui.core.type_grammar import name_problem, type_problem


class IfExists(StrEnum):
    """What to do when the target table is already there."""

    FAIL = "fail"  # stop: never touch a table the user did not ask us to touch
    APPEND = "append"
    REPLACE = "replace"  # TRUNCATE and load, in one transaction
    SKIP = "skip"


class Placement(StrEnum):
    """Where a table lives on a Citus cluster (only offered when the target has Citus)."""

    LOCAL = "local"
    REFERENCE = "reference"
    DISTRIBUTED = "distributed"


@dataclass
class ColumnMapping:
    source: str
    target: str
    target_type: str
    include: bool = True
    source_type: str | None = None  # the source column's type when the mapping was made


@dataclass
class TableMapping:
    source: str
    target: str
    columns: list[ColumnMapping] = field(default_factory=list)
    include: bool = True
    if_exists: IfExists = IfExists.FAIL
    placement: Placement = Placement.LOCAL
    distribution_column: str | None = None
    colocate_with: str | None = None

    @property
    def included_columns(self) -> list[ColumnMapping]:
        return [c for c in self.columns if c.include]

    def column(self, source: str) -> ColumnMapping | None:
        return next((c for c in self.columns if c.source == source), None)

    def target_column(self, source: str) -> str | None:
        mapped = self.column(source)
        return mapped.target if mapped and mapped.include else None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["if_exists"] = self.if_exists.value
        data["placement"] = self.placement.value
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TableMapping:
        data = dict(data)
        columns = [ColumnMapping(**c) for c in data.pop("columns", [])]
        return cls(
            columns=columns,
            if_exists=IfExists(data.pop("if_exists", "fail")),
            placement=Placement(data.pop("placement", "local")),
            **data,
        )


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a look) with a plan, said in a sentence for a person."""

    table: str
    message: str
    severity: str = "error"  # "error" blocks the run; "warning" does not
    column: str | None = None
    fix: str | None = None  # a suggested value, e.g. the new name for a reserved word

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


# A reserved word gets a descriptive suffix rather than a number: end -> end_time.
_RENAME_SUFFIX = {
    "start": "start_time",
    "end": "end_time",
    "order": "sort_order",
    "user": "user_name",
    "group": "group_name",
    "table": "table_name",
    "default": "default_value",
    "limit": "limit_value",
    "check": "check_value",
    "from": "from_value",
    "to": "to_value",
}


def suggest_rename(name: str) -> str:
    """A name that is not a reserved word: ``end`` -> ``end_time``."""
    return _RENAME_SUFFIX.get(name.lower(), f"{name}_value")


def default_target_name(table: Table, keep_names: bool = False) -> str:
    """Strip the Django app prefix: ``courses_course`` -> ``course``."""
    if keep_names:
        return table.name
    return django_model_name(table.name, table.app)


def default_mapping(table: Table, keep_names: bool = False) -> TableMapping:
    return TableMapping(
        source=table.name,
        target=default_target_name(table, keep_names),
        columns=[ColumnMapping(c.name, c.name, c.type, source_type=c.type) for c in table.columns],
    )


def add_new_columns(tm: TableMapping, table: Table) -> list[str]:
    """Columns the source gained since ``tm`` was saved, added to it as a new mapping would
    have them (copied, under their own names), so the Columns page shows them to choose;
    their names."""
    known = {cm.source for cm in tm.columns}
    added = [c for c in table.columns if c.name not in known]
    tm.columns.extend(ColumnMapping(c.name, c.name, c.type, source_type=c.type) for c in added)
    return [c.name for c in added]


def default_mappings(
    catalog: Catalog, tables: Iterable[str] | None = None, keep_names: bool = False
) -> list[TableMapping]:
    """Mappings for the named tables (default: every non-system table), in catalog order."""
    names = set(tables) if tables is not None else {t.name for t in catalog.visible()}
    return [default_mapping(t, keep_names) for t in catalog.tables if t.name in names]


def apply_renames(
    mappings: list[TableMapping],
    table_renames: dict[str, str] | None = None,
    column_renames: dict[tuple[str, str], str] | None = None,
) -> None:
    """Apply ``--rename-table SRC=DST`` and ``--rename-column SRC_TABLE.COL=NEW``."""
    for tm in mappings:
        if table_renames and tm.source in table_renames:
            tm.target = table_renames[tm.source]
        for cm in tm.columns:
            key = (tm.source, cm.source)
            if column_renames and key in column_renames:
                cm.target = column_renames[key]


def rename_reserved_words(mappings: list[TableMapping], reserved: frozenset[str]) -> int:
    """The one-click fix: rename every reserved-word column. Returns how many were renamed."""
    count = 0
    for tm in mappings:
        for cm in tm.columns:
            if cm.include and cm.target.lower() in reserved:
                cm.target = suggest_rename(cm.target)
                count += 1
    return count


_VARCHAR = re.compile(r"^(character varying|varchar|character|char)\s*\((\d+)\)$", re.I)
_NUMERIC_ORDER = ["smallint", "integer", "bigint", "numeric"]
_TEXTY = {"text", "character varying", "varchar", "character", "char"}


def narrowing_reason(source_type: str, target_type: str) -> str | None:
    """Why the target type may not hold every source value, or None when it surely can."""
    s, t = source_type.strip().lower(), target_type.strip().lower()
    if s == t:
        return None
    sm, tm = _VARCHAR.match(s), _VARCHAR.match(t)
    if tm and (base_type(s) == "text" or (sm and int(sm.group(2)) > int(tm.group(2)))):
        return f"{target_type} is shorter than {source_type}: longer values will be rejected"
    sb, tb = base_type(s), base_type(t)
    if sb in _NUMERIC_ORDER and tb in _NUMERIC_ORDER:
        if sb == "numeric" and tb != "numeric":
            return (
                f"{target_type} holds whole numbers only: numbers with a fraction, and "
                "numbers too large for it, will be rejected"
            )
        if _NUMERIC_ORDER.index(tb) < _NUMERIC_ORDER.index(sb):
            return f"{target_type} holds smaller numbers than {source_type}: large values will be rejected"
        return None
    if sb in _TEXTY and tb in _TEXTY:
        return None
    if tb == "text":
        return None
    return (
        f"values change type from {source_type} to {target_type}: rows that do not convert "
        "will be rejected, and a value that converts may still change (rounded, cut or "
        "rewritten): the check after the load finds it, unless the check is turned off"
    )


def validate(mappings: list[TableMapping], catalog: Catalog) -> list[Problem]:
    """Everything wrong with the plan, before anything runs. Errors block; warnings inform."""
    problems: list[Problem] = []
    included = [m for m in mappings if m.include]
    seen: dict[str, str] = {}
    for tm in included:
        table = catalog.table(tm.source)
        if table is None:
            problems.append(
                Problem(tm.source, f"The table {tm.source} is no longer in the source database.")
            )
            continue
        if not tm.target:
            problems.append(Problem(tm.source, f"{tm.source} needs a target table name."))
        if too_long := name_problem("table", tm.target):
            problems.append(Problem(tm.source, too_long))
        key = tm.target  # quoted names are exact: "Course" and "course" are two tables
        if key in seen:
            problems.append(
                Problem(
                    tm.source,
                    f"{seen[key]} and {tm.source} would both be copied into "
                    f"the table {tm.target}. Give one of them another name.",
                )
            )
        seen[key] = tm.source
        if tm.target.lower() in catalog.reserved_words:
            problems.append(
                Problem(
                    tm.source,
                    f"The table name {tm.target} is a reserved word in "
                    "PostgreSQL. It keeps working, but must always be written in quotes.",
                    "warning",
                    fix=suggest_rename(tm.target),
                )
            )
        problems.extend(_validate_columns(tm, table, catalog))
        for parent in sorted(table.parents):
            if parent not in {m.source for m in included}:
                parent_table = catalog.table(parent)
                parent_target = next((m.target for m in mappings if m.source == parent), None) or (
                    default_target_name(parent_table) if parent_table else parent
                )
                problems.append(
                    Problem(tm.source, unselected_parent(tm.target, parent_target), "warning")
                )
    problems.extend(_history_without_its_tables(included, catalog))
    return problems


def unselected_parent(child: str, parent: str) -> str:
    """What a table whose parent is not selected becomes: foreign keys are made only between
    tables of the same run, so none to the parent, and no row is checked against it."""
    return (
        f"{child} refers to {parent}, which is not selected, so {child} is copied without that "
        f"foreign key and its rows are not checked against {parent}. Select {parent} too, or "
        "add the key by hand once both are in the target."
    )


def _history_without_its_tables(included: list[TableMapping], catalog: Catalog) -> list[Problem]:
    """Django's migration history copied without some of Django's own tables: Django would
    believe them there, so ``manage.py migrate`` would not make them and the app would fail."""
    chosen = {m.source for m in included}
    if "django_migrations" not in chosen:
        return []
    missing = [t.name for t in catalog.tables if t.is_system and t.name not in chosen]
    if not missing:
        return []
    return [
        Problem(
            "django_migrations",
            "django_migrations (Django's migration history) is copied, so Django will take "
            f"{', '.join(missing)} as already there. Copy them too, or leave django_migrations "
            "out so that 'manage.py migrate' creates them.",
            "warning",
        )
    ]


def _validate_columns(tm: TableMapping, table: Table, catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    names: dict[str, str] = {}
    known = {cm.source for cm in tm.columns}
    for col in table.columns:
        if col.name not in known:
            # a saved migration that never saw it copies the rest, as a nightly run should;
            # said, since every check compares only the columns copied
            problems.append(
                Problem(
                    tm.source,
                    f"The column {tm.source}.{col.name} was added to the source since this "
                    "migration was saved, so it is not copied. To copy it, open the migration "
                    "in the wizard (its Columns page shows the new column) or plan it again.",
                    "warning",
                    col.name,
                )
            )
    for cm in tm.columns:
        col = table.column(cm.source)
        if col is None:
            problems.append(
                Problem(
                    tm.source,
                    f"The column {cm.source} is no longer in {tm.source}.",
                    column=cm.source,
                )
            )
            continue
        if cm.include and cm.source_type and cm.source_type != col.type:
            # The source changed since the mapping was made (a saved migration). A target type
            # copied from the old type would cut or reject values: the person chooses again.
            unchosen = cm.target_type == cm.source_type
            problems.append(
                Problem(
                    tm.source,
                    f"The column {tm.source}.{cm.source} changed type from "
                    f"{cm.source_type} to {col.type} since this migration was saved. "
                    f"Choose its target type again ({col.type} keeps every value) on "
                    "the Columns page, or plan the migration again.",
                    "error" if unchosen else "warning",
                    cm.source,
                )
            )
            if unchosen:
                continue
        if not cm.include:
            if cm.source in table.primary_key:
                problems.append(
                    Problem(
                        tm.source,
                        f"{cm.source} is part of {tm.source}'s key and cannot be left out.",
                        column=cm.source,
                    )
                )
            elif (
                col.not_null
                and col.default is None
                and not col.identity
                and tm.if_exists == IfExists.APPEND
            ):
                problems.append(
                    Problem(
                        tm.source,
                        f"{cm.source} is required in {tm.target} but left out.",
                        column=cm.source,
                    )
                )
            continue
        if not cm.target:
            problems.append(
                Problem(tm.source, f"The column {cm.source} needs a target name.", column=cm.source)
            )
            continue
        for unfit in (name_problem("column", cm.target), type_problem(cm.target, cm.target_type)):
            if unfit:
                problems.append(Problem(tm.source, unfit, column=cm.source))
        if cm.target in names:  # exact, as PostgreSQL compares quoted names
            problems.append(
                Problem(
                    tm.source,
                    f"{names[cm.target]} and {cm.source} would both "
                    f"become {tm.target}.{cm.target}.",
                    column=cm.source,
                )
            )
        names[cm.target] = cm.source
        if cm.target.lower() in catalog.reserved_words:
            problems.append(
                Problem(
                    tm.source,
                    f"{cm.target} is a reserved word in PostgreSQL. It keeps "
                    "working, but must always be written in quotes. Rename it to "
                    f"{suggest_rename(cm.target)}?",
                    "warning",
                    cm.source,
                    suggest_rename(cm.target),
                )
            )
        lossy = lossy_change(col.type, cm.target_type)
        if lossy:  # the server would not say a word: stop before the run
            problems.append(
                Problem(
                    tm.source,
                    f"{tm.target}.{cm.target}: {lossy}. Choose {col.type} (it keeps every value) "
                    "or a wider type.",
                    column=cm.source,
                    fix=col.type,
                )
            )
            continue
        reason = narrowing_reason(col.type, cm.target_type)
        if reason:
            problems.append(
                Problem(tm.source, f"{tm.target}.{cm.target}: {reason}.", "warning", cm.source)
            )
    if not tm.included_columns:
        problems.append(Problem(tm.source, f"{tm.source} has no columns selected."))
    return problems


def select_tables(
    catalog: Catalog,
    tables: Iterable[str] | None = None,
    apps: Iterable[str] | None = None,
    include_system: bool = False,
) -> list[str]:
    """The tables a selection names: explicit tables, whole Django apps, or every visible one.

    Raises ValueError with a sentence naming what was not found.
    """
    names = {t.name for t in catalog.tables}
    chosen: list[str] = []
    if tables:
        unknown = [t for t in tables if t not in names]
        if unknown:
            raise ValueError(f"The source has no table named {', '.join(unknown)}.")
        chosen.extend(tables)
    if apps:
        for app in apps:
            found = [t.name for t in catalog.tables if t.app == app]
            if not found:
                known = ", ".join(sorted({t.app for t in catalog.tables if t.app})) or "none"
                raise ValueError(f"The source has no Django app named {app} (apps: {known}).")
            chosen.extend(n for n in found if n not in chosen)
    if not tables and not apps:
        chosen = [t.name for t in catalog.visible(include_system)]
    if not chosen:  # a run of no tables would end in a success that copied nothing
        if not catalog.tables:
            raise ValueError(
                f'The source has no tables in the schema "{catalog.schema}" (or no schema of '
                "that name), so there is nothing to copy."
            )
        raise ValueError(
            "The source holds only Django's own tables (auth_*, django_*), which are left out "
            "unless asked for, so there is nothing to copy."
        )
    return chosen
