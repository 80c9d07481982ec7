"""CSV files as a route: reading them in batches of whole records, without parsing every field.

A record ends at a newline outside quotes; counting quote characters per physical line tells
which newlines those are. That is all COPY's CSV format needs, and it costs a ``bytes.count``
per line instead of a Python-level parse of every field (which broke the user's first try:
``copy_from`` split quoted commas).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.file_names import safe_file_stem
from coursemig_gui.core.row_batch import RowBatch

UTF8_BOM = codecs.BOM_UTF8
# Python codec name -> PostgreSQL's name for COPY's ENCODING option
PG_ENCODINGS = {
    "utf-8": "UTF8",
    "utf8": "UTF8",
    "latin-1": "LATIN1",
    "latin1": "LATIN1",
    "iso-8859-1": "LATIN1",
    "cp1252": "WIN1252",
    "windows-1252": "WIN1252",
    "iso-8859-15": "LATIN9",
}


@dataclass(frozen=True)
class CsvLayout:
    """What is known about a CSV file after reading its start."""

    path: Path
    columns: list[str]
    delimiter: str
    encoding: str
    has_bom: bool
    header_bytes: int  # where the data starts
    header_lines: int = 1  # physical lines the header takes (a quoted name may hold a newline)


def csv_file_name(table: str) -> str:
    """The CSV file for a table: ``<table>.csv``, the name made safe by ``safe_file_stem``."""
    return f"{safe_file_stem(table)}.csv"


def pg_encoding(encoding: str) -> str:
    try:
        return PG_ENCODINGS[encoding.lower()]
    except KeyError:
        raise FriendlyError(
            f"CourseMig cannot read files in the encoding {encoding}. Choose UTF-8, Latin-1 or Windows-1252.",
            "",
        ) from None


def _split_records(data: bytes, quote: int = ord('"')) -> Iterator[bytes]:
    """Whole CSV records from a buffer that starts at a record boundary; the last, possibly
    unfinished, record is yielded too (the caller keeps it for the next buffer)."""
    start = 0
    pending_quotes = 0
    pos = 0
    n = len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        pending_quotes += data.count(quote, pos, nl + 1)
        pos = nl + 1
        if pending_quotes % 2 == 0:
            yield data[start:pos]
            start = pos
            pending_quotes = 0
    if start < n:
        yield data[start:]


def read_layout(
    path: Path,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    known_columns: list[str] | None = None,
) -> CsvLayout:
    """Read the header: column names, delimiter (guessed when not given) and encoding checks.

    ``known_columns``: the names an export's manifest gives for a file whose checksum was
    checked; they are taken exactly, where the header's would be trimmed."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(1 << 20)
    except OSError as exc:
        raise FriendlyError(
            f"The file {path} could not be opened: {exc.strerror}.", str(exc)
        ) from exc
    if not head.strip():
        raise FriendlyError(
            f"The file {path.name} is empty: it has no header line naming the columns.", str(path)
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        head[:200].count(b"\x00") > len(head[:200]) // 3  # UTF-16 without its mark
    ):
        raise FriendlyError(
            f'The file {path.name} is saved as UTF-16 (Excel\'s "Unicode Text"), which CourseMig '
            'cannot read. Save it again as "CSV UTF-8 (Comma delimited)" and import that file.',
            repr(head[:40]),
        )
    if b"\n" not in head and b"\r" in head.strip():
        # Old Mac line ends (CR only, Excel's "CSV (Macintosh)"): read as one long header line,
        # the file would load no rows at all without a word.
        raise FriendlyError(
            f"The file {path.name} ends its lines with a carriage return only (an old Mac "
            'format). Save it again as "CSV UTF-8 (Comma delimited)" and import that file.',
            repr(head[:80]),
        )
    has_bom = head.startswith(UTF8_BOM)
    body = head[len(UTF8_BOM) :] if has_bom else head
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(body) - 4:  # not just a character cut by the 1 MB read
                line = body[: exc.start].count(b"\n") + 1
                raise FriendlyError(
                    f"The file {path.name} is not UTF-8 (line {line} has a byte UTF-8 does not allow). "
                    "Choose the file's encoding, for example Latin-1 or Windows-1252.",
                    str(exc),
                ) from exc
    elif PG_ENCODINGS.get(encoding.lower()) in _SINGLE_BYTE:
        _refuse_misread(path, body, has_bom, encoding, cut=len(head) == 1 << 20)
    first = next(_split_records(body), b"")
    header_text = first.decode(encoding, "replace").rstrip("\r\n")
    if delimiter is None:
        delimiter = _guess_delimiter(header_text)
    columns = next(csv.reader(io.StringIO(header_text), delimiter=delimiter), [])
    columns = [c.strip() for c in columns]
    if known_columns is not None and len(known_columns) == len(columns):
        columns = list(known_columns)
    if not columns or all(not c for c in columns):
        raise FriendlyError(
            f"The first line of {path.name} does not name any columns.", header_text[:200]
        )
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise FriendlyError(
            f"The header (line 1) of {path.name} names the column {', '.join(dupes)} more than once. "
            "Each column must appear once.",
            header_text[:200],
        )
    if any(not c for c in columns):
        raise FriendlyError(
            f"The header (line 1) of {path.name} has a column without a name.", header_text[:200]
        )
    return CsvLayout(
        path,
        columns,
        delimiter,
        encoding,
        has_bom,
        len(first) + (3 if has_bom else 0),
        max(1, first.count(b"\n")),
    )


