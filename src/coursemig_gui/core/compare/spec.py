"""What to compare for one table: its key, its column pairs (through renames) and the SQL that
each server runs to hash its rows, so only keys and hashes cross the wire."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from coursemig_gui.core.catalog import Catalog, Table, base_type
from coursemig_gui.core.mapping import TableMapping

# Keys of these types are sorted as numbers (an index can serve the ORDER BY); every other key
# is sorted as its text in the "C" collation: byte order, which is Python's order for str too.
_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
# An explicit cast to varchar(n) or char(n) cuts longer values without an error: a retyped
# column is read as the unlimited type, so a longer value still shows as a difference.
_UNLIMITED = {"character varying": "character varying", "varchar": "character varying",
              "character": "bpchar", "char": "bpchar", "bpchar": "bpchar"}  # fmt: skip


@dataclass(frozen=True)
class ColumnPair:
    source: str
    target: str
    source_type: str  # as the source server writes it, e.g. "character varying(200)"
    target_type: str

    @property
    def compare_type(self) -> str:
        """The type both sides' values are read as: the source's, without a length limit."""
        base = base_type(self.source_type)
        return _UNLIMITED.get(base, self.source_type)

    @property
    def integer_key(self) -> bool:
        return base_type(self.source_type) in _INTEGER_TYPES


@dataclass(frozen=True)
class TableSpec:
    source: str
    target: str
    source_schema: str
    target_schema: str
    columns: tuple[ColumnPair, ...] = ()
    key: tuple[ColumnPair, ...] = ()  # empty: compared as a multiset of whole rows
    key_kind: str = ""  # "primary key" | "unique key" | ""
    left_out: tuple[str, ...] = ()  # source columns the migration does not copy
    problem: str = ""  # why this table cannot be compared (a plain sentence)

    @property
    def multiset(self) -> bool:
        return not self.key

    @property
    def key_names(self) -> list[str]:
        return [c.source for c in self.key]


def build_spec(
    tm: TableMapping,
    source: Catalog,
    target: Catalog,
) -> TableSpec:
    """Pair the mapping's columns with both catalogs; say why, when the table cannot be compared."""
    spec = TableSpec(tm.source, tm.target, source.schema, target.schema)
    src_table, tgt_table = source.table(tm.source), target.table(tm.target)
    if src_table is None:
        return _with(spec, problem=f"The source has no table {tm.source} any more.")
    if tgt_table is None:
        return _with(spec, problem=f"The target has no table {tm.target}.")
    pairs: list[ColumnPair] = []
    missing: list[str] = []
    for cm in tm.included_columns:
        scol, tcol = src_table.column(cm.source), tgt_table.column(cm.target)
        if scol is None:
            return _with(spec, problem=f"The source table {tm.source} has no column {cm.source} "
                                       "any more.")  # fmt: skip
        if tcol is None:
            if scol.generated is None:
                missing.append(cm.target)
            # else a generated column the new table could not be given (the run said why);
            # compared are the values the target has, generated ones included
            continue
        pairs.append(ColumnPair(cm.source, cm.target, scol.type, tcol.type))
    if missing:
        return _with(spec, problem=f"The target table {tm.target} has no column "
                                   f"{', '.join(missing)}.")  # fmt: skip
    if not pairs:
        return _with(spec, problem=f"No column of {tm.source} is copied, so there is nothing "
                                   "to compare.")  # fmt: skip
    included = {c.name for c in src_table.columns} & {p.source for p in pairs}
    left_out = tuple(c.name for c in src_table.columns if c.name not in included)
    kind, key_names = choose_key(src_table, included)
    by_name = {p.source: p for p in pairs}
    return TableSpec(tm.source, tm.target, source.schema, target.schema, tuple(pairs),
                     tuple(by_name[n] for n in key_names), kind, left_out)  # fmt: skip


def choose_key(table: Table, included: set[str]) -> tuple[str, tuple[str, ...]]:
    """The primary key, else a unique key whose columns are all copied and never empty (NULL
    is never equal to NULL, so a nullable unique key does not identify a row)."""
    if table.primary_key and set(table.primary_key) <= included:
        return "primary key", table.primary_key
    for unique in table.unique:
        cols = [table.column(n) for n in unique]
        if set(unique) <= included and all(c is not None and c.not_null for c in cols):
            return "unique key", unique
    return "", ()


def _with(spec: TableSpec, **changes) -> TableSpec:
    from dataclasses import replace

    return replace(spec, **changes)


# -- SQL ----------------------------------------------------------------------------------------


def _value(pair: ColumnPair, side: str) -> sql.Composable:
    """A column read as the comparison type: the target's value cast to the source's type, so a
    renamed or retyped column compares on meaning; untouched when the types agree."""
    if side == "source" or pair.target_type == pair.source_type:
        return sql.Identifier(pair.source if side == "source" else pair.target)
    column = sql.Identifier(pair.target)
    # the type text is the server's own (format_type), not anything a user typed
    return sql.SQL("({})::{}").format(column, sql.SQL(pair.compare_type))


