"""The Summary page's hand-over: the folder for the app's developer, a link to it, and the
project folder picker that adds models.patch."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from coursemig_gui.core.django_handover.writer import Handover, write_handover
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.file_names import safe_file_stem
from coursemig_gui.core.paths import user_data_dir
from coursemig_gui.gui.signals import emit


def default_handover_folder(name: str) -> Path:
    return user_data_dir() / "django-handover" / safe_file_stem(name or "migration")


class HandoverPanel(QWidget):
    written = Signal(object)  # Handover, or FriendlyError when it could not be written

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.link = QLabel()
        self.link.setOpenExternalLinks(True)  # file:// opens the folder in the file manager
        self.link.setWordWrap(True)
        self.link.setAccessibleName("Hand-over folder")
        self.project_button = QPushButton("Django &project folder…")
        self.project_button.setToolTip(
            "Choose the app's project folder (where manage.py is) to get the model changes as "
            "a patch. CourseMig only reads its models.py files."
        )
        self.project_button.clicked.connect(self.choose_project)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.link, 1)
        row.addWidget(self.project_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.notes)
        self.result: Handover | None = None
        self._state = None

    def write(self, state) -> Handover | None:
        """(Re)write the folder for ``state`` (a WizardState); the link shows where it went."""
        self._state = state
        folder = default_handover_folder(state.name)
        try:
            result = write_handover(
                folder,
                state.target,
                [m for m in state.mappings if m.include],
                state.django_plan(),
                state.options,
                state.django_project,
                citus=state.target_has_citus or None,
                copied=True,  # the Summary page writes it after a run that copied (handover_due)
                report=state.report,  # its skipped rows are said
            )
        except FriendlyError as error:
            self.result = None
            self.link.setText(error.message)
            self.notes.clear()
            emit(self.written, error)
            return None
        except OSError as exc:
            self.result = None
            self.link.setText(
                f"The hand-over folder {folder} could not be written: {exc.strerror}."
            )
            emit(self.written, FriendlyError(self.link.text(), str(exc)))
            return None
        self.result = result
        url = QUrl.fromLocalFile(str(result.folder)).toString()
        patch = " (with models.patch)" if result.has_patch else ""
        self.link.setText(
            f'Hand-over for the app\'s developer{patch}: <a href="{url}">{result.folder}</a>'
        )
        self.notes.setText("\n".join(f"Needs attention: {p}" for p in result.problems))
        self.notes.setVisible(bool(result.problems))
        emit(self.written, result)
        return result

    def choose_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The Django project folder (manage.py)")
        if folder:
            self.set_project(Path(folder))

    def set_project(self, folder: Path) -> Handover | None:
        if self._state is None:
            return None
        self._state.django_project = Path(folder)
        return self.write(self._state)
