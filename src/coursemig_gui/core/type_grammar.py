"""What a saved profile may put into ``CREATE TABLE``: a column type, and names that fit.

A profile is a file people share. Its column types are SQL text (they cannot be identifiers:
``numeric(10,2)``, ``timestamp with time zone``), so each must be a type and nothing more — never
a second column, a comment, a default or a generated expression. The allow-list grammar:

    type      = name [modifiers] { keyword [modifiers] } { "[" [digits] "]" }
    name      = part [ "." part ]          part = identifier | "quoted identifier"
    modifiers = "(" item { "," item } ")"     item = integer | identifier
    keyword   = precision | varying | with | without | time | zone | year | month | day
                | hour | minute | second | to

Names: PostgreSQL keeps 63 *bytes* of a name and silently cuts the rest, so a longer target
name is refused with a sentence; the foreign-key names CourseMig makes are built to fit.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME_BYTES = 63

_IDENT = r"[^\W\d][\w$]*"
_QUOTED = r'"(?:[^"\x00]|"")+"'
_PART = rf"(?:{_IDENT}|{_QUOTED})"
_MODIFIER = rf"(?:[+-]?\d+|{_IDENT})"  # PostGIS: geometry(Point,4326)
_MODIFIERS = rf"\(\s*{_MODIFIER}\s*(?:,\s*{_MODIFIER}\s*)*\)"
# the words PostgreSQL's multi-word type names are made of; nothing that starts a clause
_KEYWORDS = r"(?:precision|varying|with|without|time|zone|year|month|day|hour|minute|second|to)"
_TYPE = re.compile(
    rf"""\s* (?P<name>{_PART}(?:\s*\.\s*{_PART})?) (?:\s*{_MODIFIERS})?
    (?:\s+{_KEYWORDS}(?![\w$])(?:\s*{_MODIFIERS})?)*
    (?:\s*\[\s*\d*\s*\])* \s*""",
    re.IGNORECASE | re.VERBOSE,
)
_NAME_PARTS = re.compile(rf"{_QUOTED}|{_IDENT}")


def is_type(text: str) -> bool:
    """True when ``text`` is a column type by the grammar above, each name part within 63 bytes."""
    if not isinstance(text, str):
        return False
    m = _TYPE.fullmatch(text)
    if m is None:
        return False
    parts = _NAME_PARTS.findall(m.group("name"))
    return all(len(_unquote(p).encode("utf-8")) <= MAX_NAME_BYTES for p in parts)


def type_problem(column: str, text: str) -> str | None:
    """A sentence when ``text`` is not a type CourseMig will put into CREATE TABLE."""
    if is_type(text):
        return None
    shown = text if len(text) <= 60 else text[:57] + "…"
    return (
        f'The type "{shown}" for column {column} is not a column type CourseMig accepts: a type '
        'name, optionally with sizes and [] (for example varchar(200), numeric(10,2), "Status" '
        "or text[]). Choose the type again on the Columns page, or fix the saved migration."
    )


def name_problem(kind: str, name: str) -> str | None:
    """A sentence when a target name is longer than PostgreSQL keeps (63 bytes)."""
    size = len(name.encode("utf-8"))
    if size <= MAX_NAME_BYTES:
        return None
    extra = (
        ""
        if size == len(name)
        else (" (letters with accents and other non-English characters take 2 to 4 bytes each)")
    )
    return (
        f"The {kind} name {name} is {size} bytes long{extra}; PostgreSQL keeps only the first "
        f"{MAX_NAME_BYTES} bytes of a name, so it would be cut short. Choose a shorter name."
    )


def fitted_name(name: str) -> str:
    """A name CourseMig makes (a foreign key's), cut to 63 bytes at a character boundary with a
    short hash of the whole name, so two long names never end up the same."""
    data = name.encode("utf-8")
    if len(data) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha1(data).hexdigest()[:8]
    head = data[: MAX_NAME_BYTES - len(digest) - 1].decode("utf-8", "ignore")
    return f"{head}_{digest}"


def _unquote(part: str) -> str:
    return part[1:-1].replace('""', '"') if part.startswith('"') else part
