"""Tables: choose what to copy, grouped by Django app, with row counts and target names."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTreeView

from coursemig_gui.core.catalog import Catalog, Table, count_rows
from coursemig_gui.core.django_handover.choice import DjangoAppWill, shape_mappings
from coursemig_gui.core.import_source import apply_proposed_types
from coursemig_gui.core.mapping import (
    TableMapping,
    add_new_columns,
    apply_renames,
    default_mapping,
    unselected_parent,
)
from coursemig_gui.core.profile import tables_gone
from coursemig_gui.gui.models.tables import TablesModel
from coursemig_gui.gui.pages.base import WizardStep
from coursemig_gui.gui.widgets.banner import Level
from coursemig_gui.gui.widgets.django_question import DjangoQuestion
from coursemig_gui.gui.worker import Worker


class TablesPage(WizardStep):
    def __init__(self, parent=None) -> None:
        super().__init__("Tables", "Tick the tables to copy. Django's apps are the groups.", parent)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter tables by name")
        self.filter_edit.setClearButtonEnabled(True)
        filter_label = QLabel("&Filter:")
        filter_label.setBuddy(self.filter_edit)
        self.show_system = QCheckBox("&Show Django's own tables (users, sessions, …)")
        top = QHBoxLayout()
        top.addWidget(filter_label)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.show_system)

        self.model = TablesModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(TablesModel.TABLE)
        self.tree = QTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setAccessibleName("Tables to copy")
        header = self.tree.header()
        header.setSectionResizeMode(TablesModel.TABLE, QHeaderView.ResizeMode.Stretch)
        # Sized once per load, not ResizeToContents: that re-measures every row on each change,
        # and the exact row counts can arrive while a migration keeps the GIL busy.
        header.setSectionResizeMode(TablesModel.ROWS, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(TablesModel.TARGET, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.footer = QLabel()
        self.counting = QLabel("Counting rows…")
        self.counting.setEnabled(False)
        self.counting.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.footer, 1)
        bottom.addWidget(self.counting)

        self.django_question = DjangoQuestion()
        self.django_question.changed.connect(self._on_django_answer)
        self.body.addWidget(self.django_question)
        self.body.addLayout(top)
        self.body.addWidget(self.tree, 1)
        self.body.addLayout(bottom)

        self.filter_edit.textChanged.connect(self._filter)
        self.show_system.toggled.connect(self._reload)
        self.model.selection_changed.connect(self._on_selection_changed)
        self._catalog: Catalog | None = None
        self._worker: Worker | None = None
        self._gone: list[str] = []  # a saved migration's tables the source no longer has

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        catalog = self.state.catalog
        self.django_question.setVisible(bool(catalog and catalog.is_django))
        self.django_question.set_choice(self.state.django_app_will)
        if catalog is not self._catalog:
            self._catalog = catalog
            self.state.row_counts = {}  # counts of another source's tables
            names = {t.name for t in catalog.tables} if catalog else set()
            self._gone = tables_gone(self.state.saved_mappings, names) if catalog else []
            selected = set(self.state.selected)
            # A saved migration may have picked Django's own tables: show them then.
            if catalog and any(t.is_system for t in catalog.tables if t.name in selected):
                self.show_system.setChecked(True)
            self._reload()
            self._count_rows()
        self.refresh_complete()

    def _reload(self) -> None:
        if not self._catalog:
            return
        selected = set(self.model.selected_tables()) or set(self.state.selected)
        targets = {t.name: self._new_mapping(t).target for t in self._catalog.tables}
        targets |= {m.source: m.target for m in self.state.mappings + self.state.saved_mappings}
        self.model.set_catalog(self._catalog, self.show_system.isChecked(), selected, targets)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(TablesModel.TARGET)
        width = self.tree.fontMetrics().horizontalAdvance("≈ 000,000,000") + 24
        self.tree.setColumnWidth(TablesModel.ROWS, width)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self.tree.expandAll()

    def _count_rows(self) -> None:
        """Exact counts replace the estimates, in the background."""
        state = self.state
        if state.import_only and self._catalog:  # counted when the files were read
            counts = {t.name: t.row_estimate for t in self._catalog.tables}
            self.model.set_row_counts(counts)
            state.row_counts = counts
            return
        if not self._catalog or state.source is None:
            return
        if self._worker is None:
            self._worker = Worker("row-counts", self)
        settings, password = state.source, state.source_password
        tables = [t.name for t in self._catalog.tables]
        catalog = self._catalog

        def count_all() -> dict[str, int]:
            from coursemig_gui.core.connection import connect

            with connect(settings, password, autocommit=True) as conn:
                return {name: count_rows(conn, name, catalog.schema) for name in tables}

        self.counting.show()

        def done(counts: dict[str, int]) -> None:
            self.counting.hide()
            if catalog is self._catalog:
                self.model.set_row_counts(counts)
                state.row_counts = counts  # the Columns page's suggestions use them

        def failed(error) -> None:
            self.counting.hide()
            self.banner.show_message(
                Level.WARNING,
                "The exact row counts could not be read; the numbers shown are estimates.",
                error.detail or error.message,
            )

        self._worker.submit(count_all, done, failed)

    def _on_selection_changed(self) -> None:
        selected = self.model.selected_tables()
        rows = self.model.selected_rows()
        self.footer.setText(
            f"{len(selected)} table{'s' if len(selected) != 1 else ''} · {rows:,} rows selected"
        )
        self._warn_missing_parents(selected)
        self.refresh_complete()

    def _warn_missing_parents(self, selected: list[str]) -> None:
        if not self._catalog:
            return
        chosen = set(selected)
        names = {t.name: self._target_name(t.name) for t in self._catalog.tables}
        warnings = list(self._gone)  # said for as long as the page is shown
        for name in selected:
            table = self._catalog.table(name)
            for parent in sorted(table.parents if table else ()):
                if parent not in chosen:
                    child, missing = names.get(name, name), names.get(parent, parent)
                    warnings.append(unselected_parent(child, missing))
        if warnings:
            self.banner.show_message(Level.WARNING, "\n".join(warnings))
        elif self.banner.level == Level.WARNING:
            self.banner.clear()

    def _target_name(self, source: str) -> str:
        mapping = self.state.mapping(source)
        if mapping:
            return mapping.target
        table = self._catalog.table(source) if self._catalog else None
        return default_mapping(table).target if table else source

    def _new_mapping(self, table: Table) -> TableMapping:
        """A table's first mapping, named as the Django answer says (course / end_time)."""
        choice = self.state.django_app_will
        mapping = default_mapping(table, keep_names=choice == DjangoAppWill.KEEP_NAMES)
        imported = self.state.import_source
        if imported is not None and table.name in imported.proposed:  # a file, no manifest
            apply_proposed_types(mapping, imported.proposed[table.name])
        if self._catalog is not None:
            shape_mappings(choice, self._catalog, [mapping])
        if imported is not None:  # names chosen at export, as `coursemig import` takes them
            apply_renames([mapping], imported.chosen_tables, imported.chosen_columns)
        return mapping

    def _on_django_answer(self, choice: DjangoAppWill) -> None:
        """A new answer renames from scratch; keeping Django's names brings its own tables."""
        state = self.state
        state.django_app_will = choice
        state.mappings, state.saved_mappings = [], []
        if choice == DjangoAppWill.KEEP_NAMES and self._catalog is not None:
            self.show_system.setChecked(True)  # reloads
            self._reload()
            self.model.set_checked([t.name for t in self._catalog.tables if t.is_system])
        else:
            self._reload()

    def incomplete_reason(self) -> str | None:
        if not self._catalog:
            return "Go back and test the connection to the Django database."
        if not self.model.selected_tables():
            return "Tick at least one table to continue."
        return None

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        if not self.isComplete():  # QWizard.next() does not ask isComplete() itself
            return False
        state = self.state
        catalog = self._catalog
        if catalog is None:
            return False
        selected = set(self.model.selected_tables())
        kept = {m.source: m for m in state.mappings}
        saved = {m.source: m for m in state.saved_mappings}
        mappings = []
        for table in catalog.tables:  # catalog order, so the list reads the same every time
            if table.name in selected:
                mapping = kept.get(table.name) or saved.get(table.name) or self._new_mapping(table)
                add_new_columns(mapping, table)  # gained since it was saved: shown to choose
                mapping.include = True
                mappings.append(mapping)
        state.selected = [m.source for m in mappings]
        state.mappings = mappings
        return True

    def shutdown(self) -> None:
        if self._worker:
            self._worker.stop()
            self._worker = None