# single-byte encodings whose 0x80-0x9F are invisible control characters, where Windows-1252
# (what Excel on Windows writes) has the euro sign, curly quotes and dashes
_C1_ENCODINGS = frozenset({"LATIN1", "LATIN9"})
_SINGLE_BYTE = _C1_ENCODINGS | {"WIN1252"}
_C1_BYTE = re.compile(rb"[\x80-\x9f]")
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _encoding_label(encoding: str) -> str:
    return {"LATIN1": "Latin-1", "LATIN9": "Latin-9", "WIN1252": "Windows-1252"}.get(
        PG_ENCODINGS.get(encoding.lower(), ""), encoding
    )


def _refuse_misread(path: Path, body: bytes, has_bom: bool, encoding: str, *, cut: bool) -> None:
    """A file chosen to be read in a single-byte encoding, refused where that reading would
    load other characters than the file holds, without a word (the server takes any byte)."""
    label = _encoding_label(encoding)
    utf8_line = None
    if has_bom:
        utf8_line = 1
    elif match := _NON_ASCII.search(body):
        try:
            body.decode("utf-8")
            utf8_line = body[: match.start()].count(b"\n") + 1
        except UnicodeDecodeError as exc:
            if cut and exc.start >= len(body) - 4:  # only a character cut by the 1 MB read
                utf8_line = body[: match.start()].count(b"\n") + 1
    if utf8_line is not None:
        why = (
            "it starts with UTF-8's byte-order mark"
            if has_bom
            else (f"line {utf8_line} has characters written the UTF-8 way")
        )
        raise FriendlyError(
            f"The file {path.name} is UTF-8 ({why}), but it was to be read as {label}, which "
            f"would load é as Ã©. Import it as UTF-8 (without --encoding; on its own with "
            f"--tables {path.stem} if other files need {label}).",
            repr(body[:80]),
        )
    if PG_ENCODINGS.get(encoding.lower()) in _C1_ENCODINGS:
        refuse_c1_bytes(path, body, 1, encoding)


def refuse_c1_bytes(path: Path, data: bytes, first_line: int, encoding: str) -> None:
    """Refuse bytes 0x80-0x9F of a Latin-1 file: Latin-1 reads them as invisible control
    characters, where they are almost surely Windows-1252's euro sign and curly quotes."""
    match = _C1_BYTE.search(data)
    if match is None:
        return
    label = _encoding_label(encoding)
    line = first_line + data[: match.start()].count(b"\n")
    raise FriendlyError(
        f"The file {path.name} is not {label}: line {line} has a byte {label} reads as an "
        "invisible control character, which in Windows-1252 is a euro sign, a curly quote or "
        "a dash. Choose Windows-1252 (--encoding cp1252).",
        repr(data[max(0, match.start() - 40) : match.start() + 40]),
    )


def _guess_delimiter(header: str) -> str:
    header = re.sub(r'"[^"]*"', "", header)  # a quoted name may hold any of them
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def file_batches(
    layout: CsvLayout, batch_rows: int, batch_bytes: int, *, check_quotes: bool = True
) -> Iterator[RowBatch]:
    """The file's data records in batches; a record never spans two batches.

    Each batch carries the physical line each record starts on (the header is line 1), so a
    problem can be named by the line a person finds in an editor. ``check_quotes``: refuse a
    quote that COPY would read otherwise than a spreadsheet (``_refuse_stray_quote``).
    """
    number = 1
    batch: list[bytes] = []
    lines: list[int] = []
    size = 0
    carry = b""
    line = 1 + layout.header_lines  # the line the next record starts on
    # read_layout checked the first megabyte; a byte the server would take as a control
    # character is refused wherever it is
    c1 = PG_ENCODINGS.get(layout.encoding.lower()) in _C1_ENCODINGS
    well_quoted = _well_quoted(layout) if check_quotes else None
    with layout.path.open("rb") as f:
        f.seek(layout.header_bytes)
        while True:
            block = f.read(4 << 20)
            data = carry + block
            carry = b""
            if not data:
                break
            records = list(_split_records(data))
            if records and (not records[-1].endswith(b"\n") or _odd_quotes(records[-1])):
                carry = records.pop()  # unfinished: wait for the next block
                if not block and _odd_quotes(carry):
                    break  # the file ended inside a quoted value
                if not block:
                    records.append(carry)  # a last line without its newline
                    carry = b""
            for record in records:
                start, line = line, line + record.count(b"\n")
                if c1:
                    refuse_c1_bytes(layout.path, record, start, layout.encoding)
                if well_quoted is not None and b'"' in record:
                    _refuse_stray_quote(layout, well_quoted, record, start)
                if not record.strip(b"\r\n") and len(layout.columns) > 1:
                    continue  # a blank line carries no row, except in a one-column file,
                    # where it is a NULL (that is how COPY writes one)
                if record.endswith(b"\r\n"):
                    record = record[:-2] + b"\n"  # one line end for COPY, whatever the file has
                elif not record.endswith(b"\n"):
                    record += b"\n"
                if record == b"\\.\n":
                    # COPY (PostgreSQL 17 and older) takes a lone \. line for the end of the
                    # data and drops every row after it; quoted it is the value \. instead
                    record = b'"\\."\n'
                batch.append(record)
                lines.append(start)
                size += len(record)
                if len(batch) >= batch_rows or size >= batch_bytes:
                    yield RowBatch.of_rows(batch, number, lines)
                    number += len(batch)
                    batch, lines, size = [], [], 0
            if not block:
                break
    if carry:
        raise FriendlyError(
            f'{layout.path.name} ends inside a quoted value: the " opened on line {line} '
            f"(row {number + len(batch)}) is never closed. Check the file's quotes.",
            carry[:200].decode(layout.encoding, "replace"),
        )
    if batch:
        yield RowBatch.of_rows(batch, number, lines)


