"""The source's other indexes as CREATE INDEX for a new table (names quoted, renamed columns
renamed in keys, expressions and conditions, or the index left out with a sentence), as the
manifest writes and reads them, and every sentence about them in docs/when-things-go-wrong.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursemig_gui.core.catalog import Column, Table
from coursemig_gui.core.engine.target_indexes import (
    named_by_target,
    not_made,
    rows_break_sentence,
)
from coursemig_gui.core.index_statements import index_statements
from coursemig_gui.core.mapping import ColumnMapping, Placement, TableMapping
from coursemig_gui.core.source_indexes import IndexKey, SourceIndex, index_from_json, index_json

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "when-things-go-wrong.md").read_text(
    encoding="utf-8"
)

LIVE = SourceIndex(
    "one_live_title",
    "btree",
    True,
    (IndexKey(expression="lower((title)::text)"),),
    ("owner_id",),
    "((status)::text = 'live'::text)",
    True,
    ("owner_id", "status", "title"),
)
ORDERED = SourceIndex(
    "doc_owner_status",
    "btree",
    False,
    (
        IndexKey(column="owner_id", descending=True, nulls_first=False),
        IndexKey(column="title", opclass="varchar_pattern_ops", collation="C"),
    ),
    columns=("owner_id", "title"),
)


def _table(*indexes: SourceIndex) -> Table:
    columns = tuple(
        Column(name, typ, True)
        for name, typ in (
            ("id", "bigint"),
            ("owner_id", "bigint"),
            ("title", "character varying(200)"),
            ("status", "character varying(10)"),
        )
    )
    return Table("src_tbl", columns, primary_key=("id",), indexes=indexes)


def _mapping(renames: dict[str, str] | None = None, left_out: tuple[str, ...] = ()) -> TableMapping:
    renames = renames or {}
    return TableMapping(
        "src_tbl",
        "tgt_tbl",
        [
            ColumnMapping(c, renames.get(c, c), "bigint", include=c not in left_out)
            for c in ("id", "owner_id", "title", "status")
        ],
    )


def test_an_index_is_written_with_everything_the_source_has():
    made, left_out = index_statements(_mapping(), _table(LIVE, ORDERED), "app")
    assert left_out == []
    assert [m.statement.as_string(None) for m in made] == [
        'CREATE UNIQUE INDEX "one_live_title" ON "app"."tgt_tbl" USING "btree" '
        '((lower((title)::text))) INCLUDE ("owner_id") NULLS NOT DISTINCT '
        "WHERE ((status)::text = 'live'::text)",
        'CREATE INDEX "doc_owner_status" ON "app"."tgt_tbl" USING "btree" ("owner_id" DESC '
        'NULLS LAST, "title" COLLATE "C" "varchar_pattern_ops")',
    ]
    assert made[1].unnamed.as_string(None).startswith('CREATE INDEX ON "app"."tgt_tbl" USING')


def test_renamed_columns_are_renamed_in_keys_expressions_and_conditions():
    renames = {"title": "heading", "status": "state", "owner_id": "owner"}
    made, _ = index_statements(_mapping(renames), _table(LIVE, ORDERED))
    assert [m.statement.as_string(None) for m in made] == [
        'CREATE UNIQUE INDEX "one_live_title" ON "public"."tgt_tbl" USING "btree" '
        '((lower(("heading")::text))) INCLUDE ("owner") NULLS NOT DISTINCT '
        "WHERE ((\"state\")::text = 'live'::text)",
        'CREATE INDEX "doc_owner_status" ON "public"."tgt_tbl" USING "btree" ("owner" DESC '
        'NULLS LAST, "heading" COLLATE "C" "varchar_pattern_ops")',
    ]


def test_an_index_reading_a_column_left_out_is_left_out_with_a_sentence():
    made, left_out = index_statements(_mapping(left_out=("status",)), _table(LIVE, ORDERED))
    assert [m.index.name for m in made] == ["doc_owner_status"]
    assert left_out == [
        "The index one_live_title of src_tbl was left out of tgt_tbl: it reads the column "
        "status, which is not copied. tgt_tbl accepts rows the source refuses; add it by hand "
        "if you need it."
    ]


def test_an_expression_that_cannot_be_given_the_new_names_leaves_the_index_out():
    odd = SourceIndex(
        "odd", "btree", False, (IndexKey(expression="lower(lower)"),), columns=("lower",)
    )
    table = Table("src_tbl", (Column("lower", "text", False),), indexes=(odd,))
    tm = TableMapping("src_tbl", "tgt_tbl", [ColumnMapping("lower", "low", "text")])
    assert index_statements(tm, table) == (
        [],
        [
            "The index odd of src_tbl was left out of tgt_tbl: its expression (lower(lower)) "
            "could not be given the new column names safely. Queries that use it are slower on "
            "tgt_tbl; add it by hand if you need it."
        ],
    )
    hidden = SourceIndex(
        "hidden",
        "btree",
        False,
        (IndexKey(column="lower"),),
        predicate="true); DROP TABLE x; --",
        columns=("lower",),
    )
    table = Table("src_tbl", (Column("lower", "text", False),), indexes=(hidden,))
    tm = TableMapping("src_tbl", "tgt_tbl", [ColumnMapping("lower", "lower", "text")])
    made, left_out = index_statements(tm, table)
    assert made == [] and "its condition (WHERE true); DROP TABLE x; --) could not" in left_out[0]


def test_citus_leaves_out_a_unique_index_without_the_distribution_column():
    tm = _mapping()
    tm.placement, tm.distribution_column = Placement.DISTRIBUTED, "id"
    made, left_out = index_statements(tm, _table(LIVE, ORDERED))
    assert [m.index.name for m in made] == ["doc_owner_status"]
    assert left_out == [
        "tgt_tbl is distributed by id, so the unique index one_live_title of src_tbl cannot be "
        "made: Citus can only enforce unique indexes that have the distribution column among "
        "their columns. It is left out of tgt_tbl, and new rows are not checked against it."
    ]


def test_the_manifest_s_indexes_round_trip():
    for index in (LIVE, ORDERED):
        assert index_from_json(index_json(index)) == index
    assert index_json(ORDERED)["keys"][0] == {
        "column": "owner_id",
        "descending": True,
        "nulls_first": False,
    }
    older = {"name": "x", "method": "gin", "unique": False, "keys": [{"column": "tags"}]}
    assert index_from_json(older).columns == ("tags",)
    with pytest.raises(ValueError):
        index_from_json({**older, "keys": [{"column": "a", "expression": "b"}]})


def _italics(sentence: str, column: str = "status") -> str:
    for name, word in (
        ("one_live_title", "*name*"),
        ("doc_owner_status", "*name*"),
        ("src_tbl", "*s*"),
        ("tgt_tbl", "*t*"),
        (f" {column},", " *c*,"),
        ("schema app", "schema *p*"),
    ):
        sentence = sentence.replace(name, word)
    return sentence


def test_the_sentences_about_indexes_are_in_the_docs():
    _, unique = index_statements(_mapping(left_out=("status",)), _table(LIVE))
    assert _italics(unique[0]).split(" *t* accepts")[0] in DOCS
    _, plain = index_statements(_mapping(left_out=("title",)), _table(ORDERED))
    assert _italics(plain[0], "title") in DOCS
    tm = _mapping()
    tm.placement, tm.distribution_column = Placement.DISTRIBUTED, "id"
    citus = _italics(index_statements(tm, _table(LIVE))[1][0], "id")
    assert citus.split(" It is left out")[0] in DOCS
    made, _ = index_statements(_mapping(), _table(ORDERED))
    assert _italics(named_by_target(made[0], "src_tbl", "tgt_tbl", "app")) in DOCS
    assert _italics(not_made(made[0], "src_tbl", "tgt_tbl", "…")).split(" Queries")[0] in DOCS
    broken = rows_break_sentence(made[0], "src_tbl", "tgt_tbl", "…")
    assert _italics(broken) + " Loading *t* again, checking each row, to find them." in DOCS
