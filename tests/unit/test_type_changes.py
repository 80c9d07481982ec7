"""Issue 12: which type changes lose information without a word from the server."""

from __future__ import annotations

import pytest

from coursemig_gui.core.type_changes import lossy_change


@pytest.mark.parametrize(
    ("source", "target", "lossy"),
    [
        ("numeric(12,4)", "numeric(10,2)", True),  # 1.1234 -> 1.12
        ("numeric", "numeric(10,2)", True),
        ("numeric(12,4)", "numeric(20,4)", False),
        ("numeric(12,4)", "numeric", False),
        ("timestamp with time zone", "timestamp without time zone", True),
        ("timestamp with time zone", "timestamptz", False),
        ("timestamp without time zone", "timestamp with time zone", False),
        ("timestamp(6) without time zone", "timestamp(0) without time zone", True),
        ("timestamp with time zone", "date", True),
        ("double precision", "real", True),
        ("bigint", "double precision", True),
        ("integer", "double precision", False),
        # refused row by row by the server, each logged with its reason: loud, not lossy
        ("numeric", "integer", False),
        ("character varying(200)", "character varying(20)", False),
        ("text", "integer", False),
        ("integer", "bigint", False),
    ],
)
def test_lossy_changes_are_named(source, target, lossy):
    assert (lossy_change(source, target) is not None) == lossy


@pytest.mark.parametrize(
    ("source", "target", "lossy"),
    [
        # a time takes a whole timestamp and keeps its clock time: the date goes, silently
        ("timestamp without time zone", "time without time zone", True),
        ("timestamp with time zone", "time with time zone", True),
        ("timestamp(3) with time zone", "timetz", True),
        ("time without time zone", "time with time zone", False),
        # ranges and arrays convert each bound or element as the type itself would
        ("tsrange", "daterange", True),
        ("tstzrange", "tsrange", True),
        ("tsrange", "tstzrange", False),
        ("tstzmultirange", "datemultirange", True),
        ("timestamp with time zone[]", "timestamp without time zone[]", True),
        ("numeric(12,4)[]", "numeric(10,2)[]", True),
        ("integer[]", "bigint[]", False),
        ("numrange", "int4range", False),  # a fraction is refused by the server: loud
    ],
)
def test_lossy_changes_of_dates_ranges_and_arrays_are_named(source, target, lossy):
    assert (lossy_change(source, target) is not None) == lossy


@pytest.mark.parametrize(
    ("source", "target", "lossy"),
    [
        # a float's text has any number of decimal places: a scale rounds them away
        ("double precision", "numeric(10,2)", True),
        ("real", "numeric(30,20)", True),
        ("double precision", "numeric", False),
        # an interval's fields and precision drop or round its smaller units
        ("interval", "interval hour to minute", True),  # 1 day 02:03:04 -> 1 day 02:03:00
        ("interval", "interval year to month", True),
        ("interval", "interval(0)", True),
        ("interval second(3)", "interval second(0)", True),
        ("interval minute", "interval hour", True),
        ("interval day", "interval", False),
        ("interval", "interval day to second", False),
        ("interval(3)", "interval(6)", False),
    ],
)
def test_lossy_changes_of_floats_and_intervals_are_named(source, target, lossy):
    assert (lossy_change(source, target) is not None) == lossy


def test_the_columns_page_warning_does_not_promise_that_only_rejected_rows_are_affected():
    """A change that converts may still alter a value (text to "char" keeps one character):
    the warning said only that rows which do not convert are rejected."""
    from coursemig_gui.core.mapping import narrowing_reason

    reason = narrowing_reason("text", '"char"')
    assert reason is not None and "may still change" in reason and "check" in reason
