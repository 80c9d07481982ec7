"""The per-row error log: each bad row's text in a reject file, and the reason in plain words."""

from __future__ import annotations

import csv
import re
import threading
import time
from pathlib import Path

import psycopg

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.events import RejectedRow
from coursemig_gui.core.file_names import safe_file_stem
from coursemig_gui.core.private_files import open_private, spreadsheet_row

# Citus names a shard's constraint "<name>_<shardid>": a person knows it without the suffix.
_SHARD_SUFFIX = re.compile(r"_\d{4,}$")
# "COPY t, line 3, column title: ..." -- and in a translated server the words change but the
# shape does not, so match the digits after the first comma, not the word "line".
_CONTEXT = re.compile(r"^COPY .*?,\s*\S+\s+(\d+)(?:,\s*\S+\s+(.+?))?(?::\s|$)", re.S)


def strip_shard_suffix(name: str | None) -> str | None:
    return _SHARD_SUFFIX.sub("", name) if name else name


def copy_error_position(exc: psycopg.Error) -> tuple[int | None, str | None]:
    """(line, column) from a COPY error's context, when the server gave one."""
    context = (exc.diag.context or "").strip() if exc.diag else ""
    for line in context.splitlines():
        m = _CONTEXT.match(line.strip())
        if m:
            column = m.group(2).strip().strip('"') if m.group(2) else None
            return int(m.group(1)), column
    return None, None


def is_row_error(exc: psycopg.Error) -> bool:
    """A problem with the data of some row (bad value, key clash), not with the connection or
    the table. Citus reports unique violations from its workers as XX000, so those count too."""
    state = exc.sqlstate or ""
    if state.startswith(("22", "23")):
        return True
    text = str(exc)
    return state == "XX000" and ("duplicate key" in text or "violates check constraint" in text)


def explain_row_error(exc: psycopg.Error, column: str | None, target: str) -> str:
    """A sentence a person can act on, for one rejected row."""
    state = exc.sqlstate or ""
    diag = exc.diag
    col = column or (diag.column_name if diag else None)
    message = (diag.message_primary if diag else None) or str(exc)
    detail = (diag.message_detail if diag else None) or ""
    constraint = strip_shard_suffix(diag.constraint_name if diag else None)
    where = f"{target}.{col}" if col else target
    if state == "22001":
        limit = re.search(r"\((\d+)\)", message)
        size = f" (at most {limit.group(1)} characters)" if limit else ""
        return f"The value is too long for {where}{size}. Widen the column or shorten the value."
    if state == "23505" or (state == "XX000" and "duplicate key" in message):
        key = re.search(r"Key \((.*?)\)=\((.*?)\)", detail)
        what = f"{key.group(1)} = {key.group(2)}" if key else (constraint or "the same key")
        return (
            f"A row with {what} is already in {target}. Choose 'Replace all rows' (--if-exists "
            "replace) or remove the duplicate."
        )
    if state == "23503":
        key = re.search(r"Key \((.*?)\)=\((.*?)\) is not present in table \"(.*?)\"", detail)
        if key:
            return (
                f"The row refers to {key.group(3)} {key.group(1)} = {key.group(2)}, "
                f"which is not in {key.group(3)}. Copy that row first, or leave this one out."
            )
        return f"The row refers to a row that is not in the target ({constraint or 'foreign key'})."
    if state == "23502":
        return f"{where} is empty, but the target requires a value."
    if state == "23514" or (state == "XX000" and "violates check constraint" in message):
        # Citus's worker says XX000 and names the shard's constraint only in the message
        named = re.search(r'violates check constraint "(.*?)"', message)
        rule = constraint or strip_shard_suffix(named.group(1) if named else None) or ""
        return f"The row breaks the rule {rule} on {target}."
    if state in ("22P02", "22007", "22008"):
        return f"The value in {where} is not valid for its type: {message}."
    if state == "22003":
        return f"The number in {where} is too large for its type."
    if state == "22021" and "0x00" in message:
        return "The row holds a zero byte (NUL), which a database text cannot store. Remove it from the file."
    if state == "22021":
        return "The row has characters that are not valid UTF-8. Choose the file's real encoding (for example Latin-1)."
    if state == "22P04":
        return f"The row does not fit the file's columns: {message}."
    return f"The row could not be copied: {message}."


# The one layout of a list of rejected rows: errors.csv here, and the wizard's "Export…".
ERROR_LOG_COLUMNS = (
    "table",
    "row",
    "column",
    "sqlstate",
    "problem",
    "value",
    "server message",
    "row text",
)


