"""The source's other indexes: those that back no key (PRIMARY KEY, UNIQUE and EXCLUDE constraints
are read as such, and so are plain-column unique indexes), read with the catalog so a new target
table gets them too. Django makes one on every ForeignKey column, one for ``db_index=True`` and
``Meta.indexes`` (GIN, GiST, partial, on expressions), and partial or expression unique indexes
for ``UniqueConstraint(condition=…)`` and ``UniqueConstraint(Lower("name"))``.

Each key is a column's name or an expression as the source's server writes it
(``pg_get_indexdef(index, k, false)``), with its operator class where it is not a default one,
its collation where it is not the column's (or its type's), and its order. The manifest of an
export package carries them as JSON (docs/export-package.md)."""

from __future__ import annotations

from dataclasses import dataclass

# one row per index; the arrays are aligned with the index's columns (keys, then INCLUDE)
_INDEXES = """
SELECT c.relname, ic.relname, am.amname, i.indisunique, {key_count},
       ARRAY(SELECT coalesce(a.attname::text, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY
             u(n, o) LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n
             AND u.n > 0 ORDER BY u.o),
       ARRAY(SELECT CASE WHEN u.n = 0 THEN pg_get_indexdef(i.indexrelid, u.o::int, false)
                    ELSE '' END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(n, o) ORDER BY u.o),
       -- a default operator class is left to the target, which picks its own for the type
       ARRAY(SELECT CASE WHEN oc.opcdefault THEN '' ELSE oc.opcname::text END
             FROM unnest(i.indclass::oid[]) WITH ORDINALITY u(k, o)
             JOIN pg_opclass oc ON oc.oid = u.k ORDER BY u.o),
       ARRAY(SELECT CASE WHEN u.k <> 0 AND u.k <> coalesce(a.attcollation, t.typcollation)
                    THEN co.collname::text ELSE '' END
             FROM unnest(i.indcollation::oid[]) WITH ORDINALITY u(k, o)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[u.o - 1]
                  AND i.indkey[u.o - 1] > 0
             LEFT JOIN pg_attribute ia ON ia.attrelid = i.indexrelid AND ia.attnum = u.o
             LEFT JOIN pg_type t ON t.oid = ia.atttypid
             LEFT JOIN pg_collation co ON co.oid = u.k ORDER BY u.o),
       i.indoption::int2[],
       pg_get_expr(i.indpred, i.indrelid),
       {nulls_not_distinct},
       -- every column it reads: keys, INCLUDE, and inside its expressions and condition
       ARRAY(SELECT DISTINCT a.attname::text FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
               AND d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indrelid
               AND d.refobjsubid > 0)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND i.indisvalid AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
                  WHERE h.inhrelid = c.oid AND p.relkind = 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
  -- a plain unique index on columns (no INCLUDE) is read as a UNIQUE key (catalog.py)
  AND NOT (i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
           AND {key_count} = i.indnatts)
ORDER BY c.relname, ic.relname
"""


def indexes_query(server_version: int) -> str:
    """The question for the source's version (constant text): INCLUDE columns are new in
    PostgreSQL 11, NULLS NOT DISTINCT in 15."""
    return _INDEXES.format(
        key_count="i.indnkeyatts" if server_version >= 110000 else "i.indnatts",
        nulls_not_distinct="i.indnullsnotdistinct" if server_version >= 150000 else "false",
    )


@dataclass(frozen=True)
class IndexKey:
    """One key of an index: a column (``column``) or an expression (``expression``, the
    server's text)."""

    column: str | None = None
    expression: str | None = None
    opclass: str | None = None  # only where not the default for the type
    collation: str | None = None  # only where not the column's (or the expression type's)
    descending: bool = False
    nulls_first: bool = False  # ASC NULLS LAST and DESC NULLS FIRST are the defaults

    @property
    def nulls_not_default(self) -> bool:
        return self.nulls_first != self.descending


@dataclass(frozen=True)
class SourceIndex:
    name: str
    method: str  # the access method: btree, gin, gist, hash, brin, …
    unique: bool
    keys: tuple[IndexKey, ...]
    include: tuple[str, ...] = ()
    predicate: str | None = None  # WHERE …, as the server writes it
    nulls_not_distinct: bool = False
    columns: tuple[str, ...] = ()  # every column of the table it reads

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The plain columns among its keys."""
        return tuple(k.column for k in self.keys if k.column)

    @property
    def plain(self) -> bool:
        """Only columns, no expression and no condition."""
        return self.predicate is None and all(k.column for k in self.keys)


def indexes_by_table(rows: list[tuple]) -> dict[str, list[SourceIndex]]:
    """The query's rows as each table's indexes."""
    found: dict[str, list[SourceIndex]] = {}
    for row in rows:
        rel, name, method, unique, key_count, names, expressions = row[:7]
        opclasses, collations, options, predicate, nnd, reads = row[7:]
        keys = tuple(
            IndexKey(
                column=names[k] or None,
                expression=None if names[k] else expressions[k],
                opclass=opclasses[k] or None,
                collation=collations[k] or None,
                descending=bool((options[k] or 0) & 1),
                nulls_first=bool((options[k] or 0) & 2),
            )
            for k in range(key_count)
        )
        found.setdefault(rel, []).append(
            SourceIndex(
                name,
                method,
                bool(unique),
                keys,
                tuple(names[key_count:]),
                predicate,
                bool(nnd),
                tuple(sorted(reads)),
            )
        )
    return found


# -- the manifest's "indexes" -------------------------------------------------------------------


def index_json(index: SourceIndex) -> dict:
    keys = []
    for key in index.keys:
        data: dict = {"column": key.column} if key.column else {"expression": key.expression}
        if key.opclass:
            data["opclass"] = key.opclass
        if key.collation:
            data["collation"] = key.collation
        if key.descending:
            data["descending"] = True
        if key.nulls_not_default:
            data["nulls_first"] = key.nulls_first
        keys.append(data)
    return {
        "name": index.name,
        "method": index.method,
        "unique": index.unique,
        "keys": keys,
        "include": list(index.include),
        **({"predicate": index.predicate} if index.predicate is not None else {}),
        **({"nulls_not_distinct": True} if index.nulls_not_distinct else {}),
        "columns": list(index.columns),
    }


def index_from_json(data: dict) -> SourceIndex:
    """An index of the manifest; its names go into SQL as identifiers and its expressions are
    read token by token before they are used (``index_statements``)."""
    keys = []
    for key in data["keys"]:
        column, expression = key.get("column"), key.get("expression")
        if (column is None) == (expression is None):
            raise ValueError(f"a key of the index {data.get('name')} is not a column or expression")
        descending = bool(key.get("descending", False))
        keys.append(
            IndexKey(
                str(column) if column is not None else None,
                str(expression) if expression is not None else None,
                str(key["opclass"]) if key.get("opclass") else None,
                str(key["collation"]) if key.get("collation") else None,
                descending,
                bool(key.get("nulls_first", descending)),
            )
        )
    predicate = data.get("predicate")
    return SourceIndex(
        str(data["name"]),
        str(data["method"]),
        bool(data["unique"]),
        tuple(keys),
        tuple(str(c) for c in data.get("include", [])),
        str(predicate) if predicate is not None else None,
        bool(data.get("nulls_not_distinct", False)),
        # an older or hand-made entry without "columns": at least the plain ones
        tuple(str(c) for c in data.get("columns", [*(k.column for k in keys if k.column)])),
    )
