"""Issue 9, item 1: malformed CSV files on import (new tables get proposed types: issue 20).

Each file either loads correctly or gives one plain sentence naming the file, the line and the
problem, and the target table is never half-loaded (absent, or exactly as it was).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coursemig_gui.cli import main

pytestmark = pytest.mark.bad_input


def _import(folder: Path, target_db, capsys, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(
        [
            "import",
            str(folder),
            "--target",
            target_db.url,
            "--rejects-dir",
            str(folder.parent / "rejects"),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = tmp_path / "csv"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


def _table(target_db, name: str) -> list[tuple] | None:
    if target_db.rows("SELECT to_regclass(%s)", [f'public."{name}"'])[0][0] is None:
        return None
    return target_db.rows(f'SELECT * FROM "{name}" ORDER BY 1')


def _columns(target_db, name: str) -> list[str]:
    return [
        r[0]
        for r in target_db.rows(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            [f'public."{name}"'],
        )
    ]


def _people(target_db) -> None:
    with target_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE people (id integer PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO people VALUES (100, 'already here')")


def test_utf8_bom_is_not_part_of_the_first_column(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", b"\xef\xbb\xbfid,name\n1,Ann\n2,Bo\xc3\xabl\n")
    code, err = _import(folder, target_db, capsys, "-q")
    assert code == 0, err
    assert _columns(target_db, "people") == ["id", "name"]
    assert _table(target_db, "people") == [(1, "Ann"), (2, "Boël")]


def test_utf8_bom_into_an_existing_typed_table(tmp_path, target_db, capsys):
    _people(target_db)
    folder = _write(tmp_path, "people.csv", b"\xef\xbb\xbfid,name\n1,Ann\n")
    code, err = _import(folder, target_db, capsys, "--if-exists", "append", "-q")
    assert code == 0, err
    assert _table(target_db, "people") == [(1, "Ann"), (100, "already here")]


def test_latin1_file_is_detected_then_loaded_when_chosen(tmp_path, target_db, capsys):
    data = "id,name\n1,Ann\n2,Café Noël\n3,Søren\n".encode("latin-1")
    folder = _write(tmp_path, "people.csv", data)
    code, err = _import(folder, target_db, capsys)
    assert code == 1
    assert "people.csv is not UTF-8" in err and "line 3" in err and "Latin-1" in err
    assert _table(target_db, "people") is None  # nothing was created

    code, err = _import(folder, target_db, capsys, "--encoding", "latin-1", "-q")
    assert code == 0, err
    assert _table(target_db, "people") == [(1, "Ann"), (2, "Café Noël"), (3, "Søren")]


def test_unterminated_quote_fails_the_table_with_file_and_line(tmp_path, target_db, capsys):
    _people(target_db)
    rows = "".join(f"{i},name {i}\n" for i in range(1, 30))
    data = f'id,name\n{rows}30,"never closed\n31,more\n32,and more\n'.encode()
    folder = _write(tmp_path, "people.csv", data)
    code, err = _import(folder, target_db, capsys, "--if-exists", "append", "--batch-rows", "5")
    assert code == 1
    assert "people.csv" in err and "quote" in err and "line 31" in err, err
    assert _table(target_db, "people") == [(100, "already here")]  # as it was


@pytest.mark.parametrize(
    "bad, problem",
    [("7,seven,extra", "extra data after last expected column"), ("7", "missing data for column")],
    ids=["too-many-fields", "too-few-fields"],
)
def test_wrong_field_count(tmp_path, target_db, capsys, bad, problem):
    _people(target_db)
    good = [f"{i},name {i}" for i in range(1, 13) if i != 7]
    lines = good[:6] + [bad] + good[6:]
    folder = _write(tmp_path, "people.csv", ("id,name\n" + "\n".join(lines) + "\n").encode())

    # Stop at the first bad row: a sentence with the file, the line and the problem; the
    # table is exactly as it was although earlier batches had been sent.
    code, err = _import(
        folder,
        target_db,
        capsys,
        "--if-exists",
        "append",
        "--batch-rows",
        "3",
        "--on-error",
        "stop",
    )
    assert code == 1
    assert "people.csv" in err and "line 8" in err and problem in err, err
    assert _table(target_db, "people") == [(100, "already here")]

    # Skip bad rows: every other row loads, the bad one is in the reject file with its reason.
    code, err = _import(folder, target_db, capsys, "--if-exists", "append", "--batch-rows", "3")
    assert code == 3, err
    assert "line 8" in err and problem in err, err
    assert [r[0] for r in _table(target_db, "people")] == [i for i in range(1, 13) if i != 7] + [
        100
    ]
    rejected = (tmp_path / "rejects" / "people.rejected.csv").read_text()
    assert rejected == f"id,name\n{bad}\n"


def test_duplicate_header_column(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", b"id,name,id\n1,Ann,1\n")
    code, err = _import(folder, target_db, capsys)
    assert code == 1
    assert "people.csv" in err and "id more than once" in err and "line 1" in err, err
    assert _table(target_db, "people") is None


def test_unknown_header_column_for_an_existing_table(tmp_path, target_db, capsys):
    _people(target_db)
    folder = _write(tmp_path, "people.csv", b"id,name,shoe_size\n1,Ann,38\n")
    code, err = _import(folder, target_db, capsys, "--if-exists", "append")
    assert code == 1
    assert "people" in err and "shoe_size" in err, err
    assert _table(target_db, "people") == [(100, "already here")]


def test_empty_file(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", b"")
    code, err = _import(folder, target_db, capsys)
    assert code == 1
    assert "people.csv is empty" in err, err
    assert _table(target_db, "people") is None


def test_header_only_file_loads_no_rows(tmp_path, target_db, capsys):
    _people(target_db)
    folder = _write(tmp_path, "people.csv", b"id,name\r\n")
    code, err = _import(folder, target_db, capsys, "--if-exists", "append", "-q")
    assert code == 0, err
    assert _table(target_db, "people") == [(100, "already here")]


@pytest.mark.parametrize("final_newline", [True, False])
def test_crlf_line_ends(tmp_path, target_db, capsys, final_newline):
    _people(target_db)
    text = 'id,name\r\n1,Ann\r\n2,"two\r\nlines"\r\n3,"quoted, comma"'
    folder = _write(tmp_path, "people.csv", (text + ("\r\n" if final_newline else "")).encode())
    code, err = _import(
        folder, target_db, capsys, "--if-exists", "append", "--batch-rows", "2", "-q"
    )
    assert code == 0, err
    assert _table(target_db, "people") == [
        (1, "Ann"),
        (2, "two\r\nlines"),
        (3, "quoted, comma"),
        (100, "already here"),
    ]


@pytest.mark.parametrize("chosen", [None, ";"], ids=["detected", "chosen"])
def test_semicolon_separated(tmp_path, target_db, capsys, chosen):
    _people(target_db)
    folder = _write(tmp_path, "people.csv", b'id;name\n1;Smith, John\n2;"a;b"\n')
    extra = ["--delimiter", chosen] if chosen else []
    code, err = _import(folder, target_db, capsys, "--if-exists", "append", "-q", *extra)
    assert code == 0, err
    assert _table(target_db, "people") == [(1, "Smith, John"), (2, "a;b"), (100, "already here")]


def test_a_bad_file_does_not_stop_the_good_ones(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "aaa.csv", b"id,name\n1,ok\n")
    _write(tmp_path, "bbb.csv", b"")
    _write(tmp_path, "ccc.csv", b"x\n1\n")
    code, err = _import(folder, target_db, capsys)
    assert code == 1
    assert _table(target_db, "aaa") == [(1, "ok")]
    assert _table(target_db, "bbb") is None
    assert _table(target_db, "ccc") == [(1,)]


def test_utf16_file_from_excel_is_explained(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", "id\tname\n1\tAnn\n".encode("utf-16"))
    code, err = _import(folder, target_db, capsys)
    assert code == 1
    assert "people.csv is saved as UTF-16" in err and "CSV UTF-8" in err, err
    assert _table(target_db, "people") is None


def test_tab_separated_with_the_delimiter_named(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", b"id\tname\n1\tSmith, John; Jr\n")
    code, err = _import(folder, target_db, capsys, "--delimiter", "\\t", "-q")
    assert code == 0, err
    assert _table(target_db, "people") == [(1, "Smith, John; Jr")]


def test_a_delimiter_that_is_not_one_character(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", b"id::name\n1::Ann\n")
    code, err = _import(folder, target_db, capsys, "--delimiter", "::")
    assert code == 2
    assert "--delimiter takes one character" in err, err
    assert _table(target_db, "people") is None


def test_zero_byte_in_a_row(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", b"id,name\n1,Ann\n2,Bo\x00b\n3,Cy\n")
    code, err = _import(folder, target_db, capsys)
    assert code == 3, err
    assert "row 2 (line 3) of people.csv" in err and "zero byte (NUL)" in err, err
    assert _table(target_db, "people") == [(1, "Ann"), (3, "Cy")]


def test_latin1_byte_beyond_the_first_megabyte(tmp_path, target_db, capsys):
    """Detection reads the first megabyte; a later bad byte is a rejected row with a reason
    and its line, never a half-loaded table."""
    good = "".join(f"{i},{'x' * 100}\n" for i in range(1, 12_001))  # about 1.3 MB
    data = ("id,name\n" + good).encode() + "12001,Noël\n".encode("latin-1")
    folder = _write(tmp_path, "people.csv", data)
    code, err = _import(folder, target_db, capsys, "--on-error", "stop")
    assert code == 1
    assert "line 12002" in err and "not valid UTF-8" in err and "Latin-1" in err, err
    assert _table(target_db, "people") is None
    code, err = _import(folder, target_db, capsys, "--encoding", "latin-1", "-q")
    assert code == 0, err
    assert target_db.rows("SELECT count(*), max(name) FILTER (WHERE id = '12001') FROM people")[
        0
    ] == (12_001, "Noël")


def test_blank_lines(tmp_path, target_db, capsys):
    """A blank line is no row in a file of several columns, and a NULL in a one-column file
    (COPY writes a one-column NULL as an empty line: found by the fuzz test)."""
    folder = _write(tmp_path, "pairs.csv", b"id,name\n1,a\n\n2,b\n\n")
    _write(tmp_path, "single.csv", b'x\n1\n\n""\n3\n')
    code, err = _import(folder, target_db, capsys, "-q")
    assert code == 0, err
    assert _table(target_db, "pairs") == [(1, "a"), (2, "b")]
    assert sorted(_table(target_db, "single"), key=str) == sorted(
        [("1",), (None,), ("",), ("3",)], key=str
    )


def test_old_mac_line_ends_are_explained_not_loaded_as_nothing(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", b"id,name\r1,Ann\r2,Bo\r")
    code, err = _import(folder, target_db, capsys)
    assert code == 1
    assert "people.csv ends its lines with a carriage return only" in err, err
    assert _table(target_db, "people") is None


def test_delimiter_inside_a_quoted_header_name_does_not_fool_the_guess(tmp_path, target_db, capsys):
    folder = _write(tmp_path, "people.csv", b'"last, first";age\n"Smith, John";42\n')
    code, err = _import(folder, target_db, capsys, "-q")
    assert code == 0, err
    assert _columns(target_db, "people") == ["last, first", "age"]
    assert _table(target_db, "people") == [("Smith, John", 42)]


@pytest.mark.parametrize("chosen", ["latin-1", "cp1252"])
@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_utf8_file_read_as_a_single_byte_encoding_is_refused(
    tmp_path, target_db, capsys, chosen, bom
):
    """One --encoding is for every file of the folder: a UTF-8 file among Latin-1 ones loaded
    'Café' as 'CafÃ©' and said 'done', even with UTF-8's byte-order mark."""
    data = ("\ufeff" if bom else "") + "id,name\n1,Ann\n2,Café\n"
    folder = _write(tmp_path, "people.csv", data.encode())
    code, err = _import(folder, target_db, capsys, "--encoding", chosen)
    assert code == 1, err
    assert "The file people.csv is UTF-8" in err, err
    assert ("byte-order mark" if bom else "line 3") in err, err
    assert "--tables people" in err, err
    assert _table(target_db, "people") is None


