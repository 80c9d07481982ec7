"""Rows the source names as likely refused (``engine/likely_refused.py``): which type changes
make a condition at all (a widening one would cost a read of the table for nothing), and a
row's number in the source's read order when some rows were read first
(``transfer._number_among``: the n-th row read afterwards is the n-th number not taken)."""

from __future__ import annotations

import random

import pytest
from psycopg import sql

from coursemig_gui.core.engine.likely_refused import _not_fitting
from coursemig_gui.core.transfer import _number_among


@pytest.mark.parametrize(
    ("source_type", "target_type", "condition"),
    [
        ("bigint", "integer", '"n" NOT BETWEEN  -2147483648 AND 2147483647'),
        ("numeric(12,2)", "smallint", '"n" NOT BETWEEN  -32768 AND 32767'),
        ("integer", "smallint", '"n" NOT BETWEEN  -32768 AND 32767'),
        ("smallint", "integer", None),
        ("integer", "bigint", None),
        ("text", "character varying(5)", 'char_length("n"::text) > 5'),
        ("character varying(30)", "character varying(5)", 'char_length("n"::text) > 5'),
        ("integer", "character(3)", 'char_length("n"::text) > 3'),
        ("character varying(30)", "character varying(50)", None),
        ("character(5)", "character varying(5)", None),
        ("text", "text", None),
    ],
)
def test_only_a_narrowing_change_names_rows(source_type, target_type, condition) -> None:
    found = [c.as_string(None) for c in _not_fitting(sql.Identifier("n"), source_type, target_type)]
    assert found == ([] if condition is None else [condition])


def test_numbers_skip_the_rows_read_first() -> None:
    rng = random.Random(7)
    for _ in range(300):
        total = rng.randint(1, 60)
        first = sorted(rng.sample(range(1, total + 1), rng.randint(0, total)))
        rest = [n for n in range(1, total + 1) if n not in first]
        assert [_number_among(first, n) for n in range(1, len(rest) + 1)] == rest


def test_no_rows_read_first_keeps_the_numbers() -> None:
    assert [_number_among([], n) for n in (1, 2, 99)] == [1, 2, 99]
