"""The "From" side of an import with no source database: a folder or .zip of CSV files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coursemig_gui.core.paths import user_data_dir

# how CSV files without a manifest are read; an export package says its own
ENCODINGS = (
    ("UTF-8", "utf-8"),
    ('Windows-1252 (Excel\'s "CSV (Comma delimited)" on Windows)', "cp1252"),
    ("Latin-1 (ISO-8859-1)", "latin-1"),
)


class ImportBox(QGroupBox):
    changed = Signal()  # the path was edited or chosen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("From (CSV files: an export, its .zip, or your own)", parent)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("A folder with .csv files, or an export's .zip")
        self.path_edit.setAccessibleName("Folder or zip file to import")
        label = QLabel("&Files:")
        label.setBuddy(self.path_edit)
        self.folder_button = QPushButton("F&older…")
        self.zip_button = QPushButton("&Zip file…")
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.folder_button)
        row.addWidget(self.zip_button)
        self.encoding_combo = QComboBox()
        for label, codec in ENCODINGS:
            self.encoding_combo.addItem(label, codec)
        encoding_label = QLabel("Text &encoding:")
        encoding_label.setBuddy(self.encoding_combo)
        encoding_row = QHBoxLayout()
        encoding_row.addWidget(encoding_label)
        encoding_row.addWidget(self.encoding_combo, 1)
        self.status = QLabel(
            "Choose the folder or .zip you were handed. The Django database is not needed: "
            "the tables, types and keys come from the files."
        )
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(encoding_row)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.path_edit.textChanged.connect(lambda _text: self.changed.emit())
        self.encoding_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.folder_button.clicked.connect(self._choose_folder)
        self.zip_button.clicked.connect(self._choose_zip)

    def path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text) if text else None

    def set_path(self, path: Path | None) -> None:
        self.path_edit.setText(str(path) if path else "")

    def encoding(self) -> str:
        return str(self.encoding_combo.currentData())

    def set_encoding(self, encoding: str) -> None:
        """A saved migration's encoding; one this box does not list leaves it at UTF-8."""
        self.encoding_combo.setCurrentIndex(max(0, self.encoding_combo.findData(encoding)))

    def _start(self) -> str:
        return str(self.path() or user_data_dir())

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with the CSV files", self._start())
        if folder:
            self.set_path(Path(folder))

    def _choose_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Export package (.zip)", self._start(), "Zip files (*.zip)"
        )
        if path:
            self.set_path(Path(path))
