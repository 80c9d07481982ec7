"""The comparison's result: per table counts, the differing rows shown, a verdict per table,
exit code, and JSON/CSV/HTML renderings a manager can read."""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from coursemig_gui.core.private_files import save_report, spreadsheet_row

EXIT_IDENTICAL, EXIT_NOT_COMPARED, EXIT_DIFFERENT = 0, 1, 3


class Status(StrEnum):
    WAITING = "waiting"
    IDENTICAL = "identical"
    DIFFERENT = "different"
    NOT_COMPARED = "could not compare"
    STOPPED = "stopped"


@dataclass
class ColumnDifference:
    column: str  # the source's name
    target_column: str
    source_value: str | None
    target_value: str | None


@dataclass
class RowDifference:
    kind: str  # merge.Kind: "only in source" | "only in target" | "different"
    key: dict[str, str | None]  # source key column -> value; empty for a table without a key
    columns: list[ColumnDifference] = field(default_factory=list)  # "different" rows
    values: dict[str, str | None] = field(default_factory=dict)  # rows on one side only

    def key_text(self) -> str:
        if not self.key:
            return "(no key)"
        return ", ".join(f"{k}={_shown(v)}" for k, v in self.key.items())


@dataclass
class TableComparison:
    source: str
    target: str
    key_kind: str = ""  # "primary key" | "unique key" | "" (a multiset of whole rows)
    key_columns: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # not copied, so not compared
    status: Status = Status.WAITING
    source_rows: int = 0
    target_rows: int = 0
    identical: int = 0
    only_in_source: int = 0
    only_in_target: int = 0
    different: int = 0
    rows: list[RowDifference] = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""  # why it could not be compared
    detail: str = ""

    @property
    def differences(self) -> int:
        return self.only_in_source + self.only_in_target + self.different

    def how(self) -> str:
        if self.key_kind:
            return f"by {self.key_kind} {', '.join(self.key_columns)}"
        return "as whole rows, for want of a key: a changed row counts once on each side"

    def verdict(self) -> str:
        """One line for a person: the table's result."""
        if self.status == Status.NOT_COMPARED:
            return f"Could not compare: {self.message}"
        if self.status == Status.STOPPED:
            return "Not compared: the comparison was stopped."
        if self.status == Status.WAITING:
            return "Not compared yet."
        if self.status == Status.IDENTICAL:
            return (
                f"Identical: all {_n(self.identical, 'row')} match, compared {self.how()}."
                + self._not_compared()
            )
        parts = []
        if self.only_in_source:
            parts.append(f"{_n(self.only_in_source, 'row')} only in the source")
        if self.only_in_target:
            parts.append(f"{_n(self.only_in_target, 'row')} only in the target")
        if self.different:
            parts.append(f"{_n(self.different, 'row')} with different values")
        return (
            f"Different: {', '.join(parts)}; {self.identical:,} identical (compared {self.how()})."
            + self._not_compared()
        )

    def _not_compared(self) -> str:
        """Source columns the migration does not copy are not compared: said, so 'identical'
        is never read as covering them."""
        if not self.left_out:
            return ""
        return f" Not compared, as the migration does not copy them: {', '.join(self.left_out)}."

    @property
    def shown_all(self) -> bool:
        return len(self.rows) >= self.differences


