"""What a shared profile may put into CREATE TABLE: fuzzed column types never reach the server
unless they parse as a type, and names longer than 63 bytes are refused with a sentence."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursemig_gui.core.catalog import Catalog, Column, Table
from coursemig_gui.core.ddl import create_table, foreign_keys
from coursemig_gui.core.mapping import ColumnMapping, TableMapping, validate
from coursemig_gui.core.profile import Profile
from coursemig_gui.core.type_grammar import MAX_NAME_BYTES, is_type

pytestmark = pytest.mark.bad_input

GOOD_TYPES = [
    "integer",
    "varchar(200)",
    "character varying(200)",
    "numeric(10,2)",
    "text[]",
    "timestamp(3) with time zone",
    "time without time zone",
    "double precision[][]",
    '"Status"',
    'public."Status"',
    '"a""b"',
    "interval day to second(3)",
    "bit varying(5)",
    '"char"',
    "int4 [3]",
    "geometry(Point,4326)",
]
BAD_TYPES = [
    "int, evil text",
    "int DEFAULT 1",
    "int -- comment",
    "int /* c */",
    "text; DROP TABLE x",
    "text GENERATED ALWAYS AS ('x') STORED",
    'text COLLATE "C"',
    "int)",
    "(int",
    '"unclosed',
    "int NOT NULL",
    "varchar(1+1)",
    "",
    " ",
    "int[",
    "text CHECK (true)",
    "int\n, b int",
    "int PRIMARY KEY",
    "'text'",
]
FRAGMENTS = st.sampled_from(
    [
        "int",
        "numeric",
        "text",
        "varchar",
        "character",
        "varying",
        "with",
        "time",
        "zone",
        "precision",
        "double",
        "(",
        ")",
        "10",
        "2",
        ",",
        "[",
        "]",
        "[]",
        '"',
        '""',
        "Status",
        ".",
        " ",
        "\n",
        "\t",
        "--",
        "/*",
        "*/",
        ";",
        "'",
        "DEFAULT",
        "GENERATED",
        "ALWAYS",
        "AS",
        "STORED",
        "COLLATE",
        "CHECK",
        "NOT",
        "NULL",
        "x",
        "$",
        "é",
        "-",
        "+",
        "1",
        "e",
        "::",
    ]
)
TYPE_TEXT = st.one_of(
    st.lists(FRAGMENTS, min_size=1, max_size=8).map("".join),
    st.text(max_size=20),
    st.sampled_from(GOOD_TYPES + BAD_TYPES),
)


def _table(type_text: str) -> tuple[TableMapping, Table]:
    table = Table(name="t", columns=(Column(name="c", type="text", not_null=False),))
    return TableMapping(
        "t", "fuzzed", [ColumnMapping("c", "c", type_text, source_type="text")]
    ), table


@pytest.mark.parametrize("text", GOOD_TYPES)
def test_types_people_use_parse(text):
    assert is_type(text)


@pytest.mark.parametrize("text", BAD_TYPES)
def test_anything_more_than_a_type_is_refused_before_any_sql(text):
    assert not is_type(text)
    tm, table = _table(text)
    with pytest.raises(ValueError):
        create_table(tm, table)
    problems = validate([tm], Catalog(schema="public", tables=(table,)))
    assert any("is not a column type CourseMig accepts" in p.message for p in problems)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=TYPE_TEXT)
def test_fuzzed_types_reach_the_server_only_as_one_plain_column(target_db, text):
    tm, table = _table(text)
    try:
        statement = create_table(tm, table)
    except ValueError:
        assert not is_type(text)
        return  # no SQL was made: nothing reached the server
    assert is_type(text)
    with target_db.connect() as conn:  # rolled back when the block ends
        try:
            conn.execute(statement)
        except psycopg.Error:
            return  # a type the server does not know (or not with those sizes): refused there
        rows = conn.execute(
            "SELECT a.attname, a.atthasdef, a.attgenerated, a.attidentity, a.attcollation "
            "FROM pg_attribute a WHERE a.attrelid = 'fuzzed'::regclass AND a.attnum > 0 "
            "AND NOT a.attisdropped"
        ).fetchall()
        assert [r[:4] for r in rows] == [("c", False, "", "")], (text, rows)
        assert conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'fuzzed'::regclass"
        ).fetchone() == (0,)
        conn.rollback()


def test_a_profile_with_an_injected_type_is_refused_with_a_sentence(tmp_path):
    tm, table = _table("text, evil text DEFAULT now()")
    path = Profile(name="shared", tables=[tm]).save(tmp_path / "shared.json")
    loaded = Profile.load(path)
    problems = validate(loaded.tables, Catalog(schema="public", tables=(table,)))
    errors = [p.message for p in problems if p.severity == "error"]
    assert len(errors) == 1 and "Choose the type again" in errors[0]


@pytest.mark.parametrize(
    ("name", "refused"),
    [("a" * 63, False), ("a" * 64, True), ("é" * 31, False), ("é" * 32, True), ("🦆" * 16, True)],
)
def test_target_names_are_counted_in_bytes(name, refused):
    table = Table(name="t", columns=(Column(name="c", type="text", not_null=False),))
    for tm in (
        TableMapping("t", name, [ColumnMapping("c", "c", "text")]),
        TableMapping("t", "t", [ColumnMapping("c", name, "text")]),
    ):
        messages = [p.message for p in validate([tm], Catalog(schema="public", tables=(table,)))]
        too_long = [m for m in messages if "bytes long" in m]
        assert bool(too_long) == refused, messages
        if refused and not name.isascii():
            assert "2 to 4 bytes each" in too_long[0]


def test_foreign_key_names_made_by_coursemig_fit_in_63_bytes_and_stay_apart():
    from coursemig_gui.core.catalog import ForeignKey

    columns = (Column("a_é", "int", False), Column("b_é", "int", False))
    child = Table(
        name="child",
        columns=columns,
        foreign_keys=(
            ForeignKey("f1", ("a_é",), "p", ("id",)),
            ForeignKey("f2", ("b_é",), "p", ("id",)),
        ),
    )
    long = "é" * 31  # 62 bytes: a name that fits, whose foreign-key names would not
    tm = TableMapping(
        "child", long, [ColumnMapping("a_é", "a_é", "int"), ColumnMapping("b_é", "b_é", "int")]
    )
    parent = TableMapping("p", "p", [ColumnMapping("id", "id", "int")])
    statements = [s.as_string(None) for s in foreign_keys(tm, child, [tm, parent])]
    names = [s.split("ADD CONSTRAINT ")[1].split(" FOREIGN")[0].strip('"') for s in statements]
    assert len(names) == 2 and names[0] != names[1]
    assert all(len(n.encode()) <= MAX_NAME_BYTES for n in names), names