def test_windows_1252_file_read_as_latin1_is_refused(tmp_path, target_db, capsys):
    """Excel on Windows writes Windows-1252: read as Latin-1, its curly quotes and euro sign
    loaded as invisible control characters (U+0093, U+0080), and the table said 'done'."""
    data = "id,name\n1,Ann\n2,\u201cBest\u201d \u20ac5\n".encode("cp1252")
    folder = _write(tmp_path, "people.csv", data)
    code, err = _import(folder, target_db, capsys, "--encoding", "latin-1")
    assert code == 1, err
    assert "people.csv is not Latin-1: line 3" in err and "--encoding cp1252" in err, err
    assert _table(target_db, "people") is None

    code, err = _import(folder, target_db, capsys, "--encoding", "cp1252", "-q")
    assert code == 0, err
    assert _table(target_db, "people") == [(1, "Ann"), (2, "\u201cBest\u201d \u20ac5")]


def test_windows_1252_byte_beyond_the_first_megabyte_read_as_latin1(tmp_path, target_db, capsys):
    good = "".join(f"{i},Noël {'x' * 100}\n" for i in range(1, 12_001))  # about 1.3 MB
    data = ("id,name\n" + good + "12001,\u20ac5\n").encode("cp1252")
    folder = _write(tmp_path, "people.csv", data)
    code, err = _import(folder, target_db, capsys, "--encoding", "latin-1")
    assert code == 1, err
    assert "people.csv is not Latin-1: line 12002" in err, err
    assert _table(target_db, "people") is None


