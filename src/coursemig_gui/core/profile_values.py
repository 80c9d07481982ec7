"""A saved migration's values checked against the types a run uses.

A hand-edited file (``"loaders": "3"``, ``"target_schema": 5``) is refused with a sentence when
it is opened; unchecked, it met the run as a crash (a traceback, or "a problem inside
CourseMig") after connecting, and sometimes after tables had been started.
"""

from __future__ import annotations

import json
import types
from dataclasses import fields
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from coursemig_gui.core.mapping import ColumnMapping, TableMapping
from coursemig_gui.core.options import MigrationOptions

_WHAT_GOES = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text in quotes",
}


def value_problem(data: dict) -> str | None:
    """The first value in profile ``data`` that a run could not use, said in words, or None.
    Shapes that are not even objects or lists are left to the loader's own refusal."""
    options = data.get("options")
    if isinstance(options, dict):
        if problem := _dataclass_problem(MigrationOptions, options, "options"):
            return problem
    tables = data.get("tables")
    for i, table in enumerate(tables if isinstance(tables, list) else []):
        if not isinstance(table, dict):
            continue
        where = f"tables[{i}]"
        if problem := _dataclass_problem(TableMapping, table, where, skip={"columns"}):
            return problem
        columns = table.get("columns")
        for j, column in enumerate(columns if isinstance(columns, list) else []):
            if isinstance(column, dict):
                if problem := _dataclass_problem(ColumnMapping, column, f"{where}.columns[{j}]"):
                    return problem
    return None


def _dataclass_problem(
    cls: type, values: dict, where: str, skip: frozenset[str] | set[str] = frozenset()
) -> str | None:
    hints = get_type_hints(cls)
    for f in fields(cls):
        if f.name in skip or f.name not in values:
            continue
        value = values[f.name]
        expected = _expected(hints[f.name], value)
        if expected is not None:
            shown = json.dumps(value, ensure_ascii=False)
            return f"{where}.{f.name} is {shown}, where {expected} goes"
    return None


def _expected(hint: Any, value: Any) -> str | None:
    """What belongs where ``value`` is (words for a person), or None when ``value`` fits."""
    if get_origin(hint) in (Union, types.UnionType):
        choices = [h for h in get_args(hint) if h is not type(None)]
        if value is None:
            return None
        said = [_expected(h, value) for h in choices]
        if any(s is None for s in said):
            return None
        return " or ".join(s for s in said if s) + " (or null)"
    if isinstance(hint, type) and issubclass(hint, Enum):
        names = [str(m.value) for m in hint]
        if isinstance(value, str) and value in names:
            return None
        return "one of " + ", ".join(f'"{n}"' for n in names)
    if hint is bool:
        return None if isinstance(value, bool) else _WHAT_GOES[bool]
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _WHAT_GOES[int]
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else _WHAT_GOES[float]
    if hint is str:
        return None if isinstance(value, str) else _WHAT_GOES[str]
    return None  # lists and the like: the loader's own checks
