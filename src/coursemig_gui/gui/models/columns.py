"""The Columns page's models: the chosen tables with their state, and one table's column grid."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QApplication, QStyle

from coursemig_gui.core.catalog import Table
from coursemig_gui.core.generated_columns import computed_note
from coursemig_gui.core.mapping import Problem, TableMapping
from coursemig_gui.gui.signals import emit

_NO_INDEX = QModelIndex()


def _icon(kind: str):
    pixmap = {
        "ok": QStyle.StandardPixmap.SP_DialogApplyButton,
        "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
        "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    }[kind]
    return QApplication.style().standardIcon(pixmap)


def state_of(problems: list[Problem]) -> str:
    """ "error" if any problem blocks the run, "warning" if any is worth a look, else "ok"."""
    if any(p.is_error for p in problems):
        return "error"
    return "warning" if problems else "ok"


class MappingListModel(QAbstractListModel):
    """The tables chosen on the previous page, each with an ok / warning / error icon."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._mappings: list[TableMapping] = []
        self._problems: dict[str, list[Problem]] = {}

    def set_mappings(self, mappings: list[TableMapping]) -> None:
        self.beginResetModel()
        self._mappings = list(mappings)
        self.endResetModel()

    def set_problems(self, problems: list[Problem]) -> None:
        by_table: dict[str, list[Problem]] = {}
        for problem in problems:
            by_table.setdefault(problem.table, []).append(problem)
        self._problems = by_table
        if self._mappings:
            emit(self.dataChanged, self.index(0), self.index(len(self._mappings) - 1))

    def mapping(self, row: int) -> TableMapping | None:
        return self._mappings[row] if 0 <= row < len(self._mappings) else None

    def row_of(self, source: str) -> int:
        return next((i for i, m in enumerate(self._mappings) if m.source == source), -1)

    def rowCount(self, parent=_NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._mappings)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        tm = self._mappings[index.row()]
        problems = self._problems.get(tm.source, [])
        name = tm.target if tm.target == tm.source else f"{tm.target}  ← {tm.source}"
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.DecorationRole:
            return _icon(state_of(problems))
        if role == Qt.ItemDataRole.ToolTipRole:
            # the full name first: a narrow list elides it in the middle
            return (
                "\n".join([name] + [p.message for p in problems])
                if problems
                else f"{name}\nReady to copy"
            )
        if role == Qt.ItemDataRole.UserRole:
            return tm.source
        return None

    def refresh(self, source: str) -> None:
        row = self.row_of(source)
        if row >= 0:
            emit(self.dataChanged, self.index(row), self.index(row))


class ColumnsModel(QAbstractTableModel):
    """One table's columns: include, source name and type, target name and type, notes.

    Edits change the ``TableMapping`` in place; ``mapping_changed`` tells the page to validate.
    """

    INCLUDE, SOURCE, SOURCE_TYPE, TARGET, TARGET_TYPE, NOTES = range(6)
    HEADERS = ("Copy", "Column", "Type now", "Copied as", "Type in target", "Notes")
    mapping_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._mapping: TableMapping | None = None
        self._table: Table | None = None
        self._notes: dict[str, list[Problem]] = {}

    @property
    def mapping(self) -> TableMapping | None:
        return self._mapping

    def set_table(self, mapping: TableMapping | None, table: Table | None) -> None:
        self.beginResetModel()
        self._mapping, self._table = mapping, table
        self.endResetModel()

    def set_problems(self, problems: list[Problem]) -> None:
        """Problems for this table; those naming a column show in its Notes cell."""
        notes: dict[str, list[Problem]] = {}
        for problem in problems:
            if problem.column and self._mapping and problem.table == self._mapping.source:
                notes.setdefault(problem.column, []).append(problem)
        self._notes = notes
        if self.rowCount():
            emit(
                self.dataChanged,
                self.index(0, 0),
                self.index(self.rowCount() - 1, self.columnCount() - 1),
            )

    def problems_for_row(self, row: int) -> list[Problem]:
        if not self._mapping:
            return []
        return self._notes.get(self._mapping.columns[row].source, [])

    def rowCount(self, parent=_NO_INDEX) -> int:
        return 0 if parent.isValid() or not self._mapping else len(self._mapping.columns)

    def columnCount(self, parent=_NO_INDEX) -> int:
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def _computed(self, row: int) -> str | None:
        """The note of a column the database computes (generated): its copy box and type are
        fixed, the target computes it from the expression."""
        if not self._mapping or not self._table or not 0 <= row < len(self._mapping.columns):
            return None
        return computed_note(self._table.column(self._mapping.columns[row].source))

    def flags(self, index) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        fixed = index.column() in (self.INCLUDE, self.TARGET_TYPE) and self._computed(index.row())
        if fixed:
            return flags
        if index.column() == self.INCLUDE:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        elif index.column() in (self.TARGET, self.TARGET_TYPE):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not self._mapping:
            return None
        cm = self._mapping.columns[index.row()]
        col = index.column()
        problems = self._notes.get(cm.source, [])
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == self.SOURCE:
                return cm.source
            if col == self.SOURCE_TYPE:
                source_col = self._table.column(cm.source) if self._table else None
                return source_col.type if source_col else ""
            if col == self.TARGET:
                return cm.target
            if col == self.TARGET_TYPE:
                return cm.target_type
            if col == self.NOTES:
                if not cm.include:
                    return "Left out"
                computed = self._computed(index.row())
                return " ".join([*([computed] if computed else []), *(p.message for p in problems)])
            return None
        if role == Qt.ItemDataRole.CheckStateRole and col == self.INCLUDE:
            return Qt.CheckState.Checked if cm.include else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == self.NOTES and problems and cm.include:
            return _icon(state_of(problems))
        if role == Qt.ItemDataRole.ToolTipRole and col == self.NOTES and problems:
            return "\n".join(p.message for p in problems)
        if role == Qt.ItemDataRole.ToolTipRole and col in (self.INCLUDE, self.TARGET_TYPE):
            computed = self._computed(index.row())
            if computed:
                return computed
        if role == Qt.ItemDataRole.ToolTipRole and col == self.INCLUDE:
            return "Untick to leave this column out of the copy"
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or not self._mapping:
            return False
        cm = self._mapping.columns[index.row()]
        col = index.column()
        if col in (self.INCLUDE, self.TARGET_TYPE) and self._computed(index.row()):
            return False  # computed by the database: made as the source has it
        if col == self.INCLUDE and role == Qt.ItemDataRole.CheckStateRole:
            checked = (
                value != Qt.CheckState.Unchecked
                if isinstance(value, Qt.CheckState)
                else bool(int(value))
            )
            cm.include = checked
        elif col == self.TARGET and role == Qt.ItemDataRole.EditRole:
            cm.target = str(value).strip()
        elif col == self.TARGET_TYPE and role == Qt.ItemDataRole.EditRole:
            cm.target_type = str(value).strip()
        else:
            return False
        emit(self.dataChanged, self.index(index.row(), 0), self.index(index.row(), self.NOTES))
        emit(self.mapping_changed)
        return True

    def rename_column(self, source: str, target: str) -> bool:
        """The one-click fix ("Rename to end_time") and what tests call to edit a name."""
        if not self._mapping:
            return False
        for row, cm in enumerate(self._mapping.columns):
            if cm.source == source:
                return self.setData(self.index(row, self.TARGET), target)
        return False

    def set_column_type(self, source: str, target_type: str) -> bool:
        if not self._mapping:
            return False
        for row, cm in enumerate(self._mapping.columns):
            if cm.source == source:
                return self.setData(self.index(row, self.TARGET_TYPE), target_type)
        return False
