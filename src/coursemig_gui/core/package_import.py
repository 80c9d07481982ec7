"""The import side of a CSV hand-over: mappings for files without a manifest (types proposed
from a sample), and the check of a loaded table against the export's manifest."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from coursemig_gui.core.content_checksum import content_checksum
from coursemig_gui.core.csvfiles import read_layout
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.export_package import PackageTable
from coursemig_gui.core.mapping import ColumnMapping, IfExists, TableMapping
from coursemig_gui.core.report import Verification
from coursemig_gui.core.type_inference import infer_file_types


def proposed_mapping(
    path: Path,
    source: str,
    target: str,
    *,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    infer_types: bool = True,
    column_renames: dict[str, str] | None = None,
    if_exists: IfExists = IfExists.FAIL,
) -> TableMapping:
    """A file's mapping when it comes without a manifest: each header column, renamed where asked,
    with the type proposed from the file's first rows (or ``text`` for every column)."""
    renames = column_renames or {}
    try:
        layout = read_layout(path, encoding, delimiter or None)
        types = infer_file_types(layout) if infer_types else {}
    except FriendlyError:
        # the file cannot be read as asked: the run says so for this table, with its line
        columns = [ColumnMapping(name, new, "text") for name, new in renames.items()]
        return TableMapping(source, target, columns, if_exists=if_exists)
    columns = [
        ColumnMapping(name, renames.get(name, name), types.get(name, "text"), source_type="text")
        for name in layout.columns
    ]
    return TableMapping(source, target, columns, if_exists=if_exists)


def verify_against_package(
    conn: psycopg.Connection,
    entry: PackageTable,
    target: str,
    table: sql.Composable,
    columns: list[str],
    same_types: bool,
    left_out: bool = False,
) -> tuple[str, str]:
    """(verification, detail) of a table loaded from an exported file, against what the export
    recorded: its row count, and the content checksum of its rows as COPY writes them."""
    count, checksum = content_checksum(conn, table, columns)
    if count != entry.rows:
        return (
            Verification.MISMATCH,
            f"{count} rows in {target}, but the export recorded {entry.rows} in {entry.file}",
        )
    if left_out:
        return (
            Verification.COUNTS_MATCH,
            "counts match the export; content not compared because columns were left out",
        )
    if checksum == entry.content_checksum:
        return Verification.MATCH, f"{count} rows; content checksum matches the export"
    if not same_types:
        return (
            Verification.COUNTS_MATCH,
            "counts match the export; content is written differently because column types change",
        )
    return Verification.MISMATCH, f"{count} rows, but their content differs from the export"
