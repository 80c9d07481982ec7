"""COPY's wire formats as the engine meets them: the binary header and trailer, a CSV line."""

from __future__ import annotations

import csv
import io

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"


def csv_line(values: list[str | None]) -> str:
    out = io.StringIO()
    # "\r\n" so a lone CR in a value is quoted too (a header named "\r" read back as empty)
    csv.writer(out, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
    return out.getvalue()[:-2] + "\n"


def binary_fields(raw: bytes) -> list[bytes | None]:
    """The fields of one binary COPY row (no file header): each value's bytes, None for NULL."""
    count = int.from_bytes(raw[0:2], "big", signed=True)
    pos, fields = 2, []
    for _ in range(count):
        size = int.from_bytes(raw[pos : pos + 4], "big", signed=True)
        pos += 4
        if size < 0:
            fields.append(None)
        else:
            fields.append(raw[pos : pos + size])
            pos += size
    return fields


def csv_fields(raw: bytes) -> list[bytes | None]:
    """The fields of one row as ``COPY … TO STDOUT (FORMAT csv)`` writes it, exactly: an
    unquoted empty field is NULL, a quoted one (``""``) the empty string — which Python's
    ``csv`` module cannot tell apart."""
    end = len(raw) - (2 if raw.endswith(b"\r\n") else 1 if raw.endswith(b"\n") else 0)
    fields: list[bytes | None] = []
    pos = 0
    while True:
        if pos < end and raw[pos] == 0x22:  # a quoted field; "" inside is one quote
            value = bytearray()
            start = pos + 1
            while True:
                close = raw.index(b'"', start, end)
                value += raw[start:close]
                if close + 1 < end and raw[close + 1] == 0x22:
                    value += b'"'
                    start = close + 2
                    continue
                pos = close + 1
                break
            fields.append(bytes(value))
        else:
            comma = raw.find(b",", pos, end)
            stop = end if comma < 0 else comma
            fields.append(raw[pos:stop] or None)
            pos = stop
        if pos >= end:
            return fields
        pos += 1  # the comma
        if pos == end:  # a trailing comma: one more, empty, field
            fields.append(None)
            return fields
