"""Reads what is in a database: tables, columns, keys, Django apps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from coursemig_gui.core.django import DJANGO_APPS, detect_django
from coursemig_gui.core.sequences import SEQUENCES, SequenceState, sequence_states
from coursemig_gui.core.source_indexes import SourceIndex, indexes_by_table, indexes_query

SYSTEM_PREFIXES = ("auth_", "django_")


@dataclass(frozen=True)
class EnumType:
    """A list-of-values type made on the source by hand (``CREATE TYPE … AS ENUM``): its name
    without schema and its values in their order, so the target can be given the same type."""

    name: str
    values: tuple[str, ...]
    oid: int = field(default=0, compare=False)  # the source's own, for reading its values


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as format_type() writes it, e.g. "character varying(200)"
    not_null: bool
    default: str | None = None
    identity: str = ""  # "" | "always" | "by default"
    position: int = 0
    type_oid: int = 0
    enum: EnumType | None = None  # the column's type (or its array's element) is an enum
    # a serial or identity column's sequence (its options; its position once the run read it)
    sequence: SequenceState | None = field(default=None, compare=False)
    # GENERATED ALWAYS AS (this expression) STORED: the server computes its values, which are
    # never copied (COPY refuses them); ``default`` is then None
    generated: str | None = None
    generated_from: tuple[str, ...] = ()  # the table's columns the expression reads
    # the extension the type (or its array's element) comes with, e.g. "citext": a target
    # without it is told to install it
    extension: str | None = field(default=None, compare=False)


# pg_constraint's confdeltype / confupdtype letters, as SQL writes them
FK_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"  # a value of FK_ACTIONS
    on_update: str = "NO ACTION"
    # Django makes its foreign keys DEFERRABLE INITIALLY DEFERRED, and apps rely on it
    deferrable: bool = False
    initially_deferred: bool = False
    # NOT VALID on the source: rows older than the key were never checked, and may break it
    validated: bool = True


@dataclass(frozen=True)
class CheckConstraint:
    """A table's CHECK: its expression as the server writes it (``pg_get_expr``), the columns
    it reads, and whether the server checked the existing rows (False: added NOT VALID)."""

    name: str
    expression: str
    columns: tuple[str, ...]
    validated: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    schema: str = "public"
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[CheckConstraint, ...] = ()
    # the entries of ``unique`` made NULLS NOT DISTINCT (PostgreSQL 15): one NULL, not many
    unique_nulls_not_distinct: tuple[tuple[str, ...], ...] = ()
    row_estimate: int = 0
    # False when the server has no estimate (never VACUUMed or ANALYZEd: reltuples -1), so
    # row_estimate's 0 says nothing; count the rows before saying how big the table is
    row_estimate_known: bool = True
    app: str | None = None
    is_system: bool = False
    is_m2m: bool = False
    sequences: tuple[tuple[str, str], ...] = ()  # (column, sequence name) for serial columns
    # the indexes that back no key: Django's on each ForeignKey, Meta.indexes, partial ones
    indexes: tuple[SourceIndex, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def parents(self) -> set[str]:
        return {fk.ref_table for fk in self.foreign_keys if fk.ref_table != self.name}


@dataclass(frozen=True)
class Catalog:
    schema: str
    tables: tuple[Table, ...]
    is_django: bool = False
    apps: tuple[str, ...] = ()
    reserved_words: frozenset[str] = field(default_factory=frozenset)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def visible(self, include_system: bool = False) -> list[Table]:
        return [t for t in self.tables if include_system or not t.is_system]


_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attnum, a.atttypid,
       pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname),
       {generated} = 's',
       ARRAY(SELECT r.attname FROM pg_depend p
             JOIN pg_attribute r ON r.attrelid = p.refobjid AND r.attnum = p.refobjsubid
             -- the expression's own dependencies (PostgreSQL 15 records them on pg_attrdef;
             -- earlier versions on the column itself)
             WHERE {generated} = 's' AND (p.classid = 'pg_attrdef'::regclass AND p.objid = d.oid
                   OR p.classid = 'pg_class'::regclass AND p.objid = c.oid
                      AND p.objsubid = a.attnum)
               AND p.refclassid = 'pg_class'::regclass AND p.refobjid = c.oid
               AND p.refobjsubid > 0 AND p.refobjsubid <> a.attnum ORDER BY r.attnum),
       (SELECT x.extname FROM pg_type t
        JOIN pg_depend e ON e.classid = 'pg_type'::regclass AND e.deptype = 'e'
             AND e.objid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
        JOIN pg_extension x ON e.refclassid = 'pg_extension'::regclass AND x.oid = e.refobjid
        WHERE t.oid = a.atttypid)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
  -- a partition's rows are read with its partitioned table, which is listed instead
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
                  WHERE h.inhrelid = c.oid AND p.relkind = 'p')
ORDER BY c.relname, a.attnum
"""

