"""The four routes a run can take, and what each reads and writes: every front asks here."""

from __future__ import annotations

from enum import StrEnum


class Route(StrEnum):
    DIRECT = "direct"  # database -> database, streamed, no files
    DIRECT_KEEP_CSV = "direct+csv"  # database -> CSV folder -> database, in one run
    EXPORT = "export"  # database -> CSV folder
    IMPORT = "import"  # CSV folder -> database

    @property
    def reads_database(self) -> bool:
        """Whether the run reads a source database (and so needs a source connection)."""
        return self in (Route.DIRECT, Route.DIRECT_KEEP_CSV, Route.EXPORT)

    @property
    def writes_database(self) -> bool:
        """Whether the run writes a target database (and so needs a target connection)."""
        return self in (Route.DIRECT, Route.DIRECT_KEEP_CSV, Route.IMPORT)

    @property
    def writes_csv(self) -> bool:
        """Whether the run writes CSV files into the chosen folder."""
        return self in (Route.EXPORT, Route.DIRECT_KEEP_CSV)

    @property
    def uses_csv_folder(self) -> bool:
        """Whether the run needs a CSV folder at all (to write, or to read from)."""
        return self != Route.DIRECT
