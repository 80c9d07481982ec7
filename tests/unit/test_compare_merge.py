"""The client side of ``coursemig compare``: merging two key-sorted hash streams."""

from __future__ import annotations

import pytest

from coursemig_gui.core.compare.merge import Kind, OutOfOrder, merge_sorted


def test_counts_and_shown_rows_in_key_order():
    source = [(1, 10), (2, 20), (3, 30), (5, 50)]
    target = [(1, 10), (2, 21), (4, 40), (5, 50)]
    result = merge_sorted(source, target, keep=10)
    assert (result.identical, result.different, result.only_source, result.only_target) == (
        2, 1, 1, 1)  # fmt: skip
    assert result.shown == [(Kind.DIFFERENT, (2,)), (Kind.ONLY_SOURCE, (3,)),
                            (Kind.ONLY_TARGET, (4,))]  # fmt: skip
    assert (result.source_rows, result.target_rows) == (4, 4)


def test_only_the_first_rows_are_kept_but_all_are_counted():
    source = [(i, i) for i in range(100_000)]
    result = merge_sorted(source, [], keep=3)
    assert result.only_source == 100_000
    assert [key for _, key in result.shown] == [(0,), (1,), (2,)]


def test_a_key_found_twice_in_the_target_is_one_extra_row():
    result = merge_sorted([("a", 1), ("b", 2)], [("a", 1), ("a", 9), ("b", 2)], keep=10)
    assert (result.identical, result.only_target, result.different) == (2, 1, 0)


def test_multiset_pairs_equal_hashes_only():
    # a table without a key: the hash is the key, so a changed row is missing on one side
    # and extra on the other
    source = [(h, h) for h in (1, 1, 2, 3)]
    target = [(h, h) for h in (1, 2, 4)]
    result = merge_sorted(source, target, keep=10)
    assert (result.identical, result.only_source, result.only_target) == (2, 2, 1)


def test_keys_out_of_order_stop_the_table_instead_of_misreporting():
    with pytest.raises(OutOfOrder):
        merge_sorted([("b", 1), ("a", 2)], [("a", 2), ("b", 1)], keep=10)


def test_composite_text_keys_compare_as_the_c_collation_sorts():
    # "C" sorts by UTF-8 bytes, which is code point order: Python's order for str
    keys = sorted([("a", "Z"), ("a", "a"), ("é", "x"), ("z", "")])
    assert keys == [("a", "Z"), ("a", "a"), ("z", ""), ("é", "x")]
    rows = [(*k, 0) for k in keys]
    assert merge_sorted(rows, rows, keep=1).identical == 4
