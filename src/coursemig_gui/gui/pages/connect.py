"""Connect: the Django database on the left, the target on the right, each tested in the worker."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.import_source import ImportSource, open_import
from coursemig_gui.gui.pages.base import WizardStep
from coursemig_gui.gui.state import ConnectionCheck
from coursemig_gui.gui.widgets.banner import Level
from coursemig_gui.gui.widgets.connection_card import ConnectionCard
from coursemig_gui.gui.widgets.import_box import ImportBox
from coursemig_gui.gui.worker import Worker


class ConnectPage(WizardStep):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "Connect",
            "Where the tables are now, and where they should go. Test both connections.",
            parent,
        )
        self.source_card = ConnectionCard("From (the Django database)", "source")
        self.target_card = ConnectionCard("To (Azure / PostgreSQL)", "target")
        self.import_box = ImportBox()  # instead of the source, for "Import CSV files"
        self.import_box.hide()
        row = QHBoxLayout()
        row.addWidget(self.source_card, 1)
        row.addWidget(self.import_box, 1)
        row.addWidget(self.target_card, 1)
        self.body.addLayout(row, 1)
        for card in (self.source_card, self.target_card):
            card.changed.connect(self.refresh_complete)
            card.tested.connect(lambda _check: self.refresh_complete())
            card.test_failed.connect(lambda _error: self.refresh_complete())
            card.password_choice_failed.connect(self._password_choice_failed)
        self._generation = -1
        # the files are read (and a zip unpacked) on a worker, once typing pauses
        self._read_timer = QTimer(self, singleShot=True, interval=400)
        self._read_timer.timeout.connect(self._read_files)
        self.import_box.changed.connect(self._files_changed)
        self.target_card.tested.connect(lambda _check: self._files_changed())
        self._worker: Worker | None = None
        self._import: ImportSource | None = None
        self._import_error: FriendlyError | None = None
        self._reading: tuple | None = None  # what the worker is reading now

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        wizard = self.migration_wizard
        if self._generation != wizard.generation:
            # A new, opened or demo migration: its connections replace whatever was typed.
            self._generation = wizard.generation
            state = self.state
            self.source_card.set_settings(state.source, state.source_password)
            self.target_card.set_settings(state.target, state.target_password)
            self.source_card.remember.setChecked(
                bool(state.source_password) and self.source_card.remember.isEnabled()
            )
            self.target_card.remember.setChecked(
                bool(state.target_password) and self.target_card.remember.isEnabled()
            )
            self.source_card.notes.clear()
            self.target_card.notes.clear()
            self.setSubTitle(
                "The files to import, and where they should go. Test the target's connection."
                if state.import_only
                else "Where the tables are now, and where they should go. Test both connections."
            )
            self.source_card.setVisible(not state.import_only)
            self.import_box.setVisible(state.import_only)
            self.import_box.set_path(state.import_path)
            self.import_box.set_encoding(state.options.csv_encoding)
        self.refresh_complete()

    def _files_changed(self) -> None:
        self._import, self._import_error = None, None
        self.banner.clear()
        if self.state.import_only:
            self._read_timer.start()
        self.refresh_complete()

    def _read_files(self) -> None:
        path, check = self.import_box.path(), self.target_card.check
        if path is None or check is None:
            return
        settings, password = self.target_card.settings(), self.target_card.password_text()
        encoding = self.import_box.encoding()
        key = (path, settings, encoding)
        self._reading = key

        def read() -> ImportSource:
            from coursemig_gui.core.catalog import read_reserved_words
            from coursemig_gui.core.connection import connect

            # the target's reserved words: the Columns page offers end -> end_time for them
            with connect(settings, password, autocommit=True) as conn:
                reserved = read_reserved_words(conn)
            return open_import(path, reserved, encoding=encoding)

        def done(source: ImportSource) -> None:
            if self._reading == key:
                self._reading, self._import = None, source
                self.import_box.status.setText(source.summary)
                if source.problems:  # a file that cannot be read: the encoding is chosen here
                    self.banner.show_message(Level.WARNING, " ".join(source.problems))
                self.refresh_complete()

        def failed(error: FriendlyError) -> None:
            if self._reading == key:
                self._reading, self._import_error = None, error
                self.banner.show_error(error)
                self.refresh_complete()

        if self._worker is None:
            self._worker = Worker("import-files", self)
        self._worker.submit(read, done, failed)
        self.refresh_complete()

    def incomplete_reason(self) -> str | None:
        if self.state.import_only:
            return self._import_incomplete_reason()
        source_ok = self.source_card.check is not None
        target_ok = self.target_card.check is not None
        if not source_ok and not target_ok:
            return "Test both connections to continue."
        if not source_ok:
            return "Test the connection to the Django database to continue."
        if not target_ok:
            return "Test the connection to the target database to continue."
        return None

    def _import_incomplete_reason(self) -> str | None:
        if self.target_card.check is None:
            return "Test the connection to the target database to continue."
        if self.import_box.path() is None:
            return "Choose the folder or .zip file to import."
        if self._import_error is not None:
            return "The files could not be read; see the message above."
        if self._import is None:
            return "Reading the files…"
        return None

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        if not self.isComplete():  # QWizard.next() does not ask isComplete() itself
            return False
        if self.state.import_only:
            return self._validate_import()
        try:
            source, target = self.source_card.settings(), self.target_card.settings()
        except FriendlyError as exc:
            self.banner.show_error(exc)
            return False
        state = self.state
        if source != state.source or target != state.target:
            state.report = None
        state.source, state.source_password = source, self.source_card.password_text()
        state.target, state.target_password = target, self.target_card.password_text()
        state.source_check = self.source_card.check
        state.target_check = self.target_card.check
        for card in (self.source_card, self.target_card):
            card.save_password_choice()
        return True

    def _validate_import(self) -> bool:
        source = self._import
        try:
            target = self.target_card.settings()
        except FriendlyError as exc:
            self.banner.show_error(exc)
            return False
        if source is None:
            return False
        state = self.state
        encoding = self.import_box.encoding()
        if (
            state.import_path != self.import_box.path()
            or target != state.target
            or encoding != state.options.csv_encoding  # the proposed types may differ
        ):
            state.report, state.mappings, state.selected = None, [], []
        state.source, state.source_password = None, None
        state.target, state.target_password = target, self.target_card.password_text()
        # the files stand in for the source: the Tables and Columns pages read their catalog
        state.source_check = ConnectionCheck(source.summary, catalog=source.catalog)
        state.target_check = self.target_card.check
        state.import_path = self.import_box.path()
        state.import_source = source
        state.options.csv_dir = str(source.folder)
        state.options.csv_encoding = encoding
        self.target_card.save_password_choice()
        return True

    def _password_choice_failed(self, error: FriendlyError) -> None:
        """The store answers after Next: say it on the page the user is on now, too."""
        wizard = self.wizard()
        page = wizard.currentPage() if wizard is not None else None
        if isinstance(page, WizardStep) and page is not self:
            said = [page.notice.text] if page.notice.isVisible() else []
            page.notice.show_message(Level.WARNING, "\n".join([*said, error.message]), error.detail)

    def shutdown(self) -> None:
        if self._worker:
            self._worker.stop()
            self._worker = None
        self.source_card.shutdown()
        self.target_card.shutdown()
