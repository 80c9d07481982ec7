"""Row-by-row comparison of a finished migration: source and target, table by table."""

from coursemig_gui.core.compare.report import CompareReport, Status, TableComparison
from coursemig_gui.core.compare.run import (
    DEFAULT_SHOWN_ROWS,
    CompareProgress,
    compare_profile,
    compare_tables,
)

__all__ = ["DEFAULT_SHOWN_ROWS", "CompareProgress", "CompareReport", "Status", "TableComparison",
           "compare_profile", "compare_tables"]  # fmt: skip
