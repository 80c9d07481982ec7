"""The sample catalogue: deterministic, consistent with Django's schema, and holding every value
that breaks a CSV round trip."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from psycopg import sql

from coursemig_gui.demo import sample_data
from coursemig_gui.demo import sample_rows as sample_rows_module
from coursemig_gui.demo.nasty_cases import NASTY_CASES, NASTY_MIN_COURSES, NASTY_VALUES
from coursemig_gui.demo.sample_data import fill_sample_data
from coursemig_gui.demo.sample_rows import TABLE_COLUMNS, sample_rows


def _materialise(courses: int, seed: int) -> dict[str, list[tuple]]:
    return {table: list(rows) for table, _, rows in sample_rows(courses, seed)}


def _schema_columns() -> dict[str, dict[str, tuple[str, bool]]]:
    """table -> column -> (type, not null), read from the committed pg_dump."""
    tables: dict[str, dict[str, tuple[str, bool]]] = {}
    for name, body in re.findall(
        r"CREATE TABLE public\.(\w+) \(\n(.*?)\n\);", sample_data.django_schema_sql(), re.S
    ):
        columns = {}
        for line in body.splitlines():
            column, rest = line.strip().rstrip(",").split(" ", 1)
            columns[column.strip('"')] = (rest.removesuffix(" NOT NULL"), rest.endswith("NOT NULL"))
        tables[name] = columns
    return tables


def test_same_seed_same_rows_other_seed_other_rows():
    first, again, other = _materialise(300, 5), _materialise(300, 5), _materialise(300, 6)
    assert first == again
    assert first["courses_course"] != other["courses_course"]
    # the awkward rows do not depend on the seed
    assert (
        first["courses_course"][:NASTY_MIN_COURSES] == other["courses_course"][:NASTY_MIN_COURSES]
    )


def test_columns_match_the_django_schema_and_values_fit():
    schema = _schema_columns()
    rows = _materialise(500, 1)
    assert set(TABLE_COLUMNS) == {t for t in schema if t.startswith("courses_")}
    for table, columns in TABLE_COLUMNS.items():
        assert set(columns) == set(schema[table]), table
        for row in rows[table]:
            for column, value in zip(columns, row, strict=True):
                kind, not_null = schema[table][column]
                if value is None:
                    assert not not_null, (table, column)
                elif m := re.fullmatch(r"character varying\((\d+)\)", kind):
                    assert isinstance(value, str) and len(value) <= int(m[1]), (table, column)


def test_keys_are_unique_and_foreign_keys_resolve():
    rows = _materialise(2000, 2)
    idx = {t: {c: i for i, c in enumerate(cols)} for t, cols in TABLE_COLUMNS.items()}

    def col(table, column):
        return [r[idx[table][column]] for r in rows[table]]

    for table, key in [
        ("courses_program", "subject_code"),
        ("courses_meetingtime", "slug"),
        ("courses_meetinglocation", "slug"),
        ("courses_course", "pid"),
        ("courses_course", "slug"),
        ("courses_section", "crn"),
        ("courses_degree", "code"),
        ("courses_specialization", "id"),
        ("courses_coursesectionlink", "id"),
        ("courses_coursesectionlink_sections", "id"),
    ]:
        values = col(table, key)
        assert len(values) == len(set(values)), (table, key)
    pairs = list(
        zip(
            col("courses_coursesectionlink_sections", "coursesectionlink_id"),
            col("courses_coursesectionlink_sections", "section_id"),
            strict=True,
        )
    )
    assert len(pairs) == len(set(pairs))
    for table, column, parent, key in [
        ("courses_course", "program_id", "courses_program", "subject_code"),
        ("courses_section", "course_id", "courses_course", "pid"),
        ("courses_section", "meeting_time_id", "courses_meetingtime", "slug"),
        ("courses_section", "meeting_location_id", "courses_meetinglocation", "slug"),
        ("courses_coursesectionlink", "course_id", "courses_course", "pid"),
        (
            "courses_coursesectionlink_sections",
            "coursesectionlink_id",
            "courses_coursesectionlink",
            "id",
        ),
        ("courses_coursesectionlink_sections", "section_id", "courses_section", "crn"),
        ("courses_degree", "program_id", "courses_program", "subject_code"),
        ("courses_specialization", "degree_id", "courses_degree", "code"),
    ]:
        assert set(col(table, column)) - {None} <= set(col(parent, key)), (table, column)


def test_every_nasty_case_is_in_the_first_rows():
    rows = _materialise(NASTY_MIN_COURSES, 0)
    for case in NASTY_CASES:
        columns = TABLE_COLUMNS[case.table]
        key, column = columns.index(case.key_column), columns.index(case.column)
        [row] = [r for r in rows[case.table] if r[key] == case.key]
        assert row[column] == case.value, case.name
    assert NASTY_VALUES["backslash_n_literal"] == "\\N"
    assert NASTY_VALUES["null_text"] is None and NASTY_VALUES["empty_string"] == ""
    assert len(NASTY_VALUES["long_description"]) == 15000
    for must in (
        "comma_and_quote_html",
        "crlf",
        "lf",
        "tab",
        "backslash",
        "unicode",
        "reserved_word_end",
    ):
        assert must in NASTY_VALUES
    assert "\r\n" in NASTY_VALUES["crlf"] and "\t" in NASTY_VALUES["tab"]
    assert (
        '"' in NASTY_VALUES["comma_and_quote_html"] and "," in NASTY_VALUES["comma_and_quote_html"]
    )
    assert any(ord(ch) > 0xFFFF for ch in NASTY_VALUES["unicode"])  # an emoji: 4 bytes in UTF-8


def test_sizes_scale_with_the_course_count():
    counts = {t: sum(1 for _ in rows) for t, _, rows in sample_rows(20_000, 0)}
    assert counts["courses_course"] == 20_000
    assert 15_000 < counts["courses_section"] < 25_000
    assert counts["courses_coursesectionlink_sections"] == 2 * counts["courses_coursesectionlink"]
    assert Counter(len(pid) for pid in _column(20_000, "courses_course", "pid")) == Counter(
        {10: 20_000 - NASTY_MIN_COURSES, 9: NASTY_MIN_COURSES}
    )


def _column(courses: int, table: str, column: str) -> list:
    i = TABLE_COLUMNS[table].index(column)
    for name, _, rows in sample_rows(courses, 0):
        if name == table:
            return [r[i] for r in rows]
    raise KeyError(table)


def test_course_ids_stay_unique_past_fifteen_million():
    # at more than 62**4 courses the id grows a base-62 digit pair rather than wrapping
    pairs = sample_rows_module._pid_pairs(20_000_000)
    ids = {sample_rows_module._pid(12345, i, pairs) for i in range(14_776_000, 14_777_000)}
    assert pairs == 3 and len(ids) == 1000


def test_negative_course_count_is_refused():
    with pytest.raises(ValueError):
        list(sample_rows(-1))


def test_same_seed_gives_the_same_rows_in_the_database(empty_source_db):
    # what COPY stored is exactly what was generated, awkward values included
    summary = fill_sample_data(empty_source_db.url, courses=120, seed=9)
    expected = _materialise(120, 9)
    assert summary.by_table() == {t: len(r) for t, r in expected.items()}
    for table, columns in TABLE_COLUMNS.items():
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(table)
        )
        assert sorted(empty_source_db.rows(query), key=repr) == sorted(expected[table], key=repr), (
            table
        )
