"""The one file-name sanitizer: distinct names never share a file, and every name is a file
name Windows accepts, inside its folder."""

from __future__ import annotations

from coursemig_gui.core.csvfiles import csv_file_name
from coursemig_gui.core.file_names import safe_file_stem
from coursemig_gui.core.rejects import RejectLog

NAMES = ["a b", "a_b", "a/b", "a\\b", "a:b", "../x", "..", ".", "", "CON", "con", "nul.txt",
         "COM1", "lpt9", "end", "courses_course", "a?b", "a*b", 'a"b', "tab\there", "x."]  # fmt: skip


def test_distinct_names_get_distinct_files():
    stems = [safe_file_stem(n) for n in NAMES]
    assert len(set(stems)) == len(NAMES)


def test_safe_names_are_kept_and_unsafe_ones_are_usable():
    assert safe_file_stem("courses_course") == "courses_course"
    assert safe_file_stem("a b") == "a b"
    for name in NAMES:
        stem = safe_file_stem(name)
        assert stem and not stem.startswith(".")
        assert not set(stem) & set('/\\:*?"<>|\t')
        assert stem.split(".")[0].lower() not in {"con", "nul", "com1", "lpt9"}


def test_every_file_the_tool_makes_uses_it(tmp_path):
    assert csv_file_name("a/b") == safe_file_stem("a/b") + ".csv"
    rejects = RejectLog(tmp_path)
    assert rejects.reject_file("a/b") != rejects.reject_file("a_b")
    assert rejects.reject_file("CON").name.split(".")[0].lower() != "con"
