"""One table exported to a CSV file, with its row count and content checksum for the package's
manifest (the import proves the content arrived whole)."""

from __future__ import annotations

from psycopg import sql

from coursemig_gui.core.content_checksum import add_checksums, stable_rows_checksum
from coursemig_gui.core.csvfiles import csv_file_name
from coursemig_gui.core.events import Phase, TableProgress
from coursemig_gui.core.export_package import package_entry
from coursemig_gui.core.generated_columns import loaded_columns
from coursemig_gui.core.load_result import LoadResult
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.report import TableReport, Verification
from coursemig_gui.core.source_rows import DatabaseRows


class TableExport:
    """Mixed into the run, beside loading a table (``table_load.py``)."""

    def _export(self, tm: TableMapping, report: TableReport, src, started: float) -> None:
        table = self.catalog.table(tm.source)
        path = self.csv_dir / csv_file_name(tm.source)
        # a generated column's values are left out of the file: the table an import or
        # schema.sql makes computes them (the manifest says how), and COPY refuses them there
        columns = [cm.source for cm in loaded_columns(tm, table, None)]
        generated = [cm.source for cm in tm.included_columns if cm.source not in columns]
        stream = DatabaseRows(
            src,
            sql.Identifier(self.options.source_schema, tm.source),
            columns,
            "csv",
            self.options.batch_rows,
            self.options.batch_bytes,
            tee=path,
        )
        self.emit(TableProgress(tm.source, tm.target, Phase.EXPORTING, 0, table.row_estimate))
        update = self._progress(tm, report, Phase.EXPORTING, started, table.row_estimate)
        result = LoadResult()
        for batch in stream.batches():
            self.cancel.check()
            result.rows_read += len(batch.rows)
            result.rows_written += len(batch.rows)
            result.bytes_read += sum(map(len, batch.rows))
            # stored in the manifest, so the import can prove the content arrived whole
            result.checksum = add_checksums(result.checksum, stable_rows_checksum(batch.rows))
            update(result)
        self._exported[tm.source] = package_entry(
            table, columns, path, result.rows_read, result.checksum, generated
        )
        report.rows_read = report.rows_written = result.rows_read
        report.csv_file = str(path)
        report.verification = Verification.NOT_RUN
        self._finish(tm, report, started)
