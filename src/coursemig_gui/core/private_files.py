"""Files that hold people's data (reject files, error logs, CSV exports): created readable by
the user only, and, for the logs staff open in a spreadsheet, with no cell that runs as a formula.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Protocol

PRIVATE_MODE = 0o600

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets
# (tab and CR too: some of them strip those first), so "=HYPERLINK(...)" in a bad row would run.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def open_private(path: Path | str, mode: str = "w", **kw: Any) -> IO[Any]:
    """``open()`` for a new file that only its owner may read (0600 on POSIX).

    The mode is given when the file is created, so there is no moment in which others can read
    it; an existing file is truncated or appended to and keeps its own permissions.
    """
    if "r" in mode:
        raise ValueError(f"open_private writes files; mode {mode!r} does not")
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
    if "+" in mode:
        flags = (flags & ~os.O_WRONLY) | os.O_RDWR
    if "a" in mode:
        flags |= os.O_APPEND
    elif "x" in mode:
        flags |= os.O_EXCL
    else:
        flags |= os.O_TRUNC
    fd = os.open(path, flags, PRIVATE_MODE)
    try:
        return os.fdopen(fd, mode.replace("x", "w"), **kw)
    except BaseException:
        os.close(fd)
        raise


def write_private_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """``Path.write_text`` for a file only its owner may read."""
    with open_private(path, "w", encoding=encoding, newline="") as f:
        f.write(text)


class SavableReport(Protocol):
    def to_html(self) -> str: ...
    def to_csv(self) -> str: ...
    def to_json(self) -> str: ...


def save_report(report: SavableReport, path: Path | str) -> Path:
    """Save a report as HTML, CSV or JSON, by the file's ending, readable by its owner only
    (reports name tables and hold row values)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = report.to_html()
    elif suffix == ".csv":
        text = report.to_csv()
    else:
        text = report.to_json()
    write_private_text(path, text)
    return path


def spreadsheet_safe(value: object) -> object:
    """A cell for a CSV file people open in a spreadsheet: text that would start a formula gets
    a leading apostrophe, which the spreadsheet shows as plain text. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_row(values: Iterable[object]) -> list[object]:
    return [spreadsheet_safe(v) for v in values]