@pytest.mark.parametrize(
    "rows",
    [
        '1,Ann\n2,He said "hi" loudly\n3,Cy\n',  # loaded as 'He said hi loudly'
        '1,Ann\n2,12" ruler\n3,ok\n4,5" pipe\n5,end\n',  # rows 3 and 4 went into row 2's value
        '1,Ann\n2, "Bo"\n3,Cy\n',  # a space before the quote: loaded as ' Bo'
    ],
    ids=["quoted-word", "inch-marks", "space-before-quote"],
)
def test_a_quote_inside_an_unquoted_value_is_refused_not_dropped(tmp_path, target_db, capsys, rows):
    _people(target_db)
    folder = _write(tmp_path, "people.csv", ("id,name\n" + rows).encode())
    code, err = _import(folder, target_db, capsys, "--if-exists", "append", "--batch-rows", "2")
    assert code == 1, err
    assert "Line 3 of people.csv has a quote" in err and "double each quote" in err, err
    assert _table(target_db, "people") == [(100, "already here")]  # as it was


def test_values_wholly_in_quotes_keep_their_doubled_quotes(tmp_path, target_db, capsys):
    data = b'id,name\n1,"He said ""hi"""\n2,"12"" ruler, ""wood"""\n3,""\n4,\n'
    folder = _write(tmp_path, "people.csv", data)
    code, err = _import(folder, target_db, capsys, "-q")
    assert code == 0, err
    assert _table(target_db, "people") == [
        (1, 'He said "hi"'),
        (2, '12" ruler, "wood"'),
        (3, ""),
        (4, None),
    ]


def test_a_required_column_the_file_lacks_is_said_once_before_any_row(tmp_path, target_db, capsys):
    """The existing table requires 'name' (NOT NULL, no default) and the file has no such
    column: each row was refused alone as 'people.name is empty', though no row could load."""
    _people(target_db)
    folder = _write(tmp_path, "people.csv", b"id\n1\n2\n")
    code, err = _import(folder, target_db, capsys, "--if-exists", "append")
    assert code == 1, err
    assert "The existing table people requires a value in name" in err, err
    assert "is empty" not in err, err
    assert _table(target_db, "people") == [(100, "already here")]