def _well_quoted(layout: CsvLayout) -> re.Pattern[bytes]:
    """A record whose every field is either unquoted and free of quotes, or wholly quoted with
    its inner quotes doubled: the only records COPY and a spreadsheet read alike."""
    d = re.escape(layout.delimiter.encode(layout.encoding))
    field = rb'(?:"(?:[^"]|"")*"|[^"' + d + rb"]*)"
    return re.compile(field + rb"(?:" + d + field + rb")*")


def _refuse_stray_quote(
    layout: CsvLayout, well_quoted: re.Pattern[bytes], record: bytes, line: int
) -> None:
    """COPY takes a quote anywhere in a field for the start of a quoted part: 'He said "hi"'
    loaded as 'He said hi', and '12" ruler' joined the lines up to the next quote into one
    value, rows and all. A spreadsheet keeps such a quote as it is, so the file is refused."""
    if well_quoted.fullmatch(record.rstrip(b"\r\n")):
        return
    text = record.decode(layout.encoding, "replace")
    quote = text.index('"')
    snippet = text[max(0, quote - 30) : quote + 30].split("\n")[0].strip()
    raise FriendlyError(
        f'Line {line} of {layout.path.name} has a quote (") inside a value that is not '
        f"wholly in quotes ({snippet}). Read as CSV, that quote would be dropped, and lines up "
        "to the next quote could be joined into the value. Put the whole value in quotes and double "
        'each quote inside it ("12"" ruler"), then import again.',
        text[:200],
    )


def _odd_quotes(record: bytes) -> bool:
    return record.count(b'"') % 2 == 1


def record_fields(record: str, delimiter: str) -> list[str | None]:
    """One CSV record's fields as COPY reads them: an unquoted empty field is a NULL (None), a
    quoted one (``""``) an empty string. Python's csv module cannot tell the two apart."""
    fields: list[str | None] = []
    value: list[str] = []
    quoted = in_quotes = False
    i, n = 0, len(record)
    while i < n:
        ch = record[i]
        if in_quotes:
            if ch == '"' and record[i + 1 : i + 2] == '"':
                value.append('"')
                i += 1
            elif ch == '"':
                in_quotes = False
            else:
                value.append(ch)
        elif ch == '"':
            in_quotes = quoted = True
        elif ch == delimiter:
            fields.append("".join(value) if value or quoted else None)
            value, quoted = [], False
        elif ch not in "\r\n":
            value.append(ch)
        i += 1
    fields.append("".join(value) if value or quoted else None)
    return fields


def without_columns(
    batches: Iterator[RowBatch], layout: CsvLayout, dropped: set[int]
) -> Iterator[RowBatch]:
    """The batches with the fields at ``dropped`` taken out of every record (columns left out
    of an import). Values are written back quoted, so an empty string stays one and a NULL
    (an empty unquoted field) stays a NULL; bytes the encoding cannot read pass unchanged."""
    for batch in batches:
        rows = []
        for record in batch.rows:
            text = record.decode(layout.encoding, "surrogateescape")
            kept = [
                v for i, v in enumerate(record_fields(text, layout.delimiter)) if i not in dropped
            ]
            line = layout.delimiter.join(
                "" if v is None else '"' + v.replace('"', '""') + '"' for v in kept
            )
            rows.append((line + "\n").encode(layout.encoding, "surrogateescape"))
        yield RowBatch.of_rows(rows, batch.first_number, batch.lines)
