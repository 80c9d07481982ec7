"""Column type changes that lose information without a word from the server, and reading a
target's values back as their source types so a check can see what a change did.

PostgreSQL refuses a value that does not fit (a too-long text, a too-large number, a fraction
for an integer): those rows are rejected and logged one by one. It silently rounds or drops
other things: decimal places (``numeric(12,4)`` -> ``numeric(10,2)``), the time zone
(``timestamptz`` -> ``timestamp``), the time of day (-> ``date``), the date (-> ``time``),
fractional seconds and significant digits (-> ``real``), a float's decimal places
(-> ``numeric(10,2)``), an interval's smaller units (-> ``interval hour to minute``), and each
of these in a range's bounds or an array's elements. Those are the changes named here, so a
run stops before it writes them.
"""

from __future__ import annotations

import re

from psycopg import sql

from coursemig_gui.core.type_grammar import is_type

_NUMERIC = re.compile(r"^(?:numeric|decimal)\s*(?:\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\))?$")
_TIME = re.compile(
    r"^(timestamp|time)\s*(?:\((\d)\))?\s*(with time zone|without time zone)?$|^(timestamptz|timetz)"
    r"\s*(?:\((\d)\))?$"
)
_INTEGERS = {"smallint", "integer", "bigint", "int2", "int4", "int8", "int", "serial", "bigserial"}
_FLOAT_DIGITS = {"real": 6, "float4": 6, "double precision": 15, "float8": 15}
_EXACT = {"smallint": 5, "int2": 5, "integer": 10, "int4": 10, "int": 10, "bigint": 19, "int8": 19}
# a range's (and multirange's) bounds are of these types: they round or drop as those do
_RANGE_OF = {
    "tsrange": "timestamp",
    "tstzrange": "timestamptz",
    "daterange": "date",
    "numrange": "numeric",
    "tsmultirange": "timestamp",
    "tstzmultirange": "timestamptz",
    "datemultirange": "date",
    "nummultirange": "numeric",
}
# interval with fields (``interval hour to minute``) and/or a precision (``interval(0)``)
_INTERVAL = re.compile(r"^interval(?:\s+([a-z ]+?))?\s*(?:\((\d)\))?$")
_INTERVAL_UNITS = ("years", "months", "days", "hours", "minutes", "seconds")
_ARRAY = re.compile(r"^(.*?)\s*((?:\[\d*\])+)$")


def _norm(type_text: str) -> str:
    return re.sub(r"\s+", " ", type_text.strip().lower())


def _numeric(t: str) -> tuple[int | None, int] | None:
    """(precision, scale) of a numeric type; precision None when unconstrained."""
    m = _NUMERIC.match(t)
    if not m:
        return None
    if m.group(1) is None:
        return None, -1  # any scale
    return int(m.group(1)), int(m.group(2) or 0)


def _time(t: str) -> tuple[str, int, bool] | None:
    """(kind, fractional digits, with zone) of a date/time type."""
    m = _TIME.match(t)
    if not m:
        return None
    if m.group(4):
        return ("timestamp" if m.group(4) == "timestamptz" else "time"), int(m.group(5) or 6), True
    return m.group(1), int(m.group(2) or 6), m.group(3) == "with time zone"


