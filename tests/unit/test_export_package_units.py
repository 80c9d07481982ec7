"""The pieces of issue 20 that need no server: type proposals, the manifest, the zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from coursemig_gui.core.catalog import Column, ForeignKey, Table
from coursemig_gui.core.content_checksum import stable_rows_checksum
from coursemig_gui.core.csvfiles import read_layout
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.export_package import (
    MANIFEST_NAME,
    SCHEMA_NAME,
    check_file,
    exported_table,
    package_entry,
    read_package,
    remove_manifest,
    write_package,
)
from coursemig_gui.core.package_zip import unpacked, zip_package
from coursemig_gui.core.type_inference import infer_file_types, infer_type, sample_values

COURSE = Table(
    name="courses_course",
    columns=(
        Column("pid", "character varying(30)", True, position=1),
        Column("slug", "character varying(200)", True, position=2),
        Column("program_id", "character varying(10)", True, position=3),
        Column("notes", "text", False, position=4),
    ),
    primary_key=("pid",),
    unique=(("slug",), ("slug", "notes")),
    foreign_keys=(ForeignKey("fk", ("program_id",), "courses_program", ("subject_code",)),),
    app="courses",
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-20", "+3", None], "integer"),
        (["1", ""], "text"),  # "" in a CSV file is an empty string, which only text holds
        (["1", "3000000000"], "bigint"),
        (["1", "99999999999999999999"], "numeric"),
        (["1.5", "2", "-.25"], "numeric"),
        (["true", "F", "yes", "off"], "boolean"),
        (["0", "1"], "integer"),  # 0/1 are numbers, not booleans
        (["2026-11-28", "2024-02-29"], "date"),
        (["2026-02-30"], "text"),  # not a day
        (
            ["2026-11-28 10:00:00+00", "2026-11-28T10:00:00.5Z", "2026-11-28 10:00+05:30"],
            "timestamp with time zone",
        ),
        (["2026-11-28 10:00:00"], "text"),  # no offset: the moment is unknown
        (["0b7e1a40-9c1f-4a8e-9d5c-3a1f2b3c4d5e"], "uuid"),
        (['{"a": 1}', "[1, 2]"], "jsonb"),
        (["{not json"], "text"),
        (["007", "12"], "text"),  # a leading zero is a code; it would load as 7
        (["1e3"], "text"),  # exponent: left to a person
        ([None, None], "text"),
        ([], "text"),
        (["1", "two"], "text"),
    ],
)
def test_infer_type_picks_the_narrowest_that_fits_every_value(values, expected):
    assert infer_type(values) == expected


def test_sample_tells_a_null_from_an_empty_string(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a;b;c\n1;"";"x;""y"""\n;2;\n', encoding="utf-8")
    assert sample_values(read_layout(path)) == {
        "a": ["1", None],
        "b": ["", "2"],
        "c": ['x;"y"', None],
    }


def test_infer_file_types_reads_a_sample_only(tmp_path):
    path = tmp_path / "offers.csv"
    rows = [f'{i},"{i}.5",2026-01-{1 + i % 28:02d},t,"a, quoted\nvalue"' for i in range(2000)]
    rows[1500] = "x,y,z,w,v"  # past the sample: found by the load, not by the proposal
    path.write_text("id,price,day,flag,note\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert infer_file_types(read_layout(path)) == {
        "id": "integer",
        "price": "numeric",
        "day": "date",
        "flag": "boolean",
        "note": "text",
    }


def test_exported_table_keeps_only_keys_of_exported_columns():
    table = exported_table(COURSE, ["pid", "slug", "program_id"])
    assert [c.name for c in table.columns] == ["pid", "slug", "program_id"]
    assert table.unique == (("slug",),) and table.primary_key == ("pid",)
    assert len(table.foreign_keys) == 1
    assert exported_table(COURSE, ["slug", "notes"]).foreign_keys == ()


