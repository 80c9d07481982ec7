"""Which table each CSV file of a folder goes into, for an import from a folder."""

from __future__ import annotations

from pathlib import Path

import psycopg

from coursemig_gui.core.catalog import table_exists
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.mapping import ColumnMapping, IfExists, TableMapping


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
) -> list[TableMapping]:
    """One mapping per file. Columns are matched by the file's header later; here only the
    renames given (``table.column``) and the target table are decided."""
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
        columns = [
            ColumnMapping(key.split(".", 1)[1], new, "text")
            for key, new in column_renames.items()
            if key.split(".", 1)[0] == name
        ]
        mappings.append(TableMapping(name, table, columns, if_exists=if_exists))
    return mappings
