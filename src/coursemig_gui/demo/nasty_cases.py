"""The values that break CSV round trips, each placed in a known row of the sample data."""

from __future__ import annotations

from dataclasses import dataclass

# -- the values that break CSV round trips -------------------------------------------------------


@dataclass(frozen=True)
class NastyCase:
    """One awkward value, and the exact place the sample data puts it."""

    name: str
    table: str
    column: str
    value: str | None
    key_column: str
    key: str  # primary key of the row holding it


def _long_description() -> str:
    """Exactly 15,000 characters (Course.description's max_length), more than 15,000 bytes."""
    paragraph = (
        '<p>Part of a very long calendar entry, with commas, "quotes", accents (é, ü, ñ), '
        "a CJK phrase 課程説明 and an emoji 🎓.\nIt also breaks lines.</p>\n"
    )
    text = paragraph * (15000 // len(paragraph) + 1)
    return text[: 15000 - len("[END]")] + "[END]"


LONG_DESCRIPTION = _long_description()

# The seed's failing row (`ByS23Pp7E,acan225,...,"<p>An interdisciplinary examinat...`) is course 0.
_SEED_DESCRIPTION = (
    "<p>An interdisciplinary examination of the arts of Canada, including "
    '"visual", literary, and performing arts, from early times to the present.</p>'
)

NASTY_CASES: tuple[NastyCase, ...] = (
    NastyCase("comma_and_quote_html", "courses_course", "description", _SEED_DESCRIPTION, "pid", "ByS23Pp7E"),
    NastyCase("null_text", "courses_course", "notes", None, "pid", "ByS23Pp7E"),
    NastyCase("crlf", "courses_course", "description",
              '<p>Relational model, SQL, "normal forms".\r\nSecond paragraph after a Windows line break.</p>',
              "pid", "Hk7bQp2Lx"),
    NastyCase("lf", "courses_course", "notes", "First line\nsecond line, after a bare LF", "pid", "Hk7bQp2Lx"),
    NastyCase("empty_string", "courses_course", "credit", "", "pid", "Hk7bQp2Lx"),
    NastyCase("unicode", "courses_course", "title", "Études françaises — 日本語入門 🎓🐍", "pid", "r1Xy9Zt0Q"),
    NastyCase("backslash_n_literal", "courses_course", "credit", "\\N", "pid", "r1Xy9Zt0Q"),
    NastyCase("tab", "courses_course", "hours", "3-1-0\tplus lab", "pid", "r1Xy9Zt0Q"),
    NastyCase("backslash", "courses_course", "notes", "C:\\Temp\\new\\table and \\\\server\\share\\", "pid", "r1Xy9Zt0Q"),
    NastyCase("long_description", "courses_course", "description", LONG_DESCRIPTION, "pid", "r1Xy9Zt0Q"),
    NastyCase("single_quote", "courses_course", "title", "Shakespeare's Sonnets; or, 'What You Will'", "pid", "Zq0Pp4Mm1"),
    NastyCase("bare_cr", "courses_course", "description", "Old Mac line ending\rnext line", "pid", "Zq0Pp4Mm1"),
    NastyCase("null_word", "courses_course", "notes", "NULL", "pid", "Zq0Pp4Mm1"),
    NastyCase("lone_double_quote", "courses_course", "hours", '"', "pid", "Zq0Pp4Mm1"),
    NastyCase("surrounding_spaces", "courses_course", "credit", "  3.0  ", "pid", "Zq0Pp4Mm1"),
    NastyCase("reserved_word_end", "courses_meetingtime", "end", "1120", "slug", "202309-mwr-1030-1120"),
    NastyCase("null_foreign_key", "courses_degree", "program_id", None, "code", "BA-GENERAL"),
)  # fmt: skip

NASTY_VALUES: dict[str, str | None] = {case.name: case.value for case in NASTY_CASES}

# the nasty courses come first, so any courses >= this holds every case
NASTY_MIN_COURSES = 4
