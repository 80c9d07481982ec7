"""A batch's rows are back to back in one buffer: slicing rows, parts and an error's line must
give back exactly the rows that went in, with their numbers and CSV lines."""

from __future__ import annotations

from coursemig_gui.core.row_batch import RowBatch, row_at_line

ROWS = [b"a,1\n", b'b,"two\nlines"\n', b"c,3\n", b'd,"x\n\ny"\n', b"e,5\n"]


def test_rows_come_back_as_they_went_in():
    batch = RowBatch.of_rows(ROWS, 11, [2, 3, 5, 6, 9])
    assert len(batch) == 5 and batch.nbytes == sum(map(len, ROWS))
    assert batch.rows == ROWS
    assert [batch.row(i) for i in range(5)] == ROWS
    assert bytes(batch.span(1, 4)) == b"".join(ROWS[1:4])
    assert bytes(batch.span(2, 2)) == b""


def test_parts_share_the_buffer_and_keep_numbers_and_lines():
    batch = RowBatch.of_rows(ROWS, 11, [2, 3, 5, 6, 9])
    tail = batch.part(2, 5)
    assert tail.data is batch.data
    assert tail.rows == ROWS[2:] and tail.first_number == 13 and tail.lines == [5, 6, 9]
    middle = tail.part(1, 2)
    assert middle.rows == [ROWS[3]] and middle.first_number == 14 and middle.lines == [6]
    assert middle.nbytes == len(ROWS[3]) and bytes(middle.whole()) == ROWS[3]
    assert tail.part(0, 0).nbytes == 0


def test_rows_within_a_size_always_at_least_one():
    batch = RowBatch.of_rows(ROWS, 1).part(1, 5)
    assert batch.rows_within(1) == 1
    assert batch.rows_within(len(ROWS[1]) + len(ROWS[2])) == 2
    assert batch.rows_within(10_000) == 4


def test_an_errors_line_names_its_row_csv_lines_counted_physically():
    batch = RowBatch.of_rows(ROWS, 1)
    # physical lines: a=1, b=2-3, c=4, d=5-7, e=8
    expected = {1: 0, 2: 1, 3: 1, 4: 2, 5: 3, 7: 3, 8: 4, 9: None, 0: None}
    assert {line: batch.row_at_line(line, True) for line in expected} == expected
    # a run that starts inside the batch counts from its own first row
    assert batch.row_at_line(2, True, lo=2) == 3
    assert batch.row_at_line(4, True, lo=2, hi=4) == 3
    assert batch.row_at_line(5, True, lo=2, hi=4) is None
    assert batch.row_at_line(3, False, lo=1) == 3 and batch.row_at_line(5, False, lo=1) is None


def test_an_errors_line_across_the_batches_of_one_copy():
    first = RowBatch.of_rows(ROWS, 1).part(1, 4)  # b (2 lines), c, d (3 lines)
    second = RowBatch.of_rows(ROWS[:1] * 3, 5)
    batches = [first, second]
    assert row_at_line(batches, 6, True) == (0, 2)
    assert row_at_line(batches, 7, True) == (1, 0)
    assert row_at_line(batches, 9, True) == (1, 2)
    assert row_at_line(batches, 10, True) is None
    assert row_at_line(batches, 4, False) == (1, 0)
    assert row_at_line(batches, 7, False) is None
