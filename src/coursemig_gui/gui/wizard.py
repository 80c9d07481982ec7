"""The main window: a QWizard with a step list, six pages and the shared migration state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QMessageBox, QWizard

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.profile import Profile
from coursemig_gui.gui.pages.columns import ColumnsPage
from coursemig_gui.gui.pages.connect import ConnectPage
from coursemig_gui.gui.pages.migrate import MigratePage
from coursemig_gui.gui.pages.start import StartPage
from coursemig_gui.gui.pages.summary import SummaryPage
from coursemig_gui.gui.pages.tables import TablesPage
from coursemig_gui.gui.settings import app_settings, remember_last_profile
from coursemig_gui.gui.state import WizardState
from coursemig_gui.gui.widgets.step_list import StepList
from coursemig_gui.gui.worker import Worker

STEPS = ["Start", "Connect", "Tables", "Columns", "Migrate", "Summary"]
START, CONNECT, TABLES, COLUMNS, MIGRATE, SUMMARY = range(len(STEPS))
MINIMUM_SIZE = QSize(860, 600)


class MigrationWizard(QWizard):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("CourseMig — copy Django tables to PostgreSQL")
        self.setObjectName("migrationWizard")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setButtonText(QWizard.WizardButton.CustomButton1, "&About…")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Close")
        self.set_back_allowed(True)
        self.customButtonClicked.connect(lambda _which: self.show_about())
        self.setMinimumSize(MINIMUM_SIZE)

        self.state = WizardState()
        # Bumped whenever the whole state is replaced (new, opened, demo), so pages know to
        # reload their fields instead of keeping what the user typed for the old one.
        self.generation = 0
        self.demo_servers = None
        self._demo_worker: Worker | None = None

        self.start_page = StartPage()
        self.connect_page = ConnectPage()
        self.tables_page = TablesPage()
        self.columns_page = ColumnsPage()
        self.migrate_page = MigratePage()
        self.summary_page = SummaryPage()
        for page_id, page in enumerate(
            [
                self.start_page,
                self.connect_page,
                self.tables_page,
                self.columns_page,
                self.migrate_page,
                self.summary_page,
            ]
        ):
            self.setPage(page_id, page)
        self.steps = StepList(STEPS)
        self.setSideWidget(self.steps)
        self.currentIdChanged.connect(self._on_page_changed)
        QShortcut(QKeySequence.StandardKey.HelpContents, self, activated=self.show_about)
        self._geometry_restored = False
        self.resize(1024, 720)

    # -- the migration being set up --------------------------------------------------------

    def start_new(self) -> None:
        self.state = WizardState()
        self.generation += 1

    def open_profile(self, path: Path) -> None:
        """Load a saved migration (raises FriendlyError); passwords come from the keyring."""
        # a full path: the nightly command and the remembered profile are used from elsewhere
        path = Path(path).absolute()
        profile = Profile.load(path)
        state = WizardState.from_profile(profile, path)
        state.source_password = saved_password(state.source)
        state.target_password = saved_password(state.target)
        self.state = state
        self.generation += 1
        remember_last_profile(path)

    def start_demo(self, done: Callable[[FriendlyError | None], None]) -> None:
        """Start the practice databases on a worker thread; ``done(None)`` once filled in."""
        from coursemig_gui.core.connection_strings import parse_connection_string
        from coursemig_gui.demo.demo import start_demo

        if self._demo_worker is None:
            self._demo_worker = Worker("demo", self)

        def ready(servers) -> None:
            self._stop_demo()
            self.demo_servers = servers
            source = parse_connection_string(servers.source_url)
            target = parse_connection_string(servers.target_url)
            self.start_new()
            self.state.name = "Sample data"
            self.state.source, self.state.source_password = source.settings, source.password
            self.state.target = target.settings
            self.state.target_password = target.password or servers.target_password
            done(None)

        self._demo_worker.submit(start_demo, ready, done)

    # -- window ----------------------------------------------------------------------------

    def set_back_allowed(self, allowed: bool) -> None:
        """Show or take away Back (taken away while tables load: Stop comes first)."""
        # QWizard re-enables Back on its own whenever it updates its buttons, so a disabled
        # Back does not stay disabled; leaving it out of the button row does.
        buttons = [QWizard.WizardButton.CustomButton1, QWizard.WizardButton.Stretch]
        if allowed:
            buttons.append(QWizard.WizardButton.BackButton)
        buttons += [
            QWizard.WizardButton.NextButton,
            QWizard.WizardButton.FinishButton,
            QWizard.WizardButton.CancelButton,
        ]
        self.setButtonLayout(buttons)

    def show_about(self) -> None:
        from coursemig_gui.gui.app import about_text

        QMessageBox.about(self, "About CourseMig", about_text())

    def reject(self) -> None:
        """Cancel/Escape: a running migration is stopped properly first (the page asks)."""
        if self.migrate_page.running:
            self.migrate_page.ask_cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.migrate_page.running:
            self.migrate_page.ask_cancel()
            event.ignore()
            return
        self.save_window_state()
        self.shutdown()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.save_window_state()
        self.shutdown()
        super().done(result)

    def shutdown(self) -> None:
        """Stop every worker thread and the demo servers (the window is going away)."""
        for page in (self.connect_page, self.tables_page, self.migrate_page, self.summary_page):
            page.shutdown()
        if self._demo_worker:
            self._demo_worker.stop()
            self._demo_worker = None
        self._stop_demo()

    def save_window_state(self) -> None:
        settings = app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.sync()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._geometry_restored:
            # After QWizard's own sizing on first show, or it would undo the restored size.
            self._geometry_restored = True
            geometry = app_settings().value("window/geometry")
            if isinstance(geometry, QByteArray | bytes) and geometry:
                self.restoreGeometry(QByteArray(geometry))

    def _on_page_changed(self, page_id: int) -> None:
        self.steps.set_current(max(page_id, 0))

    def _stop_demo(self) -> None:
        if self.demo_servers is not None:
            try:
                self.demo_servers.stop()
            except Exception:  # noqa: BLE001 - leaving: a server that is already gone is fine
                pass
            self.demo_servers = None


def saved_password(settings) -> str | None:
    if settings is None:
        return None
    try:
        from coursemig_gui.core.credentials import CredentialStore

        return CredentialStore().load(settings)
    except Exception:  # noqa: BLE001 - no keyring: the user types the password
        return None
