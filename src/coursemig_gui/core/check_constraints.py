"""The source's CHECK constraints for a new target table: each expression as the source's server
wrote it, with the columns renamed where the user renamed them, or left out with a sentence
saying why.

An expression is SQL text, so it is read token by token first: anything this module does not
understand (comments, dollar quotes, escape strings, a semicolon, unbalanced parentheses) leaves
the CHECK out instead of running it. That also keeps a manifest's expression (``coursemig
import``) inside its ``CHECK (...)``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql

from coursemig_gui.core.catalog import CheckConstraint, Table
from coursemig_gui.core.mapping import TableMapping

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<string>'(?:[^']|'')*')
    | (?P<ident>"(?:[^"]|"")+")
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<cast>::)
    | (?P<open>\()
    | (?P<close>\))
    | (?P<op>[-+*/<>=~!@#%^&|`?]+)
    | (?P<punct>[,.:\[\]])
    """,
    re.X,
)

# Words of the types format_type writes in more than one word (``character varying``,
# ``timestamp with time zone``): a column of such a name is not told from the type safely.
_TYPE_WORDS = frozenset(
    {"character", "varying", "double", "precision", "with", "without", "time", "zone", "bit"}
)


@dataclass(frozen=True)
class CheckStatement:
    check: CheckConstraint
    statement: sql.Composed
    # NOT VALID on the source (rows from before it were never checked): added after the load,
    # NOT VALID too, so the copied rows are kept as the source keeps them
    after_load: bool


def _tokens(expression: str) -> list[tuple[str, str, int, int]] | None:
    """(kind, text, start, end) for each token, or None when the text is not plainly an
    expression."""
    found: list[tuple[str, str, int, int]] = []
    depth, at = 0, 0
    while at < len(expression):
        m = _TOKEN.match(expression, at)
        if m is None or m.end() == at:
            return None
        kind, text = m.lastgroup or "", m.group()
        at = m.end()
        if kind == "space":
            continue
        if kind == "op" and ("--" in text or "/*" in text or "*/" in text):
            return None  # a comment would hide the rest of the statement
        if (
            kind == "string"
            and m.start()
            and (expression[m.start() - 1].isalnum() or expression[m.start() - 1] == "_")
        ):
            return None  # E'…' (backslash escapes), U&'…', B'…': not written by the server
        depth += {"open": 1, "close": -1}.get(kind, 0)
        if depth < 0:
            return None
        found.append((kind, text, m.start(), m.end()))
    return found if depth == 0 and found else None


def _name(kind: str, text: str) -> str | None:
    if kind == "word":
        return text
    if kind == "ident":
        return text[1:-1].replace('""', '"')
    return None


def map_expression(expression: str, renames: dict[str, str]) -> str | None:
    """The expression with each column reference in ``renames`` given its new name, or None
    when it cannot be done safely (the name is also used as something else, say a type or a
    function, or the text is not plainly an expression)."""
    tokens = _tokens(expression)
    if tokens is None:
        return None
    if not renames:
        return expression
    result, done = [], 0
    for i, (kind, text, start, end) in enumerate(tokens):
        name = _name(kind, text)
        if name is None or name not in renames:
            continue
        before = tokens[i - 1][1] if i else ""
        after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        # EXTRACT(month FROM at): the first word is a field of the date, never a column
        extract_field = before == "(" and i >= 2 and tokens[i - 2][1].lower() == "extract"
        if (
            before in ("::", ".")
            or after in ("(", ".", "=>")
            or (kind == "word" and name in _TYPE_WORDS)
            or extract_field
        ):
            return None
        # the rest of the text as the server wrote it; only the name changes
        result += [expression[done:start], sql.Identifier(renames[name]).as_string(None)]
        done = end
    return "".join([*result, expression[done:]])


def check_statements(
    tm: TableMapping, table: Table, schema: str = "public"
) -> tuple[list[CheckStatement], list[str]]:
    """The ALTER TABLE … ADD CONSTRAINT … CHECK for each CHECK of the source table the new
    target table can have, and a sentence for each one left out."""
    mapped = {cm.source: cm.target for cm in tm.included_columns}
    made: list[CheckStatement] = []
    left_out: list[str] = []
    for check in table.checks:
        missing = [c for c in check.columns if c not in mapped]
        if missing:
            left_out.append(
                f"The CHECK constraint {check.name} of {table.name} was left out of "
                f"{tm.target}: it reads the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}, which {'are' if len(missing) > 1 else 'is'} not copied. "
                f"{tm.target} accepts rows the source refuses."
            )
            continue
        renames = {c: mapped[c] for c in check.columns if mapped[c] != c}
        expression = map_expression(check.expression, renames)
        if expression is None:
            left_out.append(
                f"The CHECK constraint {check.name} of {table.name} was left out of "
                f"{tm.target}: its expression ({check.expression}) could not be "
                + ("given the new column names" if renames else "read")
                + f" safely. {tm.target} accepts rows the source refuses; add the CHECK "
                "by hand if you need it."
            )
            continue
        statement = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})").format(
            sql.Identifier(schema, tm.target),
            sql.Identifier(check.name),
            # the source server's own text for its expression, read token by token above
            sql.SQL(expression),
        )
        if not check.validated:
            statement = sql.Composed([statement, sql.SQL(" NOT VALID")])
        made.append(CheckStatement(check, statement, after_load=not check.validated))
    return made, left_out
