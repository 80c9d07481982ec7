"""Which table each CSV file of a folder goes into, for an import from a folder."""

from __future__ import annotations

from pathlib import Path

import psycopg

from coursemig_gui.core.catalog import Column, Table, table_exists
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.mapping import ColumnMapping, IfExists, TableMapping, rename_reserved_words
from coursemig_gui.core.package_import import proposed_mapping


def csv_table_names(folder: Path, tables: list[str] | None) -> list[str]:
    """The tables to import: the ones named, else one per ``.csv`` file in the folder."""
    if not folder.is_dir():
        raise FriendlyError(f"The folder {folder} does not exist.", str(folder))
    names = tables if tables else sorted(p.stem for p in folder.glob("*.csv"))
    if not names:
        raise FriendlyError(f"There are no .csv files in {folder}.", str(folder))
    return names


def import_mappings(
    conn: psycopg.Connection,
    folder: Path,
    names: list[str],
    schema: str,
    renames: dict[str, str],
    column_renames: dict[str, str],
    if_exists: IfExists,
    *,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    infer_types: bool = True,
    reserved_words: frozenset[str] | None = None,
) -> list[TableMapping]:
    """One mapping per file. Columns are matched by the file's header later; here the renames
    given (``table.column``), the target table, and the types a new table would get (proposed
    from the file's first rows, or text) are decided. ``reserved_words``: rename columns named
    with one (``end`` -> ``end_time``)."""
    mappings = []
    for name in names:
        if not (folder / f"{name}.csv").exists():
            raise FriendlyError(f"There is no file {name}.csv in {folder}.", str(folder))
        # courses_course.csv goes into course when the user made that table by hand (p.sql)
        stripped = name.split("_", 1)[1] if "_" in name else name
        table = renames.get(name) or (
            name
            if table_exists(conn, name, schema) or not table_exists(conn, stripped, schema)
            else stripped
        )
        columns = {
            key.split(".", 1)[1]: new
            for key, new in column_renames.items()
            if key.split(".", 1)[0] == name
        }
        mappings.append(
            proposed_mapping(
                folder / f"{name}.csv",
                name,
                table,
                encoding=encoding,
                delimiter=delimiter,
                infer_types=infer_types,
                column_renames=columns,
                if_exists=if_exists,
            )
        )
    if reserved_words:
        rename_reserved_words(mappings, reserved_words)
    return mappings


def match_columns(
    tm: TableMapping, file_columns: list[str]
) -> tuple[list[str], list[str], set[int]]:
    """The file's columns that are loaded, their target names, and the positions of those left
    out on the Columns page. By name, never by position: the user's file had program_id last."""
    by_source = {cm.source: cm for cm in tm.columns}
    by_target = {cm.target: cm for cm in tm.columns}
    loaded: list[str] = []
    targets: list[str] = []
    dropped: set[int] = set()
    for i, name in enumerate(file_columns):
        cm = by_source.get(name) or by_target.get(name)
        if cm is not None and not cm.include:
            dropped.add(i)
            continue
        loaded.append(name)
        targets.append(cm.target if cm else name)
    return loaded, targets, dropped


def column_mapping_for(
    name: str, target_name: str, tm: TableMapping, table: Table
) -> ColumnMapping:
    cm = tm.column(name) or next((c for c in tm.columns if c.target == name), None)
    known = table.column(name)  # the manifest's type for a column the mapping does not list
    return ColumnMapping(
        name, target_name, cm.target_type if cm else known.type if known else "text"
    )


def table_from_mapping(
    tm: TableMapping, file_columns: list[str], target_columns: list[str]
) -> Table:
    """What to create for a CSV import when the target table is missing: the profile's types
    where it has them, text otherwise (the server casts text on load)."""
    cols = []
    for position, name in enumerate(file_columns, start=1):
        cm = tm.column(name) or next((c for c in tm.columns if c.target == name), None)
        cols.append(Column(name, cm.target_type if cm else "text", False, position=position))
    return Table(name=tm.source, columns=tuple(cols))
