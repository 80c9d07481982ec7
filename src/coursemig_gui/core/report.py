"""The result of a run: per table figures, exit code, and JSON/CSV/HTML renderings."""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from coursemig_gui.core.events import Phase
from coursemig_gui.core.outcome import Outcome
from coursemig_gui.core.private_files import save_report
from coursemig_gui.core.table_status import status_sentence

NOTHING_WRITTEN = "Test run — nothing was written"


class Verification:
    MATCH = "match"  # counts and content checksum agree
    # only the counts were compared; verification_detail says what was not, and why
    COUNTS_MATCH = "counts match"
    MISMATCH = "mismatch"
    NOT_RUN = "not run"


@dataclass
class TableReport:
    source: str
    target: str
    status: Phase = Phase.WAITING
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    verification: str = Verification.NOT_RUN
    verification_detail: str = ""
    reject_file: str | None = None
    csv_file: str | None = None
    message: str = ""
    detail: str = ""
    committed: bool = False  # its rows are in the target for good: never loaded again
    # failed because the connection broke (a real run starts such a table again; a test run,
    # whose one transaction is gone with it, cannot)
    connection_lost: bool = False
    # Citus: where the table is on the cluster after the run, as the cluster says ("local",
    # "reference" or "distributed", and its column); "" elsewhere, or when it is not there
    placement: str = ""
    distribution_column: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.status in (Phase.DONE, Phase.SKIPPED)
            and self.verification != Verification.MISMATCH
        )


@dataclass
class MigrationReport:
    tables: list[TableReport] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    finished: str = ""
    route: str = "direct"
    cancelled: bool = False
    message: str = ""  # a run-level failure (no connection, invalid plan), plain sentence
    detail: str = ""
    # steps after the loads that failed (Citus: foreign keys, sequences), one sentence each
    problems: list[str] = field(default_factory=list)
    test_run: bool = False  # everything was rolled back: the figures say what *would* happen
    notes: list[str] = field(default_factory=list)  # what a test run could not show, and why

    @property
    def exit_code(self) -> Outcome:
        """How the run ended: done, done with rejected rows, failed (a table failed, was not
        verified or not started, a check found a difference, or a step of the run failed), or
        did not start (it ended before any table: a connection, the plan or an option)."""
        if self.message and not self.tables and not self.cancelled:
            return Outcome.USAGE
        if self.message or self.problems or self.cancelled:
            return Outcome.FAILED
        if any(
            t.status not in (Phase.DONE, Phase.DONE_WITH_REJECTS, Phase.SKIPPED)
            or t.verification == Verification.MISMATCH
            for t in self.tables
        ):
            return Outcome.FAILED
        if any(t.rows_rejected for t in self.tables):
            return Outcome.DONE_WITH_REJECTS
        return Outcome.DONE

    def headline(self) -> str:
        """One sentence for the Summary page and the CLI's last line."""
        if self.test_run:
            return f"{NOTHING_WRITTEN}. {self.message or _would(self.tables)}"
        n = len(self.tables)
        done = [t for t in self.tables if t.status in (Phase.DONE, Phase.DONE_WITH_REJECTS)]
        with_rejects = [t for t in done if t.rows_rejected]
        failed = [t for t in self.tables if t.status == Phase.FAILED]
        rolled = [t for t in self.tables if t.status == Phase.ROLLED_BACK]
        unverified = [t for t in self.tables if t.status == Phase.COPIED_NOT_VERIFIED]
        unknown = [t for t in self.tables if t.status == Phase.COMMIT_UNKNOWN]
        differs = [t for t in done if t.verification == Verification.MISMATCH]
        if self.message and not self.tables:
            return self.message
        if len(done) == n and not with_rejects and not differs:
            verified = all(t.verification == Verification.MATCH for t in done)
            partly = [t for t in done if t.verification == Verification.COUNTS_MATCH]
            text = (f"All {n} tables" if n != 1 else "The 1 table") + " copied"
            text += " and verified" if verified else ""
            if partly:
                text += (
                    f" ({len(partly)} checked by row count only: "
                    f"{', '.join(t.target for t in partly)})"
                )
            return text + self._after_copy()
        # every row refused (an append of rows all there already): nothing of it was copied
        refused = [t for t in with_rejects if not t.rows_written]
        # a table copied but not verified is copied (its rows are in): counted, and named
        copied = len(done) - len(refused) + len(unverified)
        parts = [f"{copied} of {n} table{'s' if n != 1 else ''} copied"]
        if refused:
            parts.append(
                f"{len(refused)} with every row refused, none copied "
                f"({', '.join(t.target for t in refused)})"
            )
        if unverified:
            parts.append(
                f"{len(unverified)} of them not verified "
                f"({', '.join(t.target for t in unverified)})"
            )
        if unknown:
            parts.append(
                f"{len(unknown)} of unknown outcome, check them "
                f"({', '.join(t.target for t in unknown)})"
            )
        if differs:
            parts.append(
                f"{len(differs)} different from the source ({', '.join(t.target for t in differs)})"
            )
        partly_in = [t for t in with_rejects if t.rows_written]
        if partly_in:
            skipped = sum(t.rows_rejected for t in partly_in)
            parts.append(
                f"{len(partly_in)} with {skipped} skipped row{'s' if skipped != 1 else ''}"
            )
        if failed:
            parts.append(f"{len(failed)} failed ({', '.join(t.target for t in failed)})")
        if rolled:
            parts.append(
                f"{len(rolled)} stopped and rolled back ({', '.join(t.target for t in rolled)})"
            )
        not_started = [t for t in self.tables if t.status == Phase.NOT_STARTED]
        if not_started:
            parts.append(f"{len(not_started)} not started")
        return ", ".join(parts) + self._after_copy()

    def status_sentences(self) -> list[str]:
        """'status: sentence' for each status the tables ended in, in the order met."""
        return [
            f"{s}: {status_sentence(s, self.test_run)}"
            for s in dict.fromkeys(t.status for t in self.tables)
        ]

    def _after_copy(self) -> str:
        """A run-level failure or a failed step after the loads: never left out of the
        headline, since the tables alone would read as a success."""
        said = [*self.problems, *([self.message] if self.message else [])]
        if not said:
            return ""
        return ", but " + " ".join(_mid_sentence(s) for s in said).rstrip(".")

    def table_lines(self) -> list[str]:
        """One line per table, for the command line."""
        written = "would write" if self.test_run else "written"
        return [
            f"  {t.target:<28} {str(t.status):<18} read {t.rows_read:>9,}  {written} "
            f"{t.rows_written:>9,}  rejected {t.rows_rejected:>5,}  {t.seconds:6.1f}s  "
            f"{t.verification}"
            for t in self.tables
        ]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["exit_code"] = int(self.exit_code)
        data["headline"] = self.headline()
        for t in data["tables"]:
            t["status"] = str(t["status"])
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_csv(self) -> str:
        out = io.StringIO()
        cols = [
            "source",
            "target",
            "status",
            "rows_read",
            "rows_written",
            "rows_rejected",
            "seconds",
            "verification",
            "reject_file",
            "message",
        ]
        writer = csv.writer(out)
        if self.test_run:  # said before anything else, so no one takes it for a real run
            writer.writerow([self.headline()])
        writer.writerow(cols)
        for t in self.tables:
            writer.writerow([str(getattr(t, c)) if getattr(t, c) is not None else "" for c in cols])
        return out.getvalue()

    def to_html(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    t.source,
                    t.target,
                    t.status,
                    t.rows_read,
                    t.rows_written,
                    t.rows_rejected,
                    f"{t.seconds:.1f}",
                    t.verification,
                    t.message,
                )
            )
            + "</tr>"
            for t in self.tables
        )
        written = "Would write" if self.test_run else "Written"
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "Source",
                "Target",
                "Result",
                "Read",
                written,
                "Skipped",
                "Seconds",
                "Verification",
                "Notes",
            )
        )
        return (
            "<!doctype html><meta charset='utf-8'><title>CourseMig report</title>"
            "<style>body{font-family:sans-serif}td,th{border:1px solid #999;padding:4px 8px}"
            "table{border-collapse:collapse}</style>"
            f"<h1>{html.escape(self.headline())}</h1>"
            + "".join(f"<p><b>{html.escape(note)}</b></p>" for note in self.notes)
            + f"<p>Started {html.escape(self.started)}, "
            f"finished {html.escape(self.finished)}, route: {html.escape(self.route)}</p>"
            f"<table><tr>{head}</tr>{rows}</table>"
        )

    def save(self, path: Path) -> None:
        """Save as JSON, CSV or HTML, by the file's ending (only its owner may read it)."""
        save_report(self, path)


