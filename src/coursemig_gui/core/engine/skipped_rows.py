"""The run's skipped-rows folder: chosen or new, never writing over or moving a file the run
reads, and cleared of an earlier run's files before this run's are written."""

from __future__ import annotations

from pathlib import Path

from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.paths import new_run_dir
from coursemig_gui.core.rejects import RejectLog


def skipped_rows_log(
    options: MigrationOptions, imported: Path | None, mappings: list[TableMapping]
) -> tuple[RejectLog, str]:
    """The run's RejectLog, and a sentence when an earlier run's files were moved aside.
    ``imported``: the folder an import reads. Raises a FriendlyError when a table's skipped
    rows would be written over a file the import reads."""
    folder = Path(options.rejects_dir) if options.rejects_dir else new_run_dir("rejects")
    log = RejectLog(folder)
    # an import's own files (a skipped-rows file fixed and imported from the skipped-rows
    # folder) are never moved or written over
    reads = {p.resolve() for p in Path(imported).glob("*.csv")} if imported else set()
    log.check_inputs(reads, [tm.target for tm in mappings])
    earlier = log.set_aside_earlier(reads)
    if earlier is None:
        return log, ""
    return log, (
        f"The skipped-rows files an earlier run left in {folder} were moved to {earlier}, so "
        "none of them is taken for this run's."
    )
