"""An export as a package: the CSV files, ``schema.sql`` and a manifest, ``coursemig-export.json``,
that says what each file holds (types, keys, row count) and how to prove it arrived whole
(the file's SHA-256 and the content checksum of its rows). The format is in docs/export-package.md.

The manifest is written last and atomically, so a folder with a manifest is a finished export; a
folder without one is treated like CSV files from anywhere else.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from coursemig_gui.core.catalog import (
    FK_ACTIONS,
    Catalog,
    CheckConstraint,
    Column,
    EnumType,
    ForeignKey,
    Table,
    django_model_name,
)
from coursemig_gui.core.content_checksum import format_checksum, parse_checksum
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.private_files import open_private
from coursemig_gui.core.sequences import sequence_from_json, sequence_json
from coursemig_gui.core.source_indexes import index_from_json, index_json

MANIFEST_NAME = "coursemig-export.json"
SCHEMA_NAME = "schema.sql"
FORMAT_NAME = "coursemig-export"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class PackageTable:
    """One exported table: its definition (exported columns only, source names), its file and
    the figures that prove the file."""

    table: Table
    file: str
    rows: int
    sha256: str
    content_checksum: int
    # the names chosen for it where it was exported (schema.sql has them): an import starts
    # from them, so the package gives the same tables by either way in
    import_as: str = ""
    column_names: tuple[tuple[str, str], ...] = ()  # (exported name, name chosen) if renamed

    @property
    def model(self) -> str | None:
        return django_model_name(self.table.name, self.table.app) if self.table.app else None


@dataclass(frozen=True)
class Package:
    tables: tuple[PackageTable, ...]
    source_schema: str = "public"
    created: str = ""
    version: int = FORMAT_VERSION
    encoding: str = "utf-8"
    delimiter: str = ","

    def entry(self, source: str) -> PackageTable | None:
        return next((t for t in self.tables if t.table.name == source), None)

    def chosen_names(self) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
        """The table and column names chosen at export, keyed by the exported names."""
        tables = {t.table.name: t.import_as for t in self.tables if t.import_as}
        columns = {(t.table.name, c): new for t in self.tables for c, new in t.column_names}
        return tables, columns

    def catalog(self, reserved_words: frozenset[str] = frozenset()) -> Catalog:
        """The exported tables as a catalog, so the engine plans an import like a direct copy:
        parents before children, the same types, keys and foreign keys."""
        apps = tuple(sorted({t.table.app for t in self.tables if t.table.app}))
        return Catalog(
            schema=self.source_schema,
            tables=tuple(t.table for t in self.tables),
            is_django=bool(apps),
            apps=apps,
            reserved_words=reserved_words,
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def exported_table(table: Table, columns: list[str], generated: list[str] = ()) -> Table:
    """The table as far as the file holds it: only the exported columns, and only the keys and
    foreign keys made of them; then the ``generated`` columns the file leaves to the table to
    compute. A column whose values are in the file is a plain one there."""
    by_name = {c.name: c for c in table.columns}
    computed = [
        n for n in generated if n not in columns and by_name.get(n) and by_name[n].generated
    ]
    kept = set(columns) | set(computed)
    cols = tuple(
        replace(by_name[name], position=i, generated=None, generated_from=())
        if name in columns
        else replace(by_name[name], position=i)
        for i, name in enumerate([*columns, *computed], 1)
        if name in by_name
    )
    return replace(
        table,
        columns=cols,
        primary_key=table.primary_key if set(table.primary_key) <= kept else (),
        unique=tuple(u for u in table.unique if set(u) <= kept),
        unique_nulls_not_distinct=tuple(
            u for u in table.unique_nulls_not_distinct if set(u) <= kept
        ),
        foreign_keys=tuple(fk for fk in table.foreign_keys if set(fk.columns) <= kept),
        # all of them, also one reading a column left out: the import says it cannot make it
        checks=table.checks,
        indexes=table.indexes,
    )


def package_entry(
    table: Table,
    columns: list[str],
    path: Path,
    rows: int,
    checksum: int,
    generated: list[str] = (),
) -> PackageTable:
    """A finished table's entry (``generated``: columns listed but not in the file); reads the
    file once for its SHA-256."""
    table = replace(exported_table(table, columns, generated), row_estimate=rows)
    return PackageTable(table, path.name, rows, file_sha256(path), checksum)


# -- writing --------------------------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    # only its owner may read it, as the CSV files it describes (their figures, their names)
    with open_private(part, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    part.replace(path)


def remove_manifest(folder: Path) -> None:
    """Before an export writes into a folder: an earlier export's manifest would vouch for files
    this one is about to replace."""
    for name in (MANIFEST_NAME, SCHEMA_NAME):
        (Path(folder) / name).unlink(missing_ok=True)


def named_as(entry: PackageTable, mapping) -> PackageTable:
    """The entry with the names its export chose (``mapping``, a ``TableMapping``): a table
    name only when renamed by hand (either naming an import offers itself, Django's or the
    source's, stays the import's choice)."""
    table = entry.table
    own = mapping.target not in (table.name, django_model_name(table.name, table.app))
    renamed = tuple(
        (cm.source, cm.target) for cm in mapping.included_columns if cm.target != cm.source
    )
    return replace(entry, import_as=mapping.target if own else "", column_names=renamed)


def _column_json(column: Column, named: str | None = None) -> dict:
    data: dict = {"name": column.name, "type": column.type, "not_null": column.not_null}
    if named:
        data["import_as"] = named
    if column.identity:
        data["identity"] = column.identity
    elif (column.default or "").startswith("nextval("):
        data["identity"] = "serial"  # kept as an identity: the next INSERT gets a fresh id
    if column.enum is not None:  # the type is made where the package is imported
        data["enum"] = {"name": column.enum.name, "values": list(column.enum.values)}
    if column.sequence is not None:  # so the import's next id is the source's next id
        data["sequence"] = sequence_json(column.sequence)
    if column.generated is not None:  # computed where imported; its values are not in the file
        data["generated"] = column.generated
        data["generated_from"] = list(column.generated_from)
    return data


def _table_json(entry: PackageTable) -> dict:
    t = entry.table
    return {
        "name": t.name,
        "app": t.app,
        "model": entry.model,
        "file": entry.file,
        **({"import_as": entry.import_as} if entry.import_as else {}),
        "columns": [_column_json(c, dict(entry.column_names).get(c.name)) for c in t.columns],
        "primary_key": list(t.primary_key),
        "unique": [list(u) for u in t.unique],
        "unique_nulls_not_distinct": [list(u) for u in t.unique_nulls_not_distinct],
        "foreign_keys": [
            {
                "name": fk.name,
                "columns": list(fk.columns),
                "references": fk.ref_table,
                "ref_columns": list(fk.ref_columns),
                "on_delete": fk.on_delete,
                "on_update": fk.on_update,
                "deferrable": fk.deferrable,
                "initially_deferred": fk.initially_deferred,
                **({} if fk.validated else {"validated": False}),
            }
            for fk in t.foreign_keys
        ],
        "checks": [
            {
                "name": c.name,
                "expression": c.expression,
                "columns": list(c.columns),
                "validated": c.validated,
            }
            for c in t.checks
        ],
        "indexes": [index_json(i) for i in t.indexes],
        "rows": entry.rows,
        "sha256": entry.sha256,
        "content_checksum": format_checksum(entry.content_checksum),
    }


def manifest_json(package: Package) -> str:
    from coursemig_gui import __version__

    data = {
        "format": FORMAT_NAME,
        "version": package.version,
        "created": package.created,
        "coursemig": __version__,
        "source_schema": package.source_schema,
        "encoding": package.encoding,
        "delimiter": package.delimiter,
        "content_checksum": "blake2b-64 sum over COPY (FORMAT csv) rows, UTC, ISO dates",
        "tables": [_table_json(t) for t in package.tables],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_package(
    folder: Path, entries: list[PackageTable], source_schema: str, schema_sql: str
) -> Package:
    """``schema.sql``, then the manifest, each written whole or not at all; the manifest last."""
    folder = Path(folder)
    package = Package(
        tuple(entries),
        source_schema=source_schema,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _atomic_write(folder / SCHEMA_NAME, schema_sql)
    _atomic_write(folder / MANIFEST_NAME, manifest_json(package))
    return package


# -- reading --------------------------------------------------------------------------------------


def _bad_manifest(folder: Path, why: str) -> FriendlyError:
    return FriendlyError(
        f"The manifest {MANIFEST_NAME} in {folder} cannot be used: {why}. Export the tables "
        f"again, or remove {MANIFEST_NAME} to import the files without it.",
        why,
    )


def _column(data: dict, position: int) -> Column:
    identity = data.get("identity", "")
    if identity == "serial":
        identity = "by default"  # a serial comes back as an identity: same next id, no owner
    enum = data.get("enum")
    sequence = data.get("sequence")  # absent from an older CourseMig's manifest
    generated = data.get("generated")  # absent from an older manifest: a plain column
    return Column(
        data["name"],
        data["type"],
        bool(data["not_null"]),
        identity="" if generated is not None else identity,
        position=position,
        enum=EnumType(enum["name"], tuple(enum["values"])) if enum else None,
        sequence=sequence_from_json(sequence) if sequence else None,
        # the expression is read token by token before it is used (check_constraints.py)
        generated=str(generated) if generated is not None else None,
        generated_from=tuple(data.get("generated_from", [])) if generated is not None else (),
    )


def _action(data: dict, key: str) -> str:
    # written into the foreign key's SQL, so only one of the five words SQL has
    action = data.get(key, "NO ACTION")
    if action not in FK_ACTIONS.values():
        raise ValueError(f"{key} {action!r} of the foreign key {data.get('name')} is not an action")
    return action


def _foreign_key(data: dict) -> ForeignKey:
    # the fields after ref_columns are newer: an older manifest has none (NOT DEFERRABLE, NO
    # ACTION, as such a package was always imported)
    return ForeignKey(
        data["name"],
        tuple(data["columns"]),
        data["references"],
        tuple(data["ref_columns"]),
        _action(data, "on_delete"),
        _action(data, "on_update"),
        bool(data.get("deferrable", False)),
        bool(data.get("initially_deferred", False)),
        bool(data.get("validated", True)),
    )


def _entry(data: dict, schema: str) -> PackageTable:
    table = Table(
        name=data["name"],
        columns=tuple(_column(c, i) for i, c in enumerate(data["columns"], 1)),
        schema=schema,
        primary_key=tuple(data.get("primary_key", [])),
        unique=tuple(tuple(u) for u in data.get("unique", [])),
        unique_nulls_not_distinct=tuple(
            tuple(u) for u in data.get("unique_nulls_not_distinct", [])
        ),
        foreign_keys=tuple(_foreign_key(fk) for fk in data.get("foreign_keys", [])),
        # the expression is read token by token before it is used (check_constraints.py)
        checks=tuple(
            CheckConstraint(
                c["name"], str(c["expression"]), tuple(c["columns"]), bool(c["validated"])
            )
            for c in data.get("checks", [])
        ),
        # absent from an older manifest: no index beyond the keys, as it was imported then
        indexes=tuple(index_from_json(i) for i in data.get("indexes", [])),
        row_estimate=int(data["rows"]),
        app=data.get("app"),
    )
    return PackageTable(
        table,
        data["file"],
        int(data["rows"]),
        data["sha256"],
        parse_checksum(data["content_checksum"]),
        data.get("import_as", ""),
        tuple((c["name"], c["import_as"]) for c in data["columns"] if c.get("import_as")),
    )


def read_package(folder: Path) -> Package | None:
    """The folder's manifest, or None when it has none (CSV files made elsewhere)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _bad_manifest(folder, f"it could not be read ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise _bad_manifest(folder, "it is not a CourseMig export manifest")
    if data.get("version") != FORMAT_VERSION:
        raise _bad_manifest(
            folder,
            f"it is format version {data.get('version')}, and this CourseMig reads version "
            f"{FORMAT_VERSION}",
        )
    schema = data.get("source_schema", "public")
    try:
        entries = tuple(_entry(t, schema) for t in data["tables"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad_manifest(folder, f"a table's entry is incomplete ({exc!r})") from exc
    for entry in entries:
        if Path(entry.file).name != entry.file:  # never a path outside the package
            raise _bad_manifest(folder, f"the file name {entry.file!r} is not a plain name")
    return Package(
        entries,
        schema,
        data.get("created", ""),
        FORMAT_VERSION,
        data.get("encoding", "utf-8"),
        data.get("delimiter", ","),
    )


def check_file(entry: PackageTable, folder: Path) -> Path:
    """Before anything of the table is loaded: the file is the one that was exported, byte for
    byte. Raises a FriendlyError naming the file when it is missing, changed or cut short."""
    path = Path(folder) / entry.file
    if not path.is_file():
        raise FriendlyError(
            f"The file {entry.file} is listed in {MANIFEST_NAME} but is not in the folder, so "
            f"{entry.table.name} was not loaded.",
            str(path),
        )
    actual = file_sha256(path)
    if actual != entry.sha256:
        raise FriendlyError(
            f"The file {entry.file} is not the file that was exported: its SHA-256 checksum "
            f"differs from the one in {MANIFEST_NAME}, so it was changed or cut short on its "
            "way. Nothing of it was loaded; export it again or fetch an intact copy.",
            f"{path}: sha256 {actual}, manifest {entry.sha256}",
        )
    return path
