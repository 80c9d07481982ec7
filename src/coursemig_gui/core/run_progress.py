"""What the Migrate page's bars and lines say about a run, decided here so each one is true.

A table that failed or was stopped was rolled back: nothing of it is in the target, so its bar
is empty and its rows count as not copied, however many were read before. Totals are the
source's exact counts where the Tables page made them (an estimate only where it did not).
"""

from __future__ import annotations

from dataclasses import dataclass

from coursemig_gui.core.events import Phase, TableProgress

# The table's rows are in the target (or were already: "skipped").
KEPT = frozenset({Phase.DONE, Phase.DONE_WITH_REJECTS, Phase.SKIPPED, Phase.COPIED_NOT_VERIFIED})
# Rolled back or never begun: the table is as it was before the run.
NOT_KEPT = frozenset({Phase.FAILED, Phase.ROLLED_BACK, Phase.NOT_STARTED})


def best_total(progress: TableProgress, counted: int | None) -> int:
    """The rows a table has: what a finished copy read, else the count made before the run,
    else the run's own estimate (never fewer than the rows read so far)."""
    if progress.phase in KEPT and progress.phase != Phase.SKIPPED:
        return max(progress.rows_total, progress.rows_done)
    if counted is not None:
        return max(counted, progress.rows_done)
    return max(progress.rows_total, progress.rows_done)


def kept_rows(p: TableProgress) -> int:
    """Rows of the table that are (or, while copying, will be) in the target."""
    if p.phase in NOT_KEPT or p.phase == Phase.COMMIT_UNKNOWN:
        return 0
    if p.phase == Phase.SKIPPED:
        return p.rows_total
    return max(0, p.rows_done - p.rejected)


def percent(p: TableProgress) -> int:
    """The table's bar: full when its rows are in the target, empty when it was rolled back."""
    if p.phase in KEPT:
        return 100
    if p.phase in NOT_KEPT or p.phase == Phase.COMMIT_UNKNOWN or not p.rows_total:
        return 0
    return min(100, int(100 * p.rows_done / p.rows_total))


def rows_text(p: TableProgress) -> str:
    """The Rows cell: rows read of the table's rows, or that none of a rolled-back one stayed."""
    if p.phase in NOT_KEPT and p.phase != Phase.NOT_STARTED:
        # "of N" only where N is more than was read: a total the run knows, not its reading
        total = f" of {p.rows_total:,}" if p.rows_total > p.rows_done else ""
        read = f", {p.rows_done:,} read" if p.rows_done else ""
        return f"none kept{total}{read}"
    return f"{p.rows_done:,} / {p.rows_total:,}" if p.rows_total else f"{p.rows_done:,}"


@dataclass
class Overall:
    tables: int = 0
    copied: int = 0  # done, done with skipped rows, copied but not verified
    already_there: int = 0
    failed: int = 0
    stopped: int = 0  # rolled back by Stop
    not_started: int = 0
    unknown: int = 0  # the COMMIT's outcome is unknown
    rows_kept: int = 0
    rows_total: int = 0

    @property
    def fraction(self) -> float:
        """How far the overall bar goes: the rows in the target of all the tables' rows."""
        if self.rows_total:
            return min(1.0, self.rows_kept / self.rows_total)
        return 1.0 if self.tables and self.copied + self.already_there == self.tables else 0.0


def overall(progress: list[TableProgress]) -> Overall:
    o = Overall(tables=len(progress))
    for p in progress:
        o.rows_total += max(p.rows_total, p.rows_done)
        o.rows_kept += kept_rows(p)
        if p.phase == Phase.SKIPPED:
            o.already_there += 1
        elif p.phase in KEPT:
            o.copied += 1
        elif p.phase == Phase.FAILED:
            o.failed += 1
        elif p.phase == Phase.ROLLED_BACK:
            o.stopped += 1
        elif p.phase == Phase.NOT_STARTED:
            o.not_started += 1
        elif p.phase == Phase.COMMIT_UNKNOWN:
            o.unknown += 1
    return o


def overall_line(o: Overall, test_run: bool = False) -> str:
    """The line under the bar: 5 of 9 tables copied · 4 failed · 86 of 439 rows copied."""
    verb = "would be copied" if test_run else "copied"
    parts = [f"{o.copied} of {o.tables} table{'s' if o.tables != 1 else ''} {verb}"]
    if o.already_there:
        parts.append(f"{o.already_there} already there")
    if o.failed:
        parts.append(f"{o.failed} failed")
    if o.stopped:
        parts.append(f"{o.stopped} stopped and rolled back")
    if o.not_started:
        parts.append(f"{o.not_started} not started")
    if o.unknown:
        parts.append(f"{o.unknown} unknown: check them")
    parts.append(f"{o.rows_kept:,} of {o.rows_total:,} rows {verb}")
    return " · ".join(parts)


def rows_written_sentence(report, counted: dict[str, int]) -> str:
    """The Summary's rows line (no full stop): rows written of the source's rows where the
    Tables page counted every table, else of the rows the run read.
    ``report``: core.report.MigrationReport; ``counted``: exact counts by source table."""
    read = sum(t.rows_read for t in report.tables)
    written = sum(t.rows_written for t in report.tables)
    verb = "would be written" if report.test_run else "written"
    if report.tables and all(t.source in counted for t in report.tables):
        total = sum(counted[t.source] for t in report.tables)
        if read <= total:  # rows added since the count would make "of" untrue
            return f"{written:,} of the source's {total:,} rows {verb}"
    return f"{written:,} rows {verb} of {read:,} read"
