"""Types for CSV files that come without a manifest: the narrowest type every sampled value of a
column fits, and ``text`` when unsure.

A proposal is only a proposal: the file is loaded with the chosen types, and a later value that
does not fit becomes a rejected row with the server's reason, never a value of another type.
So the rules accept only spellings PostgreSQL reads the same way: no exponents, no local dates,
no numbers with leading zeros (``007`` is a code, and would load as 7).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from itertools import islice

from coursemig_gui.core.csvfiles import CsvLayout, file_batches, record_fields

SAMPLE_ROWS = 1000
INFERRED_TYPES = (
    "boolean",
    "integer",
    "bigint",
    "numeric",
    "date",
    "timestamp with time zone",
    "uuid",
    "jsonb",
    "text",
)

_BOOLEANS = frozenset({"t", "f", "true", "false", "yes", "no", "y", "n", "on", "off"})
_INTEGER = re.compile(r"[+-]?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?|[+-]?\.[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# an explicit offset is required: without one the moment depends on a time zone we would guess
_TIMESTAMPTZ = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _int_in(bits: int) -> Callable[[str], bool]:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def fits(value: str) -> bool:
        return bool(_INTEGER.fullmatch(value)) and low <= int(value) <= high

    return fits


def _is_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_timestamptz(value: str) -> bool:
    match = _TIMESTAMPTZ.fullmatch(value)
    if not match:
        return False
    offset = match.group(5)
    if offset == "Z":
        offset = "+00:00"
    elif len(offset) == 3:
        offset += ":00"
    elif ":" not in offset:
        offset = offset[:3] + ":" + offset[3:]
    try:
        datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}{offset}")
    except ValueError:
        return False
    return True


def _is_json(value: str) -> bool:
    if value[:1] not in ("{", "["):
        return False  # a bare number or word is JSON too, but surely not meant as such
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


# narrowest first; text takes everything
_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("boolean", lambda v: v.lower() in _BOOLEANS),
    ("integer", _int_in(32)),
    ("bigint", _int_in(64)),
    ("numeric", lambda v: bool(_DECIMAL.fullmatch(v))),
    ("date", _is_date),
    ("timestamp with time zone", _is_timestamptz),
    ("uuid", lambda v: bool(_UUID.fullmatch(v)) and bool(uuid.UUID(v))),
    ("jsonb", _is_json),
)


def infer_type(values: Iterable[str | None]) -> str:
    """The narrowest type every value fits (None is a NULL, and fits all); ``text`` when there
    are no values, or nothing else fits (an empty string fits only text)."""
    present = [v for v in values if v is not None]
    if not present:
        return "text"
    for name, fits in _RULES:
        if all(fits(v) for v in present):
            return name
    return "text"


def sample_values(layout: CsvLayout, rows: int = SAMPLE_ROWS) -> dict[str, list[str | None]]:
    """The first ``rows`` data rows of a file, column by column."""
    columns: dict[str, list[str | None]] = {name: [] for name in layout.columns}
    # a stray quote is the run's to refuse, with its line; a proposal is made all the same
    batches = file_batches(layout, rows, 16 << 20, check_quotes=False)
    records = (r for batch in batches for r in batch.rows)
    for record in islice(records, rows):
        fields = record_fields(record.decode(layout.encoding, "replace"), layout.delimiter)
        for name, value in zip(layout.columns, fields, strict=False):
            columns[name].append(value)
    return columns


def infer_file_types(layout: CsvLayout, rows: int = SAMPLE_ROWS) -> dict[str, str]:
    """A proposed type for each column of the file, from a sample of its first rows."""
    return {name: infer_type(values) for name, values in sample_values(layout, rows).items()}