# Columns whose type, or whose array's element type, is an enum, with the enum's values in order.
_ENUM_COLUMNS = """
SELECT c.relname, a.attname, e.typname,
       ARRAY(SELECT l.enumlabel FROM pg_enum l WHERE l.enumtypid = e.oid ORDER BY l.enumsortorder),
       e.oid
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type e ON e.oid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND e.typtype = 'e'
"""

_CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
       r.relname,
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i),
       k.condeferrable, k.condeferred, k.confdeltype, k.confupdtype, k.convalidated,
       CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END,
       {nulls_not_distinct}
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON r.oid = k.confrelid
WHERE n.nspname = %s AND k.contype IN ('p', 'u', 'f', 'c')
ORDER BY c.relname, k.contype, k.conname
"""

_UNIQUE_INDEXES = """
SELECT c.relname,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY u(n, o)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n ORDER BY u.o),
       {nulls_not_distinct}
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL
  AND i.indexprs IS NULL AND {no_include}
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
"""

# a unique index with INCLUDE columns (PostgreSQL 11) is unique on its keys alone: it is carried
# as an index (source_indexes.py), not read as a UNIQUE over all its columns
_ONLY_KEYS = "i.indnkeyatts = i.indnatts"

# pg_index.indnullsnotdistinct is new in PostgreSQL 15: an older source has none
_NND_OF_CONSTRAINT = (
    "coalesce((SELECT x.indnullsnotdistinct FROM pg_index x WHERE x.indexrelid = k.conindid), "
    "false)"
)


def _queries(server_version: int) -> tuple[str, str, str]:
    """The column, constraint and unique-index questions for the source's version (constant
    text); pg_attribute.attgenerated is new in PostgreSQL 12."""
    columns = _COLUMNS.format(
        generated="a.attgenerated" if server_version >= 120000 else "''::\"char\""
    )
    if server_version >= 150000:
        return (
            columns,
            _CONSTRAINTS.format(nulls_not_distinct=_NND_OF_CONSTRAINT),
            _UNIQUE_INDEXES.format(
                nulls_not_distinct="i.indnullsnotdistinct", no_include=_ONLY_KEYS
            ),
        )
    return (
        columns,
        _CONSTRAINTS.format(nulls_not_distinct="false"),
        _UNIQUE_INDEXES.format(
            nulls_not_distinct="false",
            no_include=_ONLY_KEYS if server_version >= 110000 else "true",
        ),
    )


_ESTIMATES = """
SELECT c.relname, GREATEST(c.reltuples, 0)::bigint, c.reltuples >= 0
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
"""


_RESERVED_WORDS = "SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')"


def read_reserved_words(conn: psycopg.Connection) -> frozenset[str]:
    """Words that must always be quoted as column or table names (``end``, ``user``, ...)."""
    return frozenset(r[0] for r in conn.execute(_RESERVED_WORDS).fetchall())


def read_catalog(conn: psycopg.Connection, schema: str = "public") -> Catalog:
    """Everything the planner needs about one schema, in a handful of catalog queries."""
    columns: dict[str, list[Column]] = {}
    sequences: dict[str, list[tuple[str, str]]] = {}
    identity_names = {"a": "always", "d": "by default"}
    columns_query, constraints_query, unique_indexes_query = _queries(conn.info.server_version)
    # the catalog's questions in one round trip (pipelined), not one each: to a cloud server
    # each round trip costs tens of milliseconds
    with conn.pipeline():
        asked = {
            query: conn.execute(query, [schema])
            for query in (
                _ENUM_COLUMNS,
                columns_query,
                constraints_query,
                unique_indexes_query,
                _ESTIMATES,
            )
        }
        owned = conn.execute(SEQUENCES, [schema])
        other_indexes = conn.execute(indexes_query(conn.info.server_version), [schema])
        words = conn.execute(_RESERVED_WORDS)
    enums = {
        (rel, name): EnumType(typname, tuple(values), oid)
        for rel, name, typname, values, oid in asked[_ENUM_COLUMNS]
    }
    states = sequence_states(owned.fetchall())
    for row in asked[columns_query]:
        rel, name, typ, notnull, default, ident, num, oid, seq, generated, reads, ext = row
        columns.setdefault(rel, []).append(
            Column(
                name,
                typ,
                notnull,
                None if generated else default,
                identity_names.get(ident, ""),
                num,
                oid,
                enums.get((rel, name)),
                states.get((rel, name)),
                generated=default if generated else None,
                generated_from=tuple(reads) if generated else (),
                extension=ext,
            )
        )
        if seq:
            sequences.setdefault(rel, []).append((name, seq))
    pks: dict[str, tuple[str, ...]] = {}
    uniques: dict[str, list[tuple[str, ...]]] = {}
    not_distinct: dict[str, list[tuple[str, ...]]] = {}
    fks: dict[str, list[ForeignKey]] = {}
    checks: dict[str, list[CheckConstraint]] = {}
    for row in asked[constraints_query]:
        rel, conname, kind, cols, ref, refcols = row[:6]
        deferrable, deferred, on_delete, on_update, validated, expression, nnd = row[6:]
        if kind == "p":
            pks[rel] = tuple(cols)
        elif kind == "u":
            uniques.setdefault(rel, []).append(tuple(cols))
            if nnd:
                not_distinct.setdefault(rel, []).append(tuple(cols))
        elif kind == "c":
            checks.setdefault(rel, []).append(
                CheckConstraint(conname, expression, tuple(cols), validated)
            )
        elif ref is not None:
            fks.setdefault(rel, []).append(
                ForeignKey(
                    conname,
                    tuple(cols),
                    ref,
                    tuple(refcols),
                    FK_ACTIONS.get(on_delete, "NO ACTION"),
                    FK_ACTIONS.get(on_update, "NO ACTION"),
                    deferrable,
                    deferred,
                    validated,
                )
            )
    for rel, cols, nnd in asked[unique_indexes_query]:
        if cols and tuple(cols) not in uniques.get(rel, []):
            uniques.setdefault(rel, []).append(tuple(cols))
            if nnd:
                not_distinct.setdefault(rel, []).append(tuple(cols))
    estimates = {rel: (n, known) for rel, n, known in asked[_ESTIMATES]}
    indexes = indexes_by_table(other_indexes.fetchall())

    is_django, apps = detect_django(conn, schema)
    app_labels = list(apps)
    tables = []
    for rel, cols in columns.items():
        app = _app_of(rel, app_labels) if is_django else None
        fk_list = tuple(fks.get(rel, []))
        tables.append(
            Table(
                name=rel,
                columns=tuple(cols),
                schema=schema,
                primary_key=pks.get(rel, ()),
                unique=tuple(uniques.get(rel, [])),
                foreign_keys=fk_list,
                checks=tuple(checks.get(rel, [])),
                unique_nulls_not_distinct=tuple(not_distinct.get(rel, [])),
                row_estimate=int(estimates.get(rel, (0, False))[0]),
                row_estimate_known=bool(estimates.get(rel, (0, False))[1]),
                app=app,
                is_system=is_django and _is_system(rel, app),
                is_m2m=_looks_like_m2m(cols, fk_list, pks.get(rel, ())),
                sequences=tuple(sequences.get(rel, [])),
                indexes=tuple(indexes.get(rel, [])),
            )
        )
    return Catalog(
        schema=schema,
        tables=tuple(sorted(tables, key=lambda t: t.name)),
        is_django=is_django,
        apps=tuple(app_labels),
        reserved_words=frozenset(r[0] for r in words),
    )


def _app_of(table: str, app_labels: list[str]) -> str | None:
    # The longest label that prefixes the name wins ("auth_user" is auth's, not "a"'s).
    matches = [a for a in app_labels if table.startswith(a + "_")]
    if matches:
        return max(matches, key=len)
    if table.startswith("django_"):
        return "django"
    return None


def _is_system(table: str, app: str | None) -> bool:
    return table.startswith(SYSTEM_PREFIXES) or (app in DJANGO_APPS)


def _looks_like_m2m(cols: list[Column], fks: tuple[ForeignKey, ...], pk: tuple[str, ...]) -> bool:
    """Django's M2M tables: an id plus exactly two FK columns, and nothing else."""
    names = {c.name for c in cols}
    fk_cols = {fk.columns[0] for fk in fks if len(fk.columns) == 1}
    return len(fks) == 2 and names - fk_cols <= {"id"} and len(names) == 3


def count_rows(conn: psycopg.Connection, table: str, schema: str = "public") -> int:
    """The exact number of rows (the estimate can be far off for a freshly loaded table)."""
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def table_exists(conn: psycopg.Connection, table: str, schema: str = "public") -> bool:
    return ask_table_exists(conn, table, schema).fetchone() is not None


def ask_table_exists(
    conn: psycopg.Connection, table: str, schema: str = "public"
) -> psycopg.Cursor:
    """The question ``table_exists`` asks, as a cursor with a row when it does: in a pipeline,
    fetching at once would cost a round trip of its own."""
    return conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
        [schema, table],
    )


def django_model_name(table: str, app: str | None) -> str:
    """``courses_meetingtime`` -> ``meetingtime``: the name without its app prefix."""
    if app and table.startswith(app + "_"):
        return table[len(app) + 1 :]
    return table


def base_type(type_text: str) -> str:
    """``character varying(200)`` -> ``character varying``."""
    return re.sub(r"\(.*\)", "", type_text).strip()
