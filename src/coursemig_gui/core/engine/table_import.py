"""One table imported from a CSV file (an export package's, or a plain one) into the target,
inside its own target transaction."""

from __future__ import annotations

from dataclasses import replace

from psycopg import sql

from coursemig_gui.core.catalog import count_rows, table_exists
from coursemig_gui.core.csv_import import column_mapping_for, match_columns, table_from_mapping
from coursemig_gui.core.csvfiles import (
    csv_file_name,
    file_batches,
    pg_encoding,
    read_layout,
    without_columns,
)
from coursemig_gui.core.engine.copy_format import csv_line
from coursemig_gui.core.engine.target_tables import refuse_lossy
from coursemig_gui.core.engine.verify import verify_import
from coursemig_gui.core.events import LogMessage, Phase, TableProgress
from coursemig_gui.core.export_package import check_file
from coursemig_gui.core.generated_columns import computed_columns, not_computed_sentence
from coursemig_gui.core.mapping import IfExists, TableMapping
from coursemig_gui.core.package_import import verify_against_package
from coursemig_gui.core.report import TableReport
from coursemig_gui.core.transfer import TableLoader


class TableImport:
    """Mixed into the run, beside loading a table from the source (``table_load.py``)."""

    def _import(self, tm: TableMapping, report: TableReport, tgt, started: float) -> None:
        schema = self.options.target_schema
        target = sql.Identifier(schema, tm.target)
        entry = self.package.entry(tm.source) if self.package else None
        # a changed or truncated file is refused before anything of it is loaded
        path = check_file(entry, self.csv_dir) if entry else self.csv_dir / csv_file_name(tm.source)
        layout = read_layout(
            path,
            self.package.encoding if entry else self.options.csv_encoding,
            # an export's files are read as its manifest says, never guessed from a header
            self.package.delimiter if entry else self.options.csv_delimiter or None,
            # a generated column is listed in the manifest but not in the file
            [c.name for c in entry.table.columns if c.generated is None] if entry else None,
        )
        file_columns, target_columns, dropped = match_columns(tm, layout.columns)
        table = table_from_mapping(tm, file_columns, target_columns)
        if entry is not None:  # the export's types, NOT NULLs, keys and identities
            table = entry.table
        before = 0
        if tm.if_exists == IfExists.SKIP and table_exists(tgt, tm.target, schema):
            self._skipped(tm, report)
            return
        tx = self._table_transaction(tgt, tm, report)
        with tx:
            # the file's columns, with the user's names and types, and the table's placement
            import_mapping = replace(
                tm,
                columns=[
                    column_mapping_for(name, tname, tm, table)
                    for name, tname in zip(file_columns, target_columns, strict=True)
                ]
                + computed_columns(tm, table),
            )
            created, existing, import_mapping = self._prepare_target(
                import_mapping, tgt, table, report, exists=tx.first_row is not None
            )
            if existing is not None and (
                plain := [
                    cm.target
                    for cm in computed_columns(import_mapping, table)
                    if existing[cm.target].generated is None
                ]
            ):
                self.emit(LogMessage(not_computed_sentence(tm.target, plain), "warning"))
            loaded_types = [
                existing[c].type if existing else cm.target_type
                for c, cm in zip(
                    target_columns, import_mapping.columns[: len(file_columns)], strict=True
                )
            ]
            if existing is not None and entry is not None:  # the export's types are known
                exported = [entry.table.column(name).type for name in file_columns]
                refuse_lossy(tm.target, target_columns, exported, loaded_types)
            if existing is not None and tm.if_exists == IfExists.APPEND:
                before = count_rows(tgt, tm.target, schema)
            options = sql.SQL("DELIMITER {}, ENCODING {}").format(
                sql.Literal(layout.delimiter), sql.Literal(pg_encoding(layout.encoding))
            )
            loader = TableLoader(
                tgt,
                target,
                target_columns,
                "csv",
                table_name=path.name,
                target_name=tm.target,
                header=csv_line(file_columns),
                policy=self._policy(),
                rejects=self.rejects,
                on_reject=self._on_reject,
                cancel=self.cancel,
                copy_options=options,
            )
            size = path.stat().st_size
            estimate = max(1, size // 200)
            self.emit(TableProgress(tm.source, tm.target, Phase.COPYING, 0, estimate))
            batches = file_batches(  # an export's files are CourseMig's own, proven by checksum
                layout,
                self.options.batch_rows,
                self.options.batch_bytes,
                check_quotes=entry is None,
            )
            result = loader.load(
                without_columns(batches, layout, dropped) if dropped else batches,
                self._progress(tm, report, Phase.COPYING, started, estimate),
            )
            self.cancel.check()
            self._checks_and_referring_keys(tgt, import_mapping, table, created)
            self._move_sequences(tgt, import_mapping, table, existing is not None)
        report.rows_read, report.rows_written = result.rows_read, result.rows_written
        report.rows_rejected = result.rows_rejected
        report.csv_file = str(path)
        if result.rows_rejected:
            report.reject_file = str(self.rejects.reject_file(tm.target))
        try:
            if self.options.verify and entry is not None and not before:
                self.cancel.check()
                report.verification, report.verification_detail = verify_against_package(
                    tx.connection,
                    entry,
                    tm.target,
                    target,
                    target_columns,
                    loaded_types == [c.type for c in entry.table.columns if c.generated is None],
                    bool(dropped),
                )
            elif self.options.verify:
                self.cancel.check()
                verify_import(tx.connection, schema, tm, report, result.rows_written, before)
        finally:
            if tx.replacement is not None:
                self.cancel.unwatch(tx.replacement)
            tx.close()
        self._finish(tm, report, started)
