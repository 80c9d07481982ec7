"""The Tables page's tree: Django app → its tables, with check boxes, row counts and target names."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from coursemig_gui.core.catalog import Catalog, Table
from coursemig_gui.core.mapping import default_target_name
from coursemig_gui.gui.signals import emit

OTHER_TABLES = "Other tables"
_Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()


class _AppNode:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tables: list[_TableNode] = []


class _TableNode:
    def __init__(self, app: _AppNode, table: Table, target: str) -> None:
        self.app = app
        self.table = table
        self.target = target
        self.checked = False
        self.exact_rows: int | None = None

    @property
    def rows(self) -> int:
        return self.exact_rows if self.exact_rows is not None else self.table.row_estimate


class TablesModel(QAbstractItemModel):
    """Apps at the top level, tables under them. Column 0 carries the check boxes."""

    TABLE, ROWS, TARGET = range(3)
    HEADERS = ("Table", "Rows", "Copied as")
    selection_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._apps: list[_AppNode] = []
        self._catalog: Catalog | None = None

    # -- what the page calls --------------------------------------------------------------

    def set_catalog(
        self,
        catalog: Catalog,
        include_system: bool = False,
        selected: Iterable[str] = (),
        target_names: dict[str, str] | None = None,
    ) -> None:
        """Show ``catalog``'s tables; keeps exact row counts already known for the same tables."""
        known = {n.table.name: n.exact_rows for a in self._apps for n in a.tables}
        selected = set(selected)
        target_names = target_names or {}
        self.beginResetModel()
        self._catalog = catalog
        apps: dict[str, _AppNode] = {}
        for table in catalog.visible(include_system):
            app_name = table.app or OTHER_TABLES
            app = apps.setdefault(app_name, _AppNode(app_name))
            node = _TableNode(
                app, table, target_names.get(table.name) or default_target_name(table)
            )
            node.checked = table.name in selected
            node.exact_rows = known.get(table.name)
            app.tables.append(node)
        # The user's own apps first, Django's own ones after, "Other tables" last.
        self._apps = sorted(
            apps.values(),
            key=lambda a: (
                a.name == OTHER_TABLES,
                any(t.table.is_system for t in a.tables),
                a.name,
            ),
        )
        self.endResetModel()
        emit(self.selection_changed)

    def selected_tables(self) -> list[str]:
        return [n.table.name for a in self._apps for n in a.tables if n.checked]

    def visible_tables(self) -> list[str]:
        return [n.table.name for a in self._apps for n in a.tables]

    def selected_rows(self) -> int:
        return sum(n.rows for a in self._apps for n in a.tables if n.checked)

    def set_checked(self, names: Iterable[str], checked: bool = True) -> None:
        names = set(names)
        for app in self._apps:
            for row, node in enumerate(app.tables):
                if node.table.name in names and node.checked != checked:
                    node.checked = checked
                    self._changed(self.index(row, 0, self._app_index(app)))
            self._changed(self._app_index(app))
        emit(self.selection_changed)

    def set_app_checked(self, app_name: str, checked: bool = True) -> None:
        app = next((a for a in self._apps if a.name == app_name), None)
        if app:
            self.set_checked([n.table.name for n in app.tables], checked)

    def set_row_counts(self, counts: dict[str, int]) -> None:
        """Exact counts for the estimates; one change signal per app, not one per table."""
        for app in self._apps:
            for node in app.tables:
                if node.table.name in counts:
                    node.exact_rows = counts[node.table.name]
            if app.tables:
                parent = self._app_index(app)
                emit(
                    self.dataChanged,
                    self.index(0, self.ROWS, parent),
                    self.index(len(app.tables) - 1, self.ROWS, parent),
                    [Qt.ItemDataRole.DisplayRole],
                )
                app_rows = self.index(parent.row(), self.ROWS)
                emit(self.dataChanged, app_rows, app_rows, [Qt.ItemDataRole.DisplayRole])
        emit(self.selection_changed)

    def set_target_name(self, table: str, target: str) -> None:
        for app in self._apps:
            for row, node in enumerate(app.tables):
                if node.table.name == table:
                    node.target = target
                    idx = self.index(row, self.TARGET, self._app_index(app))
                    emit(self.dataChanged, idx, idx)

    def app_names(self) -> list[str]:
        return [a.name for a in self._apps]

    # -- QAbstractItemModel ---------------------------------------------------------------

    def index(self, row: int, column: int, parent: _Index = _NO_INDEX) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, self._apps[row])
        app = parent.internalPointer()
        return self.createIndex(row, column, app.tables[row])

    def parent(self, index: _Index = _NO_INDEX) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        node = index.internalPointer()
        if isinstance(node, _TableNode):
            return self._app_index(node.app)
        return QModelIndex()

    def rowCount(self, parent: _Index = _NO_INDEX) -> int:
        if parent.column() > 0:
            return 0
        if not parent.isValid():
            return len(self._apps)
        node = parent.internalPointer()
        return len(node.tables) if isinstance(node, _AppNode) else 0

    def columnCount(self, parent: _Index = _NO_INDEX) -> int:
        return len(self.HEADERS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == self.TABLE:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node = index.internalPointer()
        col = index.column()
        if isinstance(node, _AppNode):
            return self._app_data(node, col, role)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.TABLE:
                return node.table.name
            if col == self.ROWS:
                # "≈" until the exact count arrives: the estimate can be far off.
                prefix = "" if node.exact_rows is not None else "≈ "
                return f"{prefix}{node.rows:,}"
            return node.target
        if role == Qt.ItemDataRole.CheckStateRole and col == self.TABLE:
            return Qt.CheckState.Checked if node.checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.ROWS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == self.ROWS and node.exact_rows is None:
            return "An estimate; the exact count is on its way"
        if role == Qt.ItemDataRole.UserRole:
            return node.table.name
        return None

    def _app_data(self, app: _AppNode, col: int, role: int):
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.TABLE:
                return app.name if app.name == OTHER_TABLES else f"{app.name} (Django app)"
            if col == self.ROWS:
                return f"{sum(n.rows for n in app.tables):,}"
            return None
        if role == Qt.ItemDataRole.CheckStateRole and col == self.TABLE:
            states = {n.checked for n in app.tables}
            if states == {True}:
                return Qt.CheckState.Checked
            if states == {False} or not states:
                return Qt.CheckState.Unchecked
            return Qt.CheckState.PartiallyChecked
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.ROWS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return app.name
        return None

    def setData(self, index: _Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        checked = _is_checked(value)
        node = index.internalPointer()
        if isinstance(node, _AppNode):
            # A partly ticked app becomes fully ticked on click, as in a file manager.
            self.set_checked([n.table.name for n in node.tables], checked)
            return True
        node.checked = checked
        self._changed(index)
        self._changed(self._app_index(node.app))
        emit(self.selection_changed)
        return True

    def _app_index(self, app: _AppNode) -> QModelIndex:
        return self.createIndex(self._apps.index(app), 0, app)

    def _changed(self, index: QModelIndex) -> None:
        emit(self.dataChanged, index, index, [Qt.ItemDataRole.CheckStateRole])


def _is_checked(value) -> bool:
    if isinstance(value, Qt.CheckState):
        return value != Qt.CheckState.Unchecked
    return int(value) != 0