@dataclass
class CompareReport:
    source_database: str = ""
    target_database: str = ""
    profile: str = ""
    hash_method: str = ""
    started: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    finished: str = ""
    tables: list[TableComparison] = field(default_factory=list)
    cancelled: bool = False
    message: str = ""  # nothing could be compared (no connection, unreadable catalog)
    detail: str = ""

    @property
    def exit_code(self) -> int:
        """0 every table identical, 3 differences found, 1 something could not be compared."""
        if self.message or self.cancelled or not self.tables:
            return EXIT_NOT_COMPARED
        if any(t.status != Status.IDENTICAL and t.status != Status.DIFFERENT for t in self.tables):
            return EXIT_NOT_COMPARED
        if any(t.status == Status.DIFFERENT for t in self.tables):
            return EXIT_DIFFERENT
        return EXIT_IDENTICAL

    def headline(self) -> str:
        if self.message:
            return self.message
        if self.cancelled:
            return "The comparison was stopped before the end."
        n = len(self.tables)
        if not n:
            return "There was no table to compare."
        same = [t for t in self.tables if t.status == Status.IDENTICAL]
        different = [t for t in self.tables if t.status == Status.DIFFERENT]
        failed = [t for t in self.tables if t.status == Status.NOT_COMPARED]
        if len(same) == n:
            rows = sum(t.identical for t in same)
            tables = f"All {n} tables are" if n != 1 else "The 1 table is"
            text = f"{tables} identical in source and target ({rows:,} rows compared)"
            left_out = [f"{t.source}.{c}" for t in same for c in t.left_out]
            if left_out:
                text += f"; columns not copied, so not compared: {', '.join(left_out)}"
            return text
        parts = [f"{len(same)} of {n} table{'s' if n != 1 else ''} identical"]
        if different:
            parts.append(f"{len(different)} different ({', '.join(t.target for t in different)})")
        if failed:
            parts.append(
                f"{len(failed)} could not be compared ({', '.join(t.target for t in failed)})"
            )
        return ", ".join(parts)

    def coverage(self) -> str:
        """Which tables the fingerprints covered: 'every table' only when each has a verdict."""
        n = len(self.tables)
        compared = [t for t in self.tables if t.status in (Status.IDENTICAL, Status.DIFFERENT)]
        how = ("each database computed a fingerprint of each row, and the two lists were "
               "matched row by row.")  # fmt: skip
        if n and len(compared) == n:
            return f"Every row of every table was compared: {how}"
        if compared:
            were = "was" if len(compared) == 1 else "were"
            return (f"Only {len(compared)} of {n} tables {were} compared, every row of each: "
                    f"{how} The others were not compared (see their verdicts).")  # fmt: skip
        return "No table was compared."

    # -- renderings -------------------------------------------------------------------------

    def to_dict(self) -> dict:
        data = asdict(self)
        data["exit_code"] = self.exit_code
        data["headline"] = self.headline()
        for table, t in zip(data["tables"], self.tables, strict=True):
            table["status"] = str(t.status)
            table["verdict"] = t.verdict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_csv(self) -> str:
        """One line per table verdict, then one per difference (a column of a differing row)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["source table", "target table", "result", "key", "column",
                         "source value", "target value", "verdict"])  # fmt: skip
        for t in self.tables:
            writer.writerow(spreadsheet_row([t.source, t.target, str(t.status), "", "", "", "",
                                             t.verdict()]))  # fmt: skip
            for row in t.rows:
                if row.columns:
                    for c in row.columns:
                        writer.writerow(spreadsheet_row([t.source, t.target, row.kind, row.key_text(),
                                         c.column, _csv(c.source_value), _csv(c.target_value), ""]))  # fmt: skip
                else:
                    values = json.dumps(row.values, ensure_ascii=False)
                    source, target = (values, "") if row.kind == "only in source" else ("", values)
                    writer.writerow(spreadsheet_row([t.source, t.target, row.kind, row.key_text(),
                                                     "", source, target, ""]))  # fmt: skip
        return out.getvalue()

    def to_html(self) -> str:
        e = html.escape
        verdicts = "".join(
            f"<tr class='{_css(t.status)}'><td>{e(t.source)}</td><td>{e(t.target)}</td>"
            f"<td class='n'>{t.source_rows:,}</td><td class='n'>{t.target_rows:,}</td>"
            f"<td>{e(t.verdict())}</td></tr>"
            for t in self.tables
        )
        sections = "".join(_table_section(t) for t in self.tables if t.rows)
        return (
            "<!doctype html><meta charset='utf-8'><title>CourseMig comparison</title>"
            "<style>body{font-family:sans-serif;max-width:70em}td,th{border:1px solid #999;"
            "padding:4px 8px;vertical-align:top}table{border-collapse:collapse;margin-bottom:1em}"
            ".n{text-align:right}.identical{background:#e8f5e9}.different{background:#fff3e0}"
            ".failed{background:#ffebee}.null{color:#777;font-style:italic}</style>"
            f"<h1>{e(self.headline())}</h1>"
            f"<p>Compared on {e(_when(self.started))} (finished {e(_when(self.finished))}).<br>"
            f"Source: {e(self.source_database)}<br>Target: {e(self.target_database)}"
            + (f"<br>Saved migration: {e(self.profile)}" if self.profile else "")
            + f"</p><p>{e(self.coverage())}</p>"
            "<table><tr><th>Source table</th><th>Target table</th><th>Rows in source</th>"
            f"<th>Rows in target</th><th>Verdict</th></tr>{verdicts}</table>{sections}"
        )

    def save(self, path: Path) -> Path:
        """Save as HTML, CSV or JSON, by the file's ending (only its owner may read it)."""
        return save_report(self, path)


def _table_section(t: TableComparison) -> str:
    e = html.escape
    lines = []
    for row in t.rows:
        if row.columns:
            for i, c in enumerate(row.columns):
                name = (
                    c.column if c.column == c.target_column else f"{c.column} → {c.target_column}"
                )
                lines.append(
                    f"<tr><td>{e(row.kind) if i == 0 else ''}</td>"
                    f"<td>{e(row.key_text()) if i == 0 else ''}</td><td>{e(name)}</td>"
                    f"<td>{_cell(c.source_value)}</td><td>{_cell(c.target_value)}</td></tr>"
                )
        else:
            values = ", ".join(f"{k}={_shown(v)}" for k, v in row.values.items())
            lines.append(f"<tr><td>{e(row.kind)}</td><td>{e(row.key_text())}</td>"
                         f"<td colspan='3'>{e(_clip(values))}</td></tr>")  # fmt: skip
    more = (
        ""
        if t.shown_all
        else f"<p>Showing the first {len(t.rows):,} of {t.differences:,} differences.</p>"
    )
    return (
        f"<h2>{e(t.target)}</h2><p>{e(t.verdict())}</p>{more}"
        "<table><tr><th>Row</th><th>Key</th><th>Column</th><th>Source value</th>"
        f"<th>Target value</th></tr>{''.join(lines)}</table>"
    )


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _shown(value: str | None) -> str:
    return "(empty)" if value is None else repr(value) if value == "" else _clip(value, 80)


def _cell(value: str | None) -> str:
    if value is None:
        return "<span class='null'>(empty)</span>"
    return html.escape(_clip(value))


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text):,} characters)"


def _csv(value: str | None) -> str:
    return "(empty)" if value is None else value


def _css(status: Status) -> str:
    return {Status.IDENTICAL: "identical", Status.DIFFERENT: "different"}.get(status, "failed")


def _when(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).strftime("%d %B %Y at %H:%M")
    except ValueError:
        return stamp
