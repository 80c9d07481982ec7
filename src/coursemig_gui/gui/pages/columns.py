"""Columns: per table the target name and what to do if it exists; per column name and type."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coursemig_gui.core.mapping import (
    IfExists,
    Placement,
    Problem,
    TableMapping,
    rename_reserved_words,
    suggest_rename,
    validate,
)
from coursemig_gui.gui.models.columns import ColumnsModel, MappingListModel
from coursemig_gui.gui.pages.base import WizardStep
from coursemig_gui.gui.pages.columns_sizes import fit_table_list, fit_type_columns
from coursemig_gui.gui.widgets.banner import Level

IF_EXISTS_CHOICES = [
    ("Stop (do not touch it)", IfExists.FAIL),
    ("Add rows", IfExists.APPEND),
    ("Replace all rows", IfExists.REPLACE),
    ("Skip this table", IfExists.SKIP),
]
PLACEMENT_CHOICES = [
    ("Local (on the coordinator)", Placement.LOCAL),
    ("Reference (copied to every node — small lookup tables)", Placement.REFERENCE),
    ("Distributed by column", Placement.DISTRIBUTED),
]
COMMON_TYPES = [
    "text",
    "character varying(200)",
    "integer",
    "bigint",
    "numeric",
    "boolean",
    "date",
    "timestamp with time zone",
    "jsonb",
    "uuid",
]


class TypeDelegate(QStyledItemDelegate):
    """An editable combo for the target type: common types offered, anything typed allowed."""

    def createEditor(self, parent, option, index):  # noqa: N802 - Qt's name
        combo = QComboBox(parent)
        combo.setEditable(True)
        current = index.data(Qt.ItemDataRole.EditRole) or ""
        combo.addItems([current] + [t for t in COMMON_TYPES if t != current])
        return combo

    def setEditorData(self, editor, index) -> None:  # noqa: N802
        editor.setCurrentText(index.data(Qt.ItemDataRole.EditRole) or "")

    def setModelData(self, editor, model, index) -> None:  # noqa: N802
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class ColumnsPage(WizardStep):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "Columns",
            "Check the names and types each table gets in the target. Problems are marked.",
            parent,
        )
        self.problems: list[Problem] = []
        self.tables_model = MappingListModel(self)
        self.table_list = QListView()
        self.table_list.setModel(self.tables_model)
        self.table_list.setAccessibleName("Tables to copy")
        # Too long for the list: "meetingtime  ← courses…ingtime" with the full name as tooltip.
        self.table_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.fix_all_button = QPushButton("Rename all &reserved words")
        self.fix_all_button.clicked.connect(self.rename_all_reserved_words)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        tables_label = QLabel("T&ables:")
        tables_label.setBuddy(self.table_list)
        left.addWidget(tables_label)
        left.addWidget(self.table_list, 1)
        left.addWidget(self.fix_all_button)
        left_box = QWidget()
        left_box.setLayout(left)

        self.target_name = QLineEdit()
        self.if_exists = QComboBox()
        for label, value in IF_EXISTS_CHOICES:
            self.if_exists.addItem(label, value)
        self.placement = QComboBox()
        for label, value in PLACEMENT_CHOICES:
            self.placement.addItem(label, value)
        self.distribution_column = QComboBox()
        placement_row = QHBoxLayout()
        placement_row.setContentsMargins(0, 0, 0, 0)
        placement_row.addWidget(self.placement, 1)
        placement_row.addWidget(self.distribution_column)
        self.use_suggestions_button = QPushButton("Use the s&uggested placements")
        self.use_suggestions_button.setToolTip(
            'Set every table\'s placement to the one marked "suggested"'
        )
        self.use_suggestions_button.clicked.connect(self.use_suggested_placements)
        placement_row.addWidget(self.use_suggestions_button)
        self.placement_box = QWidget()
        self.placement_box.setLayout(placement_row)
        self.suggestion_note = QLabel()
        self.suggestion_note.setWordWrap(True)
        self.exists_note = QLabel()
        self.exists_note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Copy &into table:", self.target_name)
        form.addRow("If the table already &exists:", self.if_exists)
        form.addRow("", self.exists_note)
        form.addRow("&Placement:", self.placement_box)
        self._placement_label = form.labelForField(self.placement_box)
        form.addRow("", self.suggestion_note)

        self.columns_model = ColumnsModel(self)
        self.columns_view = QTableView()
        self.columns_view.setModel(self.columns_model)
        self.columns_view.setAccessibleName("Columns of the selected table")
        self.columns_view.setItemDelegateForColumn(ColumnsModel.TARGET_TYPE, TypeDelegate(self))
        self.columns_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.columns_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.columns_view.verticalHeader().hide()
        # rows as tall as their wrapped note, so the whole sentence is readable in Notes
        self.columns_view.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        header = self.columns_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ColumnsModel.NOTES, QHeaderView.ResizeMode.Stretch)
        for col in (ColumnsModel.SOURCE_TYPE, ColumnsModel.TARGET_TYPE):
            # sized in _fit_types: as wide as the types, but never pushing Notes off the page
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        self.columns_view.setWordWrap(True)

        self.sql_button = QPushButton("Show &SQL")
        self.sql_button.setCheckable(True)
        self.sql_button.toggled.connect(self._toggle_sql)
        self.copy_sql_button = QPushButton("Copy SQL")
        self.copy_sql_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.sql_view.toPlainText())
        )
        self.copy_sql_button.hide()
        self.sql_view = QPlainTextEdit()
        self.sql_view.setReadOnly(True)
        self.sql_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QGuiApplication.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.sql_view.setFont(font)
        self.sql_view.hide()
        sql_row = QHBoxLayout()
        sql_row.addWidget(self.sql_button)
        sql_row.addWidget(self.copy_sql_button)
        sql_row.addStretch(1)

        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addLayout(form)
        right.addWidget(self.columns_view, 3)
        right.addLayout(sql_row)
        right.addWidget(self.sql_view, 2)
        right_box = QWidget()
        right_box.setLayout(right)
        splitter = self.splitter = QSplitter()
        splitter.addWidget(left_box)
        splitter.addWidget(right_box)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([220, 640])
        self.body.addWidget(splitter, 1)

        self.table_list.selectionModel().currentChanged.connect(
            lambda cur, _prev: self._show_table(cur.row())
        )
        self.columns_model.mapping_changed.connect(self.revalidate)
        self.target_name.textEdited.connect(self._on_target_name)
        self.if_exists.activated.connect(self._on_table_options)
        self.placement.activated.connect(self._on_table_options)
        self.distribution_column.activated.connect(self._on_table_options)
        self.banner.action_clicked.connect(self.fix_current_table)
        self._current: TableMapping | None = None
        self._loading = False
        self.suggestions: dict = {}  # source table -> core.citus.Suggestion (Citus targets)

    # -- page -------------------------------------------------------------------------------

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        self.tables_model.set_mappings(self.state.mappings)
        # once the page has its real size (it is laid out after initializePage)
        QTimer.singleShot(
            0, lambda: fit_table_list(self.table_list, self.splitter, self.fix_all_button)
        )
        citus = self.state.target_has_citus
        self.placement_box.setVisible(citus)
        self.suggestion_note.setVisible(citus)
        if self._placement_label:
            self._placement_label.setVisible(citus)
        self.suggestions = {}
        if citus and self.state.catalog:
            from coursemig_gui.core.citus.suggestions import suggest_placements

            self.suggestions = suggest_placements(
                self.state.catalog, self.state.mappings, row_counts=self.state.row_counts
            )
        self.revalidate()
        first = self.tables_model.index(0)
        self.table_list.selectionModel().setCurrentIndex(
            first, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self._show_table(0)

    def incomplete_reason(self) -> str | None:
        errors = [p for p in self.problems if p.is_error]
        if errors:
            n = len(errors)
            return f"Fix the {n} problem{'s' if n != 1 else ''} marked in red to continue."
        return None

    # -- what the user changes ----------------------------------------------------------------

    def select_table(self, source: str) -> None:
        row = self.tables_model.row_of(source)
        if row >= 0:
            index = self.tables_model.index(row)
            self.table_list.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self._show_table(row)

    def rename_all_reserved_words(self) -> None:
        catalog = self.state.catalog
        if catalog is None:
            return
        count = rename_reserved_words(self.state.mappings, catalog.reserved_words)
        self._show_table(self.tables_model.row_of(self._current.source) if self._current else 0)
        self.revalidate()
        if count:
            self.banner.show_message(
                Level.SUCCESS,
                f"Renamed {count} column{'s' if count != 1 else ''} that were reserved words.",
            )

    def use_suggested_placements(self) -> None:
        from coursemig_gui.core.citus.suggestions import apply_suggestions

        apply_suggestions(self.state.mappings, self.suggestions)
        self._show_table(self.tables_model.row_of(self._current.source) if self._current else 0)
        self.revalidate()

    def fix_current_table(self) -> None:
        """The banner's one-click fix: rename the reserved words of the table on screen."""
        if not self._current:
            return
        for problem in self._reserved_word_problems(self._current.source):
            if problem.column:
                self.columns_model.rename_column(
                    problem.column, problem.fix or suggest_rename(problem.column)
                )
            else:
                self._current.target = problem.fix or suggest_rename(self._current.target)
                self.target_name.setText(self._current.target)
        self.revalidate()

    def revalidate(self) -> None:
        catalog = self.state.catalog
        self.problems = validate(self.state.mappings, catalog) if catalog else []
        if catalog and self.state.target_has_citus:
            from coursemig_gui.core.citus.rules import validate_placements

            self.problems += validate_placements(
                self.state.mappings, catalog, foreign_keys=self.state.options.create_foreign_keys
            )
        self.problems += self._existing_table_notes()
        self.tables_model.set_problems(self.problems)
        self.columns_model.set_problems(self.problems)
        reserved = [p for p in self.problems if p.fix and p.severity == "warning"]
        self.fix_all_button.setEnabled(bool(reserved))
        self.fix_all_button.setText(
            f"Rename all &reserved words ({len(reserved)})"
            if reserved
            else "No reserved words left"
        )
        self._show_table_problems()
        if self.sql_view.isVisible():
            self._refresh_sql()
        self.refresh_complete()

    # -- internals ----------------------------------------------------------------------------

    def _existing_table_notes(self) -> list[Problem]:
        check = self.state.target_check
        if not check:
            return []
        notes = []
        for tm in self.state.mappings:
            if tm.include and tm.target in check.existing_tables and tm.if_exists == IfExists.FAIL:
                notes.append(
                    Problem(
                        tm.source,
                        f"A table named {tm.target} is already in the target. Choose what to do with "
                        'it under "If the table already exists", or give this one another name.',
                    )
                )
        return notes

    def _reserved_word_problems(self, source: str) -> list[Problem]:
        return [p for p in self.problems if p.table == source and p.fix and p.severity == "warning"]

    def _show_table(self, row: int) -> None:
        tm = self.tables_model.mapping(row)
        self._current = tm
        catalog = self.state.catalog
        table = catalog.table(tm.source) if (tm and catalog) else None
        self.columns_model.set_table(tm, table)
        self.columns_model.set_problems(self.problems)
        fit_type_columns(self.columns_view, (ColumnsModel.SOURCE_TYPE, ColumnsModel.TARGET_TYPE))
        self._loading = True
        try:
            self.target_name.setText(tm.target if tm else "")
            self.if_exists.setCurrentIndex(
                max(0, self.if_exists.findData(tm.if_exists if tm else IfExists.FAIL))
            )
            suggestion = self.suggestions.get(tm.source) if tm else None
            # "(suggested)" marks the placement core suggests for this table.
            for i, (label, value) in enumerate(PLACEMENT_CHOICES):
                marked = suggestion is not None and suggestion.placement == value
                self.placement.setItemText(i, f"{label} — suggested" if marked else label)
            self.placement.setCurrentIndex(
                max(0, self.placement.findData(tm.placement if tm else Placement.LOCAL))
            )
            self.suggestion_note.setText(suggestion.reason if suggestion else "")
            self.distribution_column.clear()
            if tm:
                self.distribution_column.addItems([c.target for c in tm.included_columns])
                # distribution_column names a target column (core.citus reads it so)
                fallback = suggestion.column if suggestion and suggestion.column else None
                if not fallback and table and table.primary_key:
                    fallback = tm.target_column(table.primary_key[0])
                self.distribution_column.setCurrentText(tm.distribution_column or fallback or "")
            self.distribution_column.setVisible(bool(tm and tm.placement == Placement.DISTRIBUTED))
        finally:
            self._loading = False
        self._show_exists_note()
        self._show_table_problems()

    def _show_exists_note(self) -> None:
        check = self.state.target_check
        tm = self._current
        if tm and check and tm.target in check.existing_tables:
            self.exists_note.setText(f"⚠ {tm.target} is already in the target database.")
            self.exists_note.show()
        else:
            self.exists_note.hide()

    def _show_table_problems(self) -> None:
        tm = self._current
        if not tm:
            self.banner.clear()
            return
        mine = [p for p in self.problems if p.table == tm.source]
        if not mine:
            self.banner.clear()
            return
        errors = [p for p in mine if p.is_error]
        level = Level.ERROR if errors else Level.WARNING
        # the banner's icon says error or warning; ✗ picks out the errors only when mixed
        mixed = len(errors) not in (0, len(mine))
        lines = [("✗ " if p.is_error and mixed else "") + p.message for p in mine]
        reserved = self._reserved_word_problems(tm.source)
        action = None
        if reserved:
            renames = [p.fix for p in reserved if p.fix]
            action = (
                "Rename to " + " and ".join(renames)
                if len(renames) <= 3
                else f"Rename {len(renames)} reserved words"
            )
        self.banner.show_message(level, "\n".join(lines), action=action)

    def _on_target_name(self, text: str) -> None:
        if self._current and not self._loading:
            self._current.target = text.strip()
            self.tables_model.refresh(self._current.source)
            self._show_exists_note()
            self.revalidate()

    def _on_table_options(self, *_args) -> None:
        tm = self._current
        if not tm or self._loading:
            return
        tm.if_exists = self.if_exists.currentData()
        tm.placement = self.placement.currentData()
        distributed = tm.placement == Placement.DISTRIBUTED
        self.distribution_column.setVisible(distributed)
        if distributed:
            tm.distribution_column = self.distribution_column.currentText() or None
        else:
            tm.distribution_column = None
        self.revalidate()

    def _toggle_sql(self, shown: bool) -> None:
        self.sql_view.setVisible(shown)
        self.copy_sql_button.setVisible(shown)
        self.sql_button.setText("Hide &SQL" if shown else "Show &SQL")
        if shown:
            self._refresh_sql()

    def _refresh_sql(self) -> None:
        from coursemig_gui.core.ddl import ddl_script

        catalog = self.state.catalog
        if catalog is None:
            return
        try:
            text = ddl_script(catalog, self.state.mappings, self.state.options)
        except Exception as exc:  # noqa: BLE001 - a half-typed type name must not break the page
            text = f"-- The SQL cannot be shown yet: {exc}"
        self.sql_view.setPlainText(text)
