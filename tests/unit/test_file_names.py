"""The one file-name sanitizer: distinct names never share a file, and every name is a file
name Windows accepts, inside its folder."""

from __future__ import annotations

import unicodedata

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


def test_names_differing_only_by_case_get_distinct_files():
    # Windows and macOS fold case (and macOS Unicode normalization): Course.csv would overwrite
    # course.csv there, so two such tables must never share a file.
    for group in (
        ["course", "Course", "COURSE"],
        ["a/b", "A/B"],
        ["CON", "con", "Con"],
        ["\u00e9t\u00e9", "\u00c9t\u00e9", "e\u0301te\u0301"],  # composed, upper, decomposed
        ["strasse", "stra\u00dfe"],
    ):
        folded = {unicodedata.normalize("NFC", safe_file_stem(n)).casefold() for n in group}
        assert len(folded) == len(group), group
    assert safe_file_stem("courses_course") == "courses_course"  # the usual case stays as is
