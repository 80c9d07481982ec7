"""A CHECK's expression is read token by token before it is run: its columns renamed where that
is safe, and anything else (a type or function of the column's name, a comment, a semicolon,
unbalanced parentheses, as a hand-edited manifest could hold) leaves it out."""

from __future__ import annotations

import pytest

from coursemig_gui.core.catalog import CheckConstraint, Column, ForeignKey, Table
from coursemig_gui.core.check_constraints import check_statements, map_expression
from coursemig_gui.core.ddl import foreign_key_statement
from coursemig_gui.core.export_package import _foreign_key
from coursemig_gui.core.mapping import ColumnMapping, TableMapping


def test_columns_are_renamed_and_nothing_else_changes():
    assert map_expression("(capacity >= 0)", {"capacity": "seats"}) == '("seats" >= 0)'
    assert (
        map_expression('(("End" > start) AND (length((name)::text) < 10))', {"End": "end_time"})
        == '(("end_time" > start) AND (length((name)::text) < 10))'
    )
    assert map_expression("(x = 'x')", {"x": "y"}) == "(\"y\" = 'x')"  # not inside a string


@pytest.mark.parametrize(
    ("expression", "renames"),
    [
        ("((date)::date > '2020-01-01'::date)", {"date": "day"}),  # also a type
        ("(lower(lower) = 'a')", {"lower": "low"}),  # also a function
        ("(zone IS NOT NULL)", {"zone": "z"}),  # a word of a type (timestamp with time zone)
        ("(f(zone => 1) > x)", {"zone": "z"}),  # a named argument
        # a field of EXTRACT: renamed, "m" would read as minute
        ("((month)::numeric = EXTRACT(month FROM at))", {"month": "m"}),
    ],
)
def test_a_rename_that_is_not_safe_is_refused(expression, renames):
    assert map_expression(expression, renames) is None


@pytest.mark.parametrize(
    "expression",
    [
        "(x > 0); DROP TABLE y",
        "(x > 0)) NOT VALID, ADD CHECK ((true)",
        "(x > 0 -- )",
        "(x > 0 /* */)",
        "(E'\\'' > x)",
        "($$a$$ = x)",
        "",
    ],
)
def test_text_that_is_not_plainly_an_expression_is_refused(expression):
    assert map_expression(expression, {}) is None


def _mapping(renames: dict[str, str], left_out: tuple[str, ...] = ()) -> TableMapping:
    columns = [
        ColumnMapping(name, renames.get(name, name), "integer", name not in left_out)
        for name in ("id", "low", "high")
    ]
    return TableMapping("t", "t", columns=columns)


def test_a_check_on_a_column_left_out_is_said_not_dropped():
    table = Table(
        "t",
        tuple(Column(n, "integer", False) for n in ("id", "low", "high")),
        checks=(
            CheckConstraint("ordered", "(low <= high)", ("low", "high")),
            CheckConstraint("late", "(high < 9)", ("high",), validated=False),
        ),
    )
    made, left_out = check_statements(_mapping({"high": "top"}, ("low",)), table)
    assert [m.statement.as_string(None) for m in made] == [
        'ALTER TABLE "public"."t" ADD CONSTRAINT "late" CHECK (("top" < 9)) NOT VALID'
    ]
    assert made[0].after_load
    assert left_out == [
        "The CHECK constraint ordered of t was left out of t: it reads the column low, which "
        "is not copied. t accepts rows the source refuses."
    ]


def test_a_foreign_key_keeps_its_actions_and_deferrability():
    child, parent = (
        _mapping({}),
        TableMapping("p", "p", columns=[ColumnMapping("id", "id", "integer")]),
    )
    fk = ForeignKey("f", ("low",), "p", ("id",), "CASCADE", "SET NULL", True, True)
    assert foreign_key_statement(child, parent, fk).as_string(None) == (
        'ALTER TABLE "public"."t" ADD CONSTRAINT "t_low_fk" FOREIGN KEY ("low") REFERENCES '
        '"public"."p" ("id") ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED'
    )


def test_a_manifest_foreign_key_action_must_be_one_of_sqls_five():
    # the action is written into the statement: a hand-edited manifest cannot add SQL there
    data = {"name": "f", "columns": ["a"], "references": "p", "ref_columns": ["id"]}
    assert _foreign_key(data).on_delete == "NO ACTION"  # an older manifest has none
    with pytest.raises(ValueError, match="is not an action"):
        _foreign_key(data | {"on_delete": "CASCADE NOT VALID"})