def lossy_change(source_type: str, target_type: str) -> str | None:
    """Why ``target_type`` would silently change some values of ``source_type`` (a sentence
    fragment), or None when every value either arrives as it was or is refused loudly."""
    s, t = _norm(source_type), _norm(target_type)
    if s == t:
        return None
    inner = _elements(s, t)
    if inner is not None:
        why = lossy_change(*inner)
        part = "element" if t.endswith("]") else "bound"
        return f"{why} (in each {part} of {target_type})" if why else None
    sn, tn = _numeric(s), _numeric(t)
    if sn is not None and tn is not None:
        (_, s_scale), (_, t_scale) = sn, tn
        if tn[0] is not None and (s_scale < 0 or t_scale < s_scale):
            has = "any number" if s_scale < 0 else str(s_scale)
            return (
                f"{target_type} keeps {t_scale} decimal places, {source_type} {has}: the "
                "other digits would be rounded away without a word"
            )
        return None
    if tn is not None and tn[0] is not None and s in _FLOAT_DIGITS:
        return (
            f"{target_type} keeps {tn[1]} decimal places, {source_type} any number: the "
            "other digits would be rounded away without a word"
        )
    if (si := _interval(s)) is not None and (ti := _interval(t)) is not None:
        if ti[0] < si[0]:
            *more, last = _INTERVAL_UNITS[ti[0] + 1 : si[0] + 1]
            lost = f"{', '.join(more)} and {last}" if more else last
            return (
                f"{target_type} keeps nothing smaller than {_INTERVAL_UNITS[ti[0]]}: the "
                f"{lost} of {source_type} would be dropped without a word"
            )
        if si[0] == ti[0] == 5 and ti[1] < si[1]:
            return (
                f"{target_type} keeps {ti[1]} digits of a second and {source_type} "
                f"{si[1]}: the rest would be rounded away"
            )
        return None
    if t in _FLOAT_DIGITS and (sn is not None or s in _EXACT or s in _FLOAT_DIGITS):
        digits = _EXACT.get(s) or _FLOAT_DIGITS.get(s) or 1000
        if sn is not None and sn[0] is not None:
            digits = sn[0]
        if digits > _FLOAT_DIGITS[t]:
            return (
                f"{target_type} keeps about {_FLOAT_DIGITS[t]} significant digits: longer "
                f"numbers from {source_type} would be rounded without a word"
            )
        return None
    st, tt = _time(s), _time(t)
    if st is not None and t == "date" and st[0] == "timestamp":
        return f"{target_type} has no time of day: the time in {source_type} would be dropped"
    if st is not None and tt is not None and st[0] == "timestamp" and tt[0] == "time":
        # a time's input takes a whole timestamp and keeps its clock time; nothing casts a
        # time back to a timestamp, so the check could only count the rows
        return f"{target_type} has no date: the date in {source_type} would be dropped"
    if st is not None and tt is not None and st[0] == tt[0]:
        if st[2] and not tt[2]:
            return (
                f"{target_type} has no time zone: each value would keep its clock time in "
                "UTC and lose the zone it was written in, so an app reading it in another "
                "time zone would see other times"
            )
        if tt[1] < st[1]:
            return (
                f"{target_type} keeps {tt[1]} digits of a second and {source_type} "
                f"{st[1]}: the rest would be rounded away"
            )
    return None


def _interval(t: str) -> tuple[int, int] | None:
    """(index of the smallest unit kept in ``_INTERVAL_UNITS``, fractional digits of a
    second) of an interval type."""
    m = _INTERVAL.match(t)
    if not m:
        return None
    unit = (m.group(1) or "second").split()[-1] + "s"
    if unit not in _INTERVAL_UNITS:
        return None
    return _INTERVAL_UNITS.index(unit), int(m.group(2) or 6)


def _elements(s: str, t: str) -> tuple[str, str] | None:
    """The element types of two arrays, or the bound types of two ranges, whose values are
    converted one by one (each rounds or drops as its element would); None otherwise."""
    sa, ta = _ARRAY.match(s), _ARRAY.match(t)
    if sa and ta:
        return sa.group(1), ta.group(1)
    if s in _RANGE_OF and t in _RANGE_OF:
        return _RANGE_OF[s], _RANGE_OF[t]
    return None


def castable(type_text: str) -> bool:
    """Whether a type name from the catalog can be written into a cast as it is: the same
    allow-list grammar as CREATE TABLE (``type_grammar``), so nothing but a type goes in."""
    return is_type(type_text)


def read_back_as(
    table: sql.Composable, columns: list[str], source_types: list[str], fmt: str
) -> sql.Composed:
    """COPY of the target's values cast back to the source's types, so a type change that
    altered a value shows in the checksum instead of hiding behind "types differ"."""
    items = [
        sql.SQL("{}::{}").format(sql.Identifier(c), sql.SQL(t))
        for c, t in zip(columns, source_types, strict=True)
    ]
    return sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT {})").format(
        sql.SQL(", ").join(items), table, sql.SQL(fmt)
    )
