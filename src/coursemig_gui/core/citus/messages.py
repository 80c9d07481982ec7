"""Citus's own error texts (as its source writes them, so a run against a real cluster can
check them) and the plain sentence for each."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from coursemig_gui.core.citus.placement import (
    distribution_target_column,
)
from coursemig_gui.core.mapping import TableMapping

# -- Citus's own error texts ----------------------------------------------------------------------


@dataclass(frozen=True)
class CitusMessage:
    """An error Citus raises, as its source writes it; ``{name}`` marks a substituted part."""

    sqlstate: str
    message: str
    detail: str = ""

    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"\{\w+\}", self.message)
        return re.compile(".+?".join(re.escape(p) for p in parts), re.S)


# Each one made to happen on a real Citus 13.2 cluster and matched there, SQLSTATE, message and
# detail (tests/integration/test_citus_messages.py). Matched on the words of the primary
# message: Citus's messages are not translated, and its SQLSTATEs are not always specific.
CITUS_MESSAGES: dict[str, CitusMessage] = {
    # create_distributed_table on a table whose PRIMARY KEY / UNIQUE lacks the column
    "constraint_without_distribution_column": CitusMessage(
        "0A000",
        'cannot create constraint on "{table}"',
        "Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do "
        "not include the partition column (with an equality operator if EXCLUDE).",
    ),
    "fk_from_reference_or_local_to_distributed": CitusMessage(
        "0A000",
        "cannot create foreign key constraint since foreign keys from reference tables and "
        "local tables to distributed tables are not supported",
        "Reference tables and local tables can only have foreign keys to reference tables and "
        "local tables",
    ),
    "fk_not_colocated": CitusMessage(
        "0A000",
        "cannot create foreign key constraint since relations are not colocated or not "
        "referencing a reference table",
        "A distributed table can only have foreign keys if it is referencing another colocated "
        "hash distributed table or a reference table",
    ),
    # a distributed table's foreign key to a plain (local) table on the coordinator
    "fk_to_local_table": CitusMessage(
        "42P16",
        'referenced table "{table}" must be a distributed table or a reference table',
        "To enforce foreign keys, the referencing and referenced rows need to be stored on the "
        "same node.",
    ),
    "fk_without_distribution_column": CitusMessage(
        "0A000",
        "cannot create foreign key constraint",
        "Foreign keys are supported in two cases, either in between two colocated tables "
        "including partition column in the same ordinal in the both tables or from distributed "
        "to reference tables",
    ),
    # a foreign key between co-located distributed tables (so it includes the distribution
    # column) with an action Citus cannot run on the shards: same message as the one above,
    # told apart by the detail
    "fk_on_delete_action": CitusMessage(
        "0A000",
        "cannot create foreign key constraint",
        "SET NULL or SET DEFAULT is not supported in ON DELETE operation when distribution key "
        "is included in the foreign key constraint",
    ),
    "fk_on_update_action": CitusMessage(
        "0A000",
        "cannot create foreign key constraint",
        "SET NULL, SET DEFAULT or CASCADE is not supported in ON UPDATE operation when "
        "distribution key included in the foreign constraint.",
    ),
    # COPY of a row with NULL in the distribution column (multi_copy.c)
    "null_distribution_column": CitusMessage(
        "22004", "the partition column of table {table} cannot be NULL"
    ),
    "colocate_type_mismatch": CitusMessage(
        "XX000",
        "cannot colocate tables {table} and {other}",
        "Distribution column types don't match for {table} and {other}.",
    ),
    # unique violations from a worker (distributed and reference tables alike) come back as
    # XX000 with the shard's constraint name ("dt_pkey_102012"), the key in the detail and no
    # COPY context line; rejects.is_row_error and
    # rejects.strip_shard_suffix rely on this shape.
    "unique_violation_on_worker": CitusMessage(
        "XX000", 'duplicate key value violates unique constraint "{constraint}"'
    ),
    # a row breaking a CHECK comes back the same way: XX000, the shard's name ("d_102011"),
    # the CHECK's own name, no COPY line; rejects.is_row_error relies on this shape too
    "check_violation_on_worker": CitusMessage(
        "XX000", 'new row for relation "{table}" violates check constraint "{constraint}"'
    ),
}

# Most specific first: "cannot create foreign key constraint" alone is a prefix of the others.
_MATCH_ORDER = (
    "fk_on_delete_action",
    "fk_on_update_action",
    "fk_from_reference_or_local_to_distributed",
    "fk_not_colocated",
    "fk_to_local_table",
    "constraint_without_distribution_column",
    "null_distribution_column",
    "colocate_type_mismatch",
    "unique_violation_on_worker",
    "check_violation_on_worker",
    "fk_without_distribution_column",
)


# entries whose message another entry shares: they match only with their own detail
_TOLD_BY_DETAIL = frozenset({"fk_on_delete_action", "fk_on_update_action"})


def citus_error_kind(exc: BaseException | str) -> str | None:
    """Which ``CITUS_MESSAGES`` entry an error is, or None."""
    detail = ""
    if isinstance(exc, psycopg.Error) and exc.diag and exc.diag.message_primary:
        text = exc.diag.message_primary
        detail = (exc.diag.message_detail or "").strip()
    else:
        text = str(exc)
    for key in _MATCH_ORDER:
        entry = CITUS_MESSAGES[key]
        if key in _TOLD_BY_DETAIL and detail != entry.detail:
            continue
        if entry.pattern().fullmatch(text.strip()):
            return key
    return None


def explain_citus_error(exc: BaseException, tm: TableMapping | None = None) -> str | None:
    """A plain sentence for an error Citus raised (None when it is not one of Citus's)."""
    kind = citus_error_kind(exc)
    t = tm.target if tm else "the table"
    column = distribution_target_column(tm) if tm else None
    by = f" ({column})" if column else ""
    sentences = {
        "constraint_without_distribution_column": (
            f"Citus refused to distribute {t}: every primary key and unique constraint of a "
            f"distributed table must include its distribution column{by}."
        ),
        "fk_from_reference_or_local_to_distributed": (
            "Citus refused a foreign key: a reference or local table cannot refer to a "
            "distributed table."
        ),
        "fk_not_colocated": (
            "Citus refused a foreign key: a distributed table can refer only to reference tables "
            "and to distributed tables co-located with it."
        ),
        "fk_to_local_table": (
            "Citus refused a foreign key: a distributed table can refer only to reference tables "
            "and to distributed tables co-located with it, not to a local table."
        ),
        "fk_without_distribution_column": (
            "Citus refused a foreign key: between distributed tables it must join their "
            "distribution columns."
        ),
        "fk_on_delete_action": (
            "Citus refused a foreign key: between distributed tables it cannot run ON DELETE "
            "SET NULL or SET DEFAULT."
        ),
        "fk_on_update_action": (
            "Citus refused a foreign key: between distributed tables it cannot run ON UPDATE "
            "CASCADE, SET NULL or SET DEFAULT."
        ),
        "null_distribution_column": (
            f"A row has no value in the distribution column{by} of {t}; Citus needs one in every row."
        ),
        "colocate_type_mismatch": (
            f"Citus cannot co-locate {t} with the chosen table: their distribution columns have "
            "different types."
        ),
        "unique_violation_on_worker": "A row repeats a key that is already in the table.",
        "check_violation_on_worker": "A row breaks one of the table's CHECK constraints.",
    }
    return sentences.get(kind) if kind else None