def key_expression(pair: ColumnPair, side: str) -> sql.Composable:
    value = _value(pair, side)
    if pair.integer_key:
        return sql.SQL("({})::bigint").format(value)
    # "|| ''" makes the text a computed value: Citus sends a bare varchar::text key from the
    # shards as varchar, and the coordinator then refuses the row ("attribute 1 of type record
    # has wrong type")
    return sql.SQL("(({})::text || '') COLLATE \"C\"").format(value)


def key_array_type(pair: ColumnPair) -> sql.Composable:
    return sql.SQL("bigint[]" if pair.integer_key else "text[]")


def row_hash(spec: TableSpec, side: str, method: str) -> sql.Composable:
    """One number per row, computed by the server: its values as one record text, hashed.

    A record's text quotes what needs quoting and leaves NULL empty (an empty string is ""),
    so different rows give different texts. ``hashtextextended`` (PostgreSQL 11+) is a plain
    function a non-superuser may call, where Azure disables md5(); ``sha256`` is used when the
    two servers store text in different encodings, since the first hashes the stored bytes.
    """
    record = sql.SQL('(ROW({})::text COLLATE "C")').format(
        sql.SQL(", ").join(_value(p, side) for p in spec.columns)
    )
    if method == "sha256":
        return sql.SQL("sha256(convert_to({}, 'UTF8'))").format(record)
    return sql.SQL("hashtextextended({}, 0)").format(record)


def _table(spec: TableSpec, side: str) -> sql.Composable:
    if side == "source":
        return sql.Identifier(spec.source_schema, spec.source)
    return sql.Identifier(spec.target_schema, spec.target)


def hash_query(spec: TableSpec, side: str, method: str) -> sql.Composed:
    """Keys and row hashes, sorted by key (a multiset: the hashes alone, sorted)."""
    hashed = row_hash(spec, side, method)
    if spec.multiset:
        return sql.SQL("SELECT {} AS h FROM {} ORDER BY 1").format(hashed, _table(spec, side))
    keys = [key_expression(p, side) for p in spec.key]
    return sql.SQL("SELECT {}, {} FROM {} WHERE {} ORDER BY {}").format(
        sql.SQL(", ").join(keys),
        hashed,
        _table(spec, side),
        sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(k) for k in keys),
        sql.SQL(", ").join(sql.SQL(str(i)) for i in range(1, len(keys) + 1)),
    )


def empty_key_count_query(spec: TableSpec, side: str) -> sql.Composed:
    """Rows whose key is empty (a target table without the source's key can hold them): they
    match no source row."""
    return sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
        _table(spec, side),
        sql.SQL(" OR ").join(
            sql.SQL("{} IS NULL").format(key_expression(p, side)) for p in spec.key
        ),
    )


def empty_key_values_query(spec: TableSpec, side: str) -> sql.Composed:
    """The values, as text, of the first rows (parameter: how many) whose key is empty: they
    are counted as only in the target, and shown like the others."""
    texts = sql.SQL(", ").join(sql.SQL("({})::text").format(_value(p, side)) for p in spec.columns)
    return sql.SQL("SELECT {} FROM {} WHERE {} LIMIT %s").format(
        texts,
        _table(spec, side),
        sql.SQL(" OR ").join(
            sql.SQL("{} IS NULL").format(key_expression(p, side)) for p in spec.key
        ),
    )


def values_query(spec: TableSpec, side: str, method: str) -> sql.Composed:
    """The values, as text, of the rows named by key (parameters: one array per key column),
    after their key and row hash (which tells apart the rows a target holds under one key), or,
    for a multiset, by row hash (one array of hashes), after that hash."""
    texts = sql.SQL(", ").join(sql.SQL("({})::text").format(_value(p, side)) for p in spec.columns)
    if spec.multiset:
        hash_type = sql.SQL("bytea[]" if method == "sha256" else "bigint[]")
        return sql.SQL(
            "SELECT coursemig_row_hash, {texts} FROM (SELECT {hashed} AS coursemig_row_hash, * "
            "FROM {table}) AS r WHERE coursemig_row_hash IN (SELECT unnest(%s::{hash_type}))"
        ).format(texts=texts, hashed=row_hash(spec, side, method), table=_table(spec, side),
                 hash_type=hash_type)  # fmt: skip
    keys = [key_expression(p, side) for p in spec.key]
    return sql.SQL("SELECT {keys}, {hashed}, {texts} FROM {table} WHERE ({keys}) IN "
                   "(SELECT * FROM unnest({arrays}))").format(
        keys=sql.SQL(", ").join(keys), hashed=row_hash(spec, side, method), texts=texts,
        table=_table(spec, side),
        arrays=sql.SQL(", ").join(sql.SQL("%s::{}").format(key_array_type(p)) for p in spec.key),
    )  # fmt: skip