def _would(tables: list[TableReport]) -> str:
    """A test run's outcome, said as what the real run would do."""
    n = len(tables)
    done = [t for t in tables if t.status in (Phase.DONE, Phase.DONE_WITH_REJECTS)]
    with_rejects = [t for t in done if t.rows_rejected]
    lost = [t for t in tables if t.status == Phase.FAILED and t.connection_lost]
    failed = [t for t in tables if t.status == Phase.FAILED and not t.connection_lost]
    differs = [t for t in done if t.verification == Verification.MISMATCH]
    if len(done) == n and not with_rejects and not differs:
        every = f"All {n} tables" if n != 1 else "The 1 table"
        return f"{every} would be copied, every row checked by the target"
    parts = [f"{len(done)} of {n} table{'s' if n != 1 else ''} would be copied"]
    if differs:
        parts.append(
            f"{len(differs)} would then differ from the source "
            f"({', '.join(t.target for t in differs)})"
        )
    if with_rejects:
        skipped = sum(t.rows_rejected for t in with_rejects)
        tables = f"{len(with_rejects)} table{'s' if len(with_rejects) != 1 else ''}"
        parts.append(f"{skipped} row{'s' if skipped != 1 else ''} in {tables} would be skipped")
    if failed:
        parts.append(f"{len(failed)} would fail ({', '.join(t.target for t in failed)})")
    if lost:
        parts.append(
            f"{len(lost)} could not be tried to the end because the connection to the target broke "
            f"({', '.join(t.target for t in lost)}; a real run starts such a table again)"
        )
    stopped = n - len(done) - len(failed) - len(lost)
    if stopped:
        parts.append(f"{stopped} not rehearsed (stopped or skipped)")
    return ", ".join(parts)


def _mid_sentence(sentence: str) -> str:
    """``sentence`` continuing another: its first letter small, unless its first word is a
    name ("CourseMig", "PostgreSQL": a capital past the first letter)."""
    first = sentence.split(" ", 1)[0]
    if any(c.isupper() for c in first[1:]):
        return sentence
    return sentence[:1].lower() + sentence[1:]
