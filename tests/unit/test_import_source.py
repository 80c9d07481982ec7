"""Reading the files of an import with no source database: a zip, a manifest or none."""

from __future__ import annotations

import zipfile

import pytest

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.import_source import count_records, open_import


def test_count_records_keeps_a_quoted_newline_in_its_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'id,note\n1,"two\nlines"\n2,plain\n3,"last, no newline"')
    assert count_records(path, len(b"id,note\n")) == 3


def test_hand_made_folder_proposes_types_and_counts_rows(tmp_path):
    (tmp_path / "marks.csv").write_text("id,mark,taken\n1,2.5,2024-01-02\n2,3,2024-02-03\n")
    source = open_import(tmp_path, frozenset({"end"}))
    assert not source.has_manifest
    table = source.catalog.table("marks")
    assert [c.type for c in table.columns] == ["text", "text", "text"]  # what the file holds
    assert table.row_estimate == 2
    assert source.proposed["marks"] == {"id": "integer", "mark": "numeric", "taken": "date"}
    assert source.catalog.reserved_words == frozenset({"end"})


def test_a_zip_is_unpacked_into_a_folder_that_stays(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEMIG_HOME", str(tmp_path / "home"))
    package = tmp_path / "handover.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("people.csv", "id,name\n1,Ada\n")
    source = open_import(package)
    assert source.folder.is_relative_to(tmp_path / "home")
    assert (source.folder / "people.csv").is_file()
    assert source.catalog.table("people").row_estimate == 1


def test_a_file_that_is_no_zip_is_refused_in_a_sentence(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(FriendlyError, match="neither a folder nor a zip file"):
        open_import(path)
