"""``coursemig import``: CSV files into the target, from an export package (its manifest gives
types, keys and checksums), its zip, or any folder of CSV files (kept apart from cli.py: one
command, one module)."""

from __future__ import annotations

import argparse
from pathlib import Path

from coursemig_gui.cli_args import pairs, table_names


def cmd_import(args: argparse.Namespace) -> int:
    from coursemig_gui.cli import _delimiter, _endpoint, _mappings, _options, _run
    from coursemig_gui.core.catalog import read_reserved_words
    from coursemig_gui.core.csv_import import csv_table_names, import_mappings
    from coursemig_gui.core.engine.routes import Route
    from coursemig_gui.core.engine.session import open_session
    from coursemig_gui.core.export_package import read_package
    from coursemig_gui.core.mapping import IfExists
    from coursemig_gui.core.package_zip import unpacked

    tables = table_names(args.tables)
    with unpacked(Path(args.csv_dir)) as folder:  # a zip is read from a temporary folder
        args.csv_dir = str(folder)
        names = csv_table_names(folder, tables)
        target = _endpoint(args.target, "target")
        package = read_package(folder)
        with open_session(target) as conn:
            reserved = read_reserved_words(conn)
            if package is not None:  # the export's tables, types and keys; the user's names
                args.app, args.include_system_tables, args.django_app_will = None, False, "no"
                mappings = _mappings(args, package.catalog(reserved), names=package.chosen_names())
            else:
                mappings = import_mappings(
                    conn,
                    folder,
                    names,
                    args.target_schema,
                    pairs(args.rename_table, "--rename-table"),
                    pairs(args.rename_column, "--rename-column"),
                    IfExists(args.if_exists),
                    encoding=args.encoding,
                    delimiter=_delimiter(args.delimiter) or None,
                    infer_types=args.infer_types and not args.all_text,
                    reserved_words=reserved if args.rename_reserved else None,
                )
        return _run(args, None, target, mappings, _options(args, Route.IMPORT))