def test_manifest_round_trips_and_is_written_last(tmp_path):
    path = tmp_path / "courses_course.csv"
    path.write_bytes(b"pid,slug,program_id,notes\nA,a,CSC,\n")
    checksum = stable_rows_checksum([b"A,a,CSC,\n"])
    entry = package_entry(COURSE, ["pid", "slug", "program_id", "notes"], path, 1, checksum)
    write_package(tmp_path, [entry], "public", "-- schema\n")
    assert not list(tmp_path.glob("*.part"))
    data = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert data["tables"][0]["model"] == "course"
    package = read_package(tmp_path)
    assert package is not None and package.entry("courses_course") == entry
    assert package.catalog().table("courses_course").foreign_keys == COURSE.foreign_keys
    assert check_file(entry, tmp_path) == path

    path.write_bytes(b"pid,slug,program_id,notes\nA,b,CSC,\n")
    with pytest.raises(FriendlyError, match="The file courses_course.csv is not the file"):
        check_file(entry, tmp_path)
    path.unlink()
    with pytest.raises(FriendlyError, match="courses_course.csv is listed"):
        check_file(entry, tmp_path)
    remove_manifest(tmp_path)
    assert read_package(tmp_path) is None and not (tmp_path / SCHEMA_NAME).exists()


def test_stable_checksum_is_order_independent_and_the_same_everywhere():
    rows = [b"1,a\n", b"2,b\n", b"3,c\n"]
    assert stable_rows_checksum(rows) == stable_rows_checksum(rows[::-1])
    assert stable_rows_checksum(rows) == 0x06FF61BB75AEC90A  # stored in manifests: never changes
    assert stable_rows_checksum(rows[:2]) != stable_rows_checksum(rows)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{", "could not be read"),
        ('{"format": "other"}', "not a CourseMig export manifest"),
        ('{"format": "coursemig-export", "version": 99, "tables": []}', "format version 99"),
        ('{"format": "coursemig-export", "version": 1, "tables": [{"name": "x"}]}', "incomplete"),
    ],
)
def test_a_bad_manifest_is_a_sentence(tmp_path, text, why):
    (tmp_path / MANIFEST_NAME).write_text(text)
    with pytest.raises(FriendlyError, match=why):
        read_package(tmp_path)


def test_zip_holds_the_package_and_unpacks_for_an_import(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("a.csv", SCHEMA_NAME, MANIFEST_NAME):
        (folder / name).write_text(name)
    packed = zip_package(folder, ["a.csv", MANIFEST_NAME, SCHEMA_NAME])
    assert packed == tmp_path / "export.zip"
    with zipfile.ZipFile(packed) as zf:
        assert zf.namelist() == ["a.csv", SCHEMA_NAME, MANIFEST_NAME]  # the manifest last
    with unpacked(packed) as opened:
        assert sorted(p.name for p in opened.iterdir()) == sorted(
            ["a.csv", SCHEMA_NAME, MANIFEST_NAME]
        )
        temp = opened
    assert not temp.exists()
    with unpacked(folder) as opened:
        assert opened == folder


def test_a_zip_entry_outside_the_folder_is_refused(tmp_path):
    packed = tmp_path / "evil.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        zf.writestr("../escape.csv", "x")
    with pytest.raises(FriendlyError, match="not a plain file name"), unpacked(packed):
        pass
    assert not (tmp_path.parent / "escape.csv").exists()


def test_check_file_refuses_a_truncated_file(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a\n1\n2\n")
    entry = package_entry(Table("t", (Column("a", "integer", False),)), ["a"], path, 2, 0)
    path.write_bytes(b"a\n1\n")
    with pytest.raises(FriendlyError, match="changed or cut short"):
        check_file(entry, tmp_path)


def test_without_columns_keeps_nulls_empty_strings_and_line_numbers(tmp_path):
    from coursemig_gui.core.csvfiles import file_batches, without_columns

    path = tmp_path / "t.csv"
    path.write_bytes(b'a,b,c\n1,"x, ""y""\nz",\n2,,""\n')
    layout = read_layout(path)
    (batch,) = list(without_columns(file_batches(layout, 10, 1 << 20), layout, {0}))
    assert batch.rows == [b'"x, ""y""\nz",\n', b',""\n'] and batch.lines == [2, 4]
