"""How wide the Columns page's parts are: names readable in the list, room left for Notes."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QListView, QSplitter, QTableView, QWidget


def fit_table_list(view: QListView, splitter: QSplitter, under: QWidget) -> None:
    """The table list as wide as its longest name, up to 30 % of the page (then elided).

    Never narrower than ``under`` (the button below it), so its text stays whole.
    """
    wanted = view.sizeHintForColumn(0) + 2 * view.frameWidth() + 8
    wanted += view.verticalScrollBar().sizeHint().width()
    total = sum(splitter.sizes()) or splitter.width()
    left = max(min(wanted, int(total * 0.3)), under.sizeHint().width())
    splitter.setSizes([left, max(total - left, 1)])


def fit_type_columns(view: QTableView, columns: Iterable[int]) -> None:
    """Type columns as wide as their types, up to "timestamp with time zone", so Notes keeps
    the rest of the width (it wraps; the types are short)."""
    widest = view.fontMetrics().horizontalAdvance("timestamp with time zone") + 16
    header = view.horizontalHeader()
    for col in columns:
        # the heading too ("Type in target" was cut to "pe in targ" over short types)
        wanted = max(view.sizeHintForColumn(col), header.sectionSizeHint(col), 60)
        view.setColumnWidth(col, min(wanted, widest))
