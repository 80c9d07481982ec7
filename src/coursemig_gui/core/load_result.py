"""What a table's load is told (its bad-row limits) and what it counts (rows, bytes, the
rejected rows kept for verification)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

KEEP_REJECTED_BYTES = 16 << 20  # beyond this, verification compares counts only


@dataclass
class LoadPolicy:
    stop_on_error: bool = False
    max_rejects: int | None = 100
    max_reject_percent: float | None = None


@dataclass
class LoadResult:
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    bytes_read: int = 0
    checksum: int = 0  # an export's content checksum (content_checksum.py)
    # the rejected rows as read, for verification to take them off the source's side
    rejected_rows: list[bytes] = field(default_factory=list)
    rejected_rows_kept: bool = True  # False: more than KEEP_REJECTED_BYTES, not all kept
    rejected_bytes: int = 0

    def keep_rejected(self, raw: bytes) -> None:
        if self.rejected_rows_kept and self.rejected_bytes + len(raw) <= KEEP_REJECTED_BYTES:
            self.rejected_rows.append(raw)
            self.rejected_bytes += len(raw)
        else:
            self.rejected_rows_kept = False
            self.rejected_rows.clear()


ProgressCallback = Callable[[LoadResult], None]