def error_log_row(row: RejectedRow) -> list[object]:
    """One rejected row in the ``ERROR_LOG_COLUMNS`` layout (a long value is cut at 500
    characters; the whole row is in ``row text``)."""
    # staff open these lists in Excel: no cell may run as a formula
    return spreadsheet_row(
        [
            row.target,
            row.row_number,
            row.column or "",
            row.sqlstate or "",
            row.reason,
            (row.value or "")[:500],
            row.detail,
            row.text,
        ]
    )


class RejectLog:
    """Writes bad rows as they are found: ``<target>.rejected.csv`` holds each row's original
    text (the header first), and ``errors.csv`` one line per row with its reason."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._files: dict[str, object] = {}
        self._errors = None
        self._errors_writer = None
        self.count = 0
        self._logged: dict[str, int] = {}  # rows logged in this run, per target table

    def reject_file(self, target: str) -> Path:
        return self.folder / f"{safe_file_stem(target)}.rejected.csv"

    @property
    def errors_file(self) -> Path:
        return self.folder / "errors.csv"

    def check_inputs(self, reads: set[Path], targets: list[str]) -> None:
        """Refuse a run whose skipped rows of a table would be written over a file it reads
        (a skipped-rows file fixed and imported from the same folder)."""
        for target in targets:
            path = self.reject_file(target)
            if path.resolve() in reads:
                raise FriendlyError(
                    f"{path} is both a file this import reads and where the rows of {target} "
                    "it cannot copy would be written. Choose another folder for the skipped "
                    "rows (--rejects-dir, or the Migrate page's setting).",
                    str(path),
                )

    def set_aside_earlier(self, reads: set[Path] = frozenset()) -> Path | None:
        """Move what an earlier run left in the folder (its skipped rows and error log) into a
        subfolder of its own: after a clean run, a file left beside this run's would list rows
        that are now in the target, and fixing and importing it would add them twice. Files
        this run reads (``reads``, resolved) stay. Returns the subfolder, or None when there was
        nothing."""
        if not self.folder.is_dir():
            return None
        earlier = [
            p for p in sorted(self.folder.glob("*.rejected.csv")) if p.resolve() not in reads
        ]
        if self.errors_file.exists():
            earlier.append(self.errors_file)
        if not earlier:
            return None
        when = time.localtime(max(p.stat().st_mtime for p in earlier))
        name = f"earlier-run-{time.strftime('%Y-%m-%d_%H%M%S', when)}"
        place, n = self.folder / name, 1
        while place.exists():
            n += 1
            place = self.folder / f"{name}-{n}"
        place.mkdir(mode=0o700)
        for path in earlier:
            path.rename(place / path.name)
        return place

    def logged(self, target: str) -> int:
        """Rows of ``target`` logged in this run (after a retry, only those of the last try)."""
        with self._lock:
            return self._logged.get(target, 0)

    def add(self, row: RejectedRow, header: str, raw: bytes | None = None) -> None:
        """Record one row. ``raw`` is the row exactly as read (CSV bytes) when we have it."""
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            f = self._files.get(row.target)
            if f is None:
                f = open_private(self.reject_file(row.target), "wb")  # kept open for the run
                f.write(header.encode("utf-8"))
                self._files[row.target] = f
            data = raw if raw is not None else row.text.encode("utf-8")
            f.write(data if data.endswith(b"\n") else data + b"\n")
            f.flush()
            if self._errors is None:
                self._errors = open_private(self.errors_file, "w", newline="", encoding="utf-8")
                self._errors_writer = csv.writer(self._errors)
                self._errors_writer.writerow(ERROR_LOG_COLUMNS)
            self._errors_writer.writerow(error_log_row(row))
            self._errors.flush()
            self.count += 1
            self._logged[row.target] = self._logged.get(row.target, 0) + 1

    def discard(self, target: str) -> None:
        """Forget what this run logged for one table, because its load starts again from the
        first row (a retry after a lost connection): otherwise each bad row would be listed
        once per try. Files of earlier runs are not touched."""
        with self._lock:
            f = self._files.pop(target, None)
            self._logged.pop(target, None)
            if f is None:
                return  # nothing logged for it in this run
            f.close()
            self.reject_file(target).unlink(missing_ok=True)
            if self._errors is None:
                return
            self._errors.close()
            with self.errors_file.open(newline="", encoding="utf-8") as read:
                rows = list(csv.reader(read))
            kept = rows[:1] + [row for row in rows[1:] if row and row[0] != target]
            self.count -= len(rows) - len(kept)
            with open_private(self.errors_file, "w", newline="", encoding="utf-8") as write:
                csv.writer(write).writerows(kept)  # cells were made spreadsheet-safe when written
            self._errors = open_private(self.errors_file, "a", newline="", encoding="utf-8")
            self._errors_writer = csv.writer(self._errors)

    def close(self) -> None:
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()
            if self._errors is not None:
                self._errors.close()
                self._errors = None
