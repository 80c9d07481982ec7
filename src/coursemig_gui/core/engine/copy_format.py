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
