"""A flat table over a Python list with fixed column headers: what the error log, the report
and the recent-profiles list have in common."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

NO_INDEX = QModelIndex()


class ListTableModel(QAbstractTableModel):
    """Rows are ``self._items``; subclasses name their columns in ``HEADERS`` and give ``data``."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list = []

    def rowCount(self, parent=NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent=NO_INDEX) -> int:
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None
