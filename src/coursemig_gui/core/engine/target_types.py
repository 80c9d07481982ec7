"""The source's list-of-values (enum) types a new target table keeps, made on the target where
it has no type of that name, inside the table's own transaction: a rollback takes them away
with the table."""

from __future__ import annotations

import psycopg

from coursemig_gui.core.catalog import EnumType, Table
from coursemig_gui.core.ddl import create_enum, enum_types
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.mapping import TableMapping

_TARGET_TYPE = """
SELECT t.typtype,
       ARRAY(SELECT l.enumlabel FROM pg_enum l WHERE l.enumtypid = t.oid ORDER BY l.enumsortorder)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = %s AND t.typname = %s
"""


class TypeClash(ValueError):
    """The target has a type of the enum's name that is not an enum (a table's row type, a
    domain): the table cannot use it. The message is a sentence for the user."""


def make_enum_types(
    tgt: psycopg.Connection, tm: TableMapping, table: Table, schema: str
) -> list[LogMessage]:
    """Make the enum types the new table needs and the target lacks; returns what to log about
    each type made, or found on the target with values missing."""
    said = []
    for enum in enum_types(tm, table):
        found = tgt.execute(_TARGET_TYPE, [schema, enum.name]).fetchone()
        if found is None:
            tgt.execute(create_enum(enum, schema))
            said.append(
                LogMessage(
                    f"{tm.target} needs the source's type {enum.name} "
                    f"({', '.join(enum.values)}): it is made on the target with the table."
                )
            )
        elif found[0] != "e":
            raise TypeClash(_clash(tm, table, enum))
        else:
            missing = [v for v in enum.values if v not in found[1]]
            if missing:
                said.append(
                    LogMessage(
                        f"The target's type {enum.name}, which {tm.target} uses, has no value "
                        f"{', '.join(missing)}, which the source's type has: rows holding "
                        f"{'it' if len(missing) == 1 else 'one of them'} are rejected, each "
                        "with its reason. Add the value to the type on the target to copy them.",
                        "warning",
                    )
                )
    return said


def _clash(tm: TableMapping, table: Table, enum: EnumType) -> str:
    columns = [
        cm.target
        for cm in tm.included_columns
        if (col := table.column(cm.source)) is not None and col.enum == enum
    ]
    return (
        f'The target database already has something named "{enum.name}" that is not a list '
        f"of values (a table, or a type of another kind), so the source's type {enum.name}, "
        f"which {'column' if len(columns) == 1 else 'columns'} {', '.join(columns)} of "
        f"{tm.target} {'uses' if len(columns) == 1 else 'use'}, cannot be made there. Choose "
        "text as its type on the Columns page (or in the saved migration), so its values "
        "are copied as text."
    )
