"""A row's number in the source's read order when some rows were read first
(``transfer._number_among``): the n-th row read afterwards is the n-th number not taken."""

from __future__ import annotations

import random

from coursemig_gui.core.transfer import _number_among


def test_numbers_skip_the_rows_read_first() -> None:
    rng = random.Random(7)
    for _ in range(300):
        total = rng.randint(1, 60)
        first = sorted(rng.sample(range(1, total + 1), rng.randint(0, total)))
        rest = [n for n in range(1, total + 1) if n not in first]
        assert [_number_among(first, n) for n in range(1, len(rest) + 1)] == rest


def test_no_rows_read_first_keeps_the_numbers() -> None:
    assert [_number_among([], n) for n in (1, 2, 99)] == [1, 2, 99]
