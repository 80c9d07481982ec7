"""The Migrate page's two views, built once: the set-up (route, folder, error policy) and the
progress (a bar per table, the overall bar, the live error log). Mixed into ``MigratePage``."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coursemig_gui.core.engine.routes import Route
from coursemig_gui.gui.models.error_log import ErrorLogModel
from coursemig_gui.gui.models.progress import ProgressModel
from coursemig_gui.gui.widgets.plan_box import PlanBox

ROUTE_CHOICES = [
    (Route.DIRECT, "Copy &directly (fastest)"),
    (Route.DIRECT_KEEP_CSV, "Copy and &keep CSV files in the folder below"),
    (Route.EXPORT, "&Export CSV files only (nothing is written to the target)"),
    (Route.IMPORT, "&Import CSV files from the folder below"),
]


class MigrateViews:
    """Builds the widgets; ``MigratePage`` wires and drives them."""

    # -- the set-up view ----------------------------------------------------------------------

    def _build_setup(self) -> QWidget:
        route_box = QGroupBox("How to copy")
        self.route_group = QButtonGroup(self)
        route_layout = QVBoxLayout(route_box)
        self.route_buttons: dict[Route, QRadioButton] = {}
        for i, (route, label) in enumerate(ROUTE_CHOICES):
            button = QRadioButton(label)
            self.route_group.addButton(button, i)
            self.route_buttons[route] = button
            route_layout.addWidget(button)
        self.csv_folder = QLineEdit()
        self.csv_folder.setPlaceholderText("A folder for the CSV files")
        self.csv_browse = QPushButton("Bro&wse…")
        self.csv_browse.clicked.connect(self._choose_csv_folder)
        folder_row = QHBoxLayout()
        self.csv_folder_label = QLabel("&Folder:")
        self.csv_folder_label.setBuddy(self.csv_folder)
        folder_row.addWidget(self.csv_folder_label)
        folder_row.addWidget(self.csv_folder, 1)
        folder_row.addWidget(self.csv_browse)
        route_layout.addLayout(folder_row)
        self.route_group.idToggled.connect(lambda _id, _on: self._on_options_changed())
        self.csv_folder.textChanged.connect(self._on_options_changed)

        errors_box = QGroupBox("If a row cannot be copied")
        errors_layout = QGridLayout(errors_box)
        self.skip_rows = QRadioButton("S&kip it and keep going, up to")
        self.max_rejects = QSpinBox()
        # 0 is a saved migration's "no bad row allowed": shown as such, never turned into 100
        self.max_rejects.setRange(0, 1_000_000)
        self.max_rejects.setSpecialValueText("none (the first bad row stops the table)")
        self.max_rejects.setValue(100)
        self.max_rejects.setSuffix(" rows per table")
        self.stop_on_error = QRadioButton("Stop: &roll back the table and go on with the next")
        errors_layout.addWidget(self.skip_rows, 0, 0)
        errors_layout.addWidget(self.max_rejects, 0, 1)
        errors_layout.addWidget(self.stop_on_error, 1, 0, 1, 2)
        errors_layout.setColumnStretch(2, 1)
        self.verify = QCheckBox("&Verify each table after copying (row counts and content)")
        self.test_run = QCheckBox(
            "Test r&un: check every row against the target, then undo everything (nothing is "
            "written)"
        )
        for changed in (self.skip_rows.toggled, self.max_rejects.valueChanged, self.verify.toggled,
                        self.test_run.toggled):  # fmt: skip
            changed.connect(self._on_options_changed)

        self.start_button = QPushButton("&Start migration")
        self.start_button.setDefault(False)
        self.start_button.clicked.connect(self.start_migration)
        self.plan_box = PlanBox(self.start_button)

        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(route_box)
        layout.addWidget(errors_box)
        layout.addWidget(self.verify)
        layout.addWidget(self.test_run)
        layout.addWidget(self.plan_box)
        layout.addStretch(1)
        return panel

    # -- the progress view --------------------------------------------------------------------

    def _build_progress(self) -> QWidget:
        self.overall_label = QLabel()
        self.overall_bar = QProgressBar()
        self.overall_bar.setRange(0, 1000)
        self.overall_bar.setFormat("%p %")
        self.cancel_button = QPushButton("S&top migration…")
        self.cancel_button.clicked.connect(self.ask_cancel)
        self.again_button = QPushButton("&Change settings and run again")
        self.again_button.clicked.connect(self.show_setup)
        self.again_button.hide()
        top = QHBoxLayout()
        top.addWidget(self.overall_bar, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.again_button)

        self.progress_model = ProgressModel(self)
        self.progress_view = QTableView()
        self.progress_model.attach(self.progress_view)
        self.progress_view.setAccessibleName("Progress per table")
        self.progress_view.verticalHeader().hide()
        self.progress_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.progress_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.progress_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ProgressModel.PROGRESS, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)

        self.error_model = ErrorLogModel(self)
        self.error_proxy = QSortFilterProxyModel(self)
        self.error_proxy.setSourceModel(self.error_model)
        self.error_proxy.setFilterKeyColumn(-1)
        self.error_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.error_view = QTableView()
        self.error_view.setModel(self.error_proxy)
        self.error_view.setAccessibleName("Rows that could not be copied")
        self.error_view.verticalHeader().hide()
        self.error_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.error_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.error_view.setSortingEnabled(True)
        eheader = self.error_view.horizontalHeader()
        eheader.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        eheader.setSectionResizeMode(ErrorLogModel.PROBLEM, QHeaderView.ResizeMode.Stretch)
        self.error_title = QLabel("Rows that could not be copied: none so far")
        self.error_filter = QLineEdit()
        self.error_filter.setPlaceholderText("Filter")
        self.error_filter.setClearButtonEnabled(True)
        self.error_filter.textChanged.connect(self.error_proxy.setFilterFixedString)
        self.export_button = QPushButton("E&xport…")
        self.export_button.clicked.connect(self.export_error_log)
        self.open_folder_button = QPushButton("&Open folder with skipped rows")
        self.open_folder_button.clicked.connect(self.open_rejects_folder)
        log_row = QHBoxLayout()
        log_row.addWidget(self.error_title, 1)
        log_row.addWidget(self.error_filter)
        log_row.addWidget(self.export_button)
        log_row.addWidget(self.open_folder_button)
        log_box = QWidget()
        log_layout = QVBoxLayout(log_box)
        log_layout.setContentsMargins(0, 0, 0, 0)
        log_layout.addLayout(log_row)
        log_layout.addWidget(self.error_view)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.progress_view)
        splitter.addWidget(log_box)
        splitter.setSizes([260, 200])

        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.overall_label)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        return panel

    # -- page ---------------------------------------------------------------------------------
