"""What an import without a source database starts from: a package folder or zip, read into a
catalog (the manifest's tables, types and keys; or, for files made by hand, the types proposed
from a sample of each file), so the wizard plans it like any other migration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from coursemig_gui.core.catalog import Catalog, Column, Table
from coursemig_gui.core.csv_import import csv_table_names
from coursemig_gui.core.csvfiles import CsvLayout, read_layout
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.export_package import read_package
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.package_import import proposed_mapping
from coursemig_gui.core.package_zip import unpack_zip
from coursemig_gui.core.paths import new_run_dir


@dataclass(frozen=True)
class ImportSource:
    folder: Path  # where the files are read from (a zip is unpacked into a folder of its own)
    catalog: Catalog
    has_manifest: bool
    summary: str  # one sentence for the Connect page
    # files without a manifest: table -> column -> the type proposed from its first rows (the
    # catalog says text, which is what the file holds)
    proposed: dict[str, dict[str, str]] = field(default_factory=dict)
    # a package's names chosen at export (tables; (table, column)), a new mapping's start
    chosen_tables: dict[str, str] = field(default_factory=dict)
    chosen_columns: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # files that cannot be read, and why


def open_import(
    path: Path,
    reserved_words: frozenset[str] = frozenset(),
    *,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> ImportSource:
    """Read a package (or a folder of CSV files) for an import. Raises FriendlyError."""
    path = Path(path)
    folder = path if path.is_dir() else unpack_zip(path, new_run_dir("import"))
    package = read_package(folder)
    if package is not None:
        catalog = package.catalog(reserved_words)
        count = len(catalog.tables)
        tables, columns = package.chosen_names()
        return ImportSource(
            folder,
            catalog,
            True,
            f"An export package with {count} table{'s' if count != 1 else ''}: their types, "
            "keys and checksums come from its manifest.",
            chosen_tables=tables,
            chosen_columns=columns,
        )
    tables, proposed, problems = [], {}, []
    for name in csv_table_names(folder, None):
        path = folder / f"{name}.csv"
        try:
            layout = read_layout(path, encoding, delimiter)
        except FriendlyError as exc:
            # said here, where the encoding is chosen: the Columns page would only show the
            # table without columns
            problems.append(exc.message)
            layout = None
        table, types = _proposed_table(path, name, encoding, delimiter, layout)
        tables.append(table)
        proposed[name] = types
    count = len(tables)
    return ImportSource(
        folder,
        Catalog(schema="public", tables=tuple(tables), reserved_words=reserved_words),
        False,
        " ".join(
            [
                f"{count} CSV file{'s' if count != 1 else ''} without a manifest: the column "
                "types are proposed from the first rows of each file; check them on the "
                "Columns page.",
                *problems,
            ]
        ),
        proposed,
        problems=problems,
    )


def apply_proposed_types(mapping: TableMapping, proposed: dict[str, str]) -> None:
    """A new mapping of a file without a manifest: each column created with its proposed type."""
    for cm in mapping.columns:
        cm.target_type = proposed.get(cm.source, cm.target_type)


def _proposed_table(
    path: Path, name: str, encoding: str, delimiter: str | None, layout: CsvLayout | None
) -> tuple[Table, dict[str, str]]:
    mapping = proposed_mapping(path, name, name, encoding=encoding, delimiter=delimiter)
    columns = tuple(
        Column(cm.source, "text", False, position=i) for i, cm in enumerate(mapping.columns, 1)
    )
    types = {cm.source: cm.target_type for cm in mapping.columns}
    rows = count_records(path, layout.header_bytes) if layout else 0
    return Table(name=name, columns=columns, row_estimate=rows), types


def count_records(path: Path, start: int) -> int:
    """The CSV records after the header: line ends outside quotes (a quoted value may hold a
    newline), plus a last line without one."""
    records, quotes, open_record = 0, 0, False
    with Path(path).open("rb") as f:
        f.seek(start)
        while chunk := f.read(1 << 20):
            pos = 0
            while (nl := chunk.find(b"\n", pos)) >= 0:
                quotes += chunk.count(b'"', pos, nl)
                pos = nl + 1
                if quotes % 2 == 0:
                    records, quotes, open_record = records + 1, 0, False
                else:
                    open_record = True
            quotes += chunk.count(b'"', pos)
            open_record = open_record or pos < len(chunk)
    return records + (1 if open_record else 0)
