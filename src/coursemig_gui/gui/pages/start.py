"""Start: a new migration, a saved one, or a try-out with sample data."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCommandLinkButton,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
)

from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.paths import profiles_dir, user_guide
from coursemig_gui.core.profile import Profile
from coursemig_gui.gui.models.profiles import RecentProfilesModel
from coursemig_gui.gui.pages.base import WizardStep
from coursemig_gui.gui.settings import last_profile
from coursemig_gui.gui.widgets.banner import Level


class StartPage(WizardStep):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "Start",
            "Copy a Django app's tables to Azure Cosmos DB for PostgreSQL or any PostgreSQL.",
            parent,
        )
        self.new_button = QCommandLinkButton(
            "Ne&w migration", "Connect to the two databases and choose what to copy."
        )
        self.open_button = QCommandLinkButton(
            "&Open saved migration…", "Continue or repeat a migration you saved before."
        )
        self.import_button = QCommandLinkButton(
            "&Import CSV files…",
            "Load an export (a folder or .zip) or your own CSV files into the target. "
            "No Django database needed.",
        )
        self.check_button = QCommandLinkButton(
            "&Check a finished migration…",
            "Compare a saved migration's tables row by row, to show that every row arrived.",
        )
        self.demo_button = QCommandLinkButton(
            "&Try it with sample data",
            "Starts two practice databases on this computer, filled with sample courses.",
        )
        self.new_button.clicked.connect(self.start_new)
        self.open_button.clicked.connect(self.choose_profile)
        self.import_button.clicked.connect(self.start_import)
        self.check_button.clicked.connect(self.choose_profile_to_check)
        self.demo_button.clicked.connect(self.start_demo)
        self.demo_busy = QProgressBar()
        self.demo_busy.setRange(0, 0)  # busy, not a percentage: starting servers has no steps
        self.demo_busy.setMaximumWidth(160)
        self.demo_busy.hide()
        demo_row = QHBoxLayout()
        demo_row.addWidget(self.demo_button, 1)
        demo_row.addWidget(self.demo_busy)

        self.recent_model = RecentProfilesModel(self)
        self.recent_view = QTableView()
        self.recent_view.setModel(self.recent_model)
        self.recent_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.recent_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.recent_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.recent_view.verticalHeader().hide()
        header = self.recent_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(RecentProfilesModel.RESULT, QHeaderView.ResizeMode.Stretch)
        # "activated" is a double-click, or Enter on the keyboard.
        self.recent_view.activated.connect(
            lambda index: self.open_profile(self.recent_model.path(index.row()))
        )
        self.recent_label = QLabel("&Recent migrations (double-click to open):")
        self.recent_label.setBuddy(self.recent_view)

        # The choices stay together at the top at their own height (command links grow to
        # fill a page otherwise); another choice goes into this layout.
        self.choices = QVBoxLayout()
        self.choices.setSpacing(2)
        for button in (self.new_button, self.open_button, self.import_button, self.check_button,
                       self.demo_button):  # fmt: skip
            # keeps height-for-width: the description wraps only when the page is narrow
            policy = button.sizePolicy()
            policy.setVerticalPolicy(QSizePolicy.Policy.Maximum)
            button.setSizePolicy(policy)
        self.choices.addWidget(self.new_button)
        self.choices.addWidget(self.open_button)
        self.choices.addWidget(self.import_button)
        self.choices.addWidget(self.check_button)
        self.choices.addLayout(demo_row)
        self.intro = QLabel(_intro_text())
        self.intro.setWordWrap(True)
        self.intro.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))

        self.body.addLayout(self.choices)
        self.body.addSpacing(16)
        self.body.addWidget(self.recent_label)
        self.body.addWidget(self.recent_view, 1)
        self.body.addWidget(self.intro)
        self.body.addStretch(0)
        self._filler = self.body.count() - 1  # takes the space when there is no recent list

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        self.recent_model.reload()
        has_recent = self.recent_model.rowCount() > 0
        last = last_profile()
        for row in range(self.recent_model.rowCount()):
            if last and self.recent_model.path(row) == last:
                # The last migration used is picked already: Enter opens it.
                self.recent_view.selectRow(row)
        self.recent_view.setVisible(has_recent)
        self.recent_label.setVisible(has_recent)
        self.intro.setVisible(not has_recent)
        self.body.setStretch(self._filler, 0 if has_recent else 1)
        from coursemig_gui.demo.localserver import find_server_bindir

        # The demo runs two local PostgreSQL servers: only offered when their programs exist.
        self.demo_button.setVisible(find_server_bindir() is not None)

    def start_new(self) -> None:
        self.migration_wizard.start_new()
        self.migration_wizard.next()

    def start_import(self) -> None:
        """CSV files into the target, with no source database (export here, import there)."""
        wizard = self.migration_wizard
        wizard.start_new()
        wizard.state.import_only = True
        wizard.state.options.route = Route.IMPORT
        wizard.next()

    def choose_profile(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open saved migration", str(profiles_dir()), "Saved migrations (*.json)"
        )
        if path:
            self.open_profile(Path(path))

    def open_profile(self, path: Path) -> bool:
        try:
            self.migration_wizard.open_profile(path)
        except FriendlyError as exc:
            self.banner.show_error(exc)
            return False
        self.migration_wizard.next()
        return True

    def choose_profile_to_check(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Check a finished migration", str(profiles_dir()), "Saved migrations (*.json)"
        )
        if path:
            self.check_profile(Path(path))

    def check_profile(self, path: Path):
        """Open the row-by-row check of a saved migration; returns the dialog (or None)."""
        from coursemig_gui.gui.widgets.check_dialog import CheckDialog
        from coursemig_gui.gui.wizard import saved_password

        try:
            profile = Profile.load(path)
        except FriendlyError as exc:
            self.banner.show_error(exc)
            return None
        if profile.source is None or profile.target is None:
            self.banner.show_message(Level.WARNING, f"{profile.name} does not copy from one "
                                     "database into another, so there is nothing to compare.")  # fmt: skip
            return None
        dialog = CheckDialog(profile, saved_password(profile.source),
                             saved_password(profile.target), self)  # fmt: skip
        dialog.setModal(True)
        dialog.show()
        return dialog

    def start_demo(self) -> None:
        self.demo_button.setEnabled(False)
        self.demo_busy.show()
        self.banner.show_message(
            Level.INFO,
            "Starting two practice databases with sample courses. This takes a few seconds…",
        )
        self.migration_wizard.start_demo(self._demo_ready)

    def _demo_ready(self, error: FriendlyError | None) -> None:
        self.demo_button.setEnabled(True)
        self.demo_busy.hide()
        if error:
            self.banner.show_error(error)
            return
        self.banner.clear()
        self.migration_wizard.next()


def _intro_text() -> str:
    text = (
        "CourseMig copies the tables of a Django app from one PostgreSQL database to another "
        "(Azure Cosmos DB for PostgreSQL, or any PostgreSQL) and can check each table after "
        "copying. A row it cannot copy is set aside in a file with the reason, for you to look at."
    )
    guide = user_guide()
    if guide:
        text += f' <a href="{QUrl.fromLocalFile(str(guide)).toString()}">Read the user guide</a>.'
    return text
