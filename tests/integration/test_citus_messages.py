"""Every Citus error ``core.citus`` expects, made to happen on the real cluster as the
non-superuser ``citus``: its SQLSTATE, message and detail are what ``CITUS_MESSAGES`` says, and
``citus_error_kind`` / ``explain_citus_error`` recognise it."""

from __future__ import annotations

import psycopg
import pytest

from coursemig_gui.core.citus.messages import CITUS_MESSAGES, citus_error_kind, explain_citus_error
from coursemig_gui.core.rejects import explain_row_error

# key -> (statements that succeed, then the one that fails, and the names in the message)
CASES: dict[str, tuple[list[str], dict[str, str]]] = {
    "constraint_without_distribution_column": (
        ["CREATE TABLE a (id int PRIMARY KEY, k int NOT NULL)",
         "SELECT create_distributed_table('a', 'k')"],
        {"table": "a"},
    ),
    "fk_from_reference_or_local_to_distributed": (
        ["CREATE TABLE d (id int PRIMARY KEY)", "SELECT create_distributed_table('d', 'id')",
         "CREATE TABLE r (id int PRIMARY KEY, d int REFERENCES d (id))",
         "SELECT create_reference_table('r')"],
        {},
    ),
    "fk_not_colocated": (
        ["CREATE TABLE d (id int PRIMARY KEY)",
         "SELECT create_distributed_table('d', 'id', colocate_with => 'none')",
         "CREATE TABLE c (id int PRIMARY KEY)",
         "SELECT create_distributed_table('c', 'id', colocate_with => 'none')",
         "ALTER TABLE c ADD FOREIGN KEY (id) REFERENCES d (id)"],
        {},
    ),
    "fk_to_local_table": (
        ["CREATE TABLE l (id int PRIMARY KEY)", "CREATE TABLE c (id int PRIMARY KEY)",
         "SELECT create_distributed_table('c', 'id')",
         "ALTER TABLE c ADD FOREIGN KEY (id) REFERENCES l (id)"],
        {"table": "l"},
    ),
    "fk_without_distribution_column": (
        ["CREATE TABLE d (id int PRIMARY KEY)", "SELECT create_distributed_table('d', 'id')",
         "CREATE TABLE c (id int PRIMARY KEY, p int)",
         "SELECT create_distributed_table('c', 'id', colocate_with => 'd')",
         "ALTER TABLE c ADD FOREIGN KEY (p) REFERENCES d (id)"],
        {},
    ),
    "fk_on_delete_action": (
        ["CREATE TABLE d (id int PRIMARY KEY)", "SELECT create_distributed_table('d', 'id')",
         "CREATE TABLE c (id int PRIMARY KEY)",
         "SELECT create_distributed_table('c', 'id', colocate_with => 'd')",
         "ALTER TABLE c ADD FOREIGN KEY (id) REFERENCES d (id) ON DELETE SET NULL"],
        {},
    ),
    "fk_on_update_action": (
        ["CREATE TABLE d (id int PRIMARY KEY)", "SELECT create_distributed_table('d', 'id')",
         "CREATE TABLE c (id int PRIMARY KEY)",
         "SELECT create_distributed_table('c', 'id', colocate_with => 'd')",
         "ALTER TABLE c ADD FOREIGN KEY (id) REFERENCES d (id) ON UPDATE CASCADE"],
        {},
    ),
    "null_distribution_column": (
        ["CREATE TABLE n (id int, v text)", "SELECT create_distributed_table('n', 'id')",
         "COPY n FROM STDIN"],
        {"table": "public.n"},
    ),
    "colocate_type_mismatch": (
        ["CREATE TABLE e (id int PRIMARY KEY)", "SELECT create_distributed_table('e', 'id')",
         "CREATE TABLE f (id text PRIMARY KEY)",
         "SELECT create_distributed_table('f', 'id', colocate_with => 'e')"],
        {"table": "e", "other": "f"},
    ),
    "check_violation_on_worker": (
        ["CREATE TABLE k (id int PRIMARY KEY, v text CONSTRAINT k_v_check CHECK (v <> 'y'))",
         "SELECT create_distributed_table('k', 'id')", "COPY k FROM STDIN"],
        {},
    ),
    "unique_violation_on_worker": (
        ["CREATE TABLE u (id int PRIMARY KEY, v text)",
         "SELECT create_distributed_table('u', 'id')", "INSERT INTO u VALUES (1, 'a')",
         "COPY u FROM STDIN"],
        {},
    ),
}  # fmt: skip


def _run(conn: psycopg.Connection, statement: str) -> None:
    if statement.startswith("COPY"):
        # a NULL distribution column, or a key already in the table, in the 2nd row
        with conn.cursor().copy(statement) as copy:
            copy.write_row((2, "x"))
            copy.write_row((None if " n " in statement else 1, "y"))
    else:
        conn.execute(statement)


def test_every_entry_is_made_to_happen():
    assert set(CASES) == set(CITUS_MESSAGES)


@pytest.mark.parametrize("key", sorted(CASES))
def test_citus_message_matches_the_real_error(citus_db, key):
    statements, names = CASES[key]
    expected = CITUS_MESSAGES[key]
    with citus_db.connect(autocommit=True) as conn:
        for statement in statements[:-1]:
            _run(conn, statement)
        with pytest.raises(psycopg.Error) as caught:
            _run(conn, statements[-1])
    exc = caught.value
    message = expected.message
    for name, value in names.items():
        message = message.replace("{" + name + "}", value)
    if key == "check_violation_on_worker":  # the shard's name (k_102049), the CHECK's own
        assert expected.pattern().fullmatch(exc.diag.message_primary)
        assert exc.diag.message_primary.startswith('new row for relation "k_')
        assert exc.diag.message_primary.endswith('" violates check constraint "k_v_check"')
        assert exc.diag.context is None  # no line number: the engine bisects the batch
        assert explain_row_error(exc, None, "k") == "The row breaks the rule k_v_check on k."
    elif key == "unique_violation_on_worker":  # the shard's constraint name, e.g. u_pkey_102049
        assert expected.pattern().fullmatch(exc.diag.message_primary)
        assert exc.diag.message_primary.startswith(
            'duplicate key value violates unique constraint "u_pkey_'
        )
        assert exc.diag.message_detail == "Key (id)=(1) already exists."
        assert exc.diag.context is None  # no line number: the engine bisects the batch
    else:
        assert exc.diag.message_primary == message
        detail = expected.detail
        for name, value in names.items():
            detail = detail.replace("{" + name + "}", value)
        assert (exc.diag.message_detail or "") == detail
    assert exc.sqlstate == expected.sqlstate
    assert citus_error_kind(exc) == key
    assert explain_citus_error(exc)


def test_citus_accepts_a_local_table_referring_to_a_distributed_one_but_not_its_deletes(citus_db):
    """Why the rules still refuse a local table that refers to a distributed one, although
    Citus 13.2 takes the foreign key without an error: it checks the local table's rows, but a
    DELETE on the distributed table does not see the local rows that refer to it."""
    with citus_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE d (id int PRIMARY KEY)")
        conn.execute("SELECT create_distributed_table('d', 'id')")
        conn.execute("INSERT INTO d VALUES (1)")
        conn.execute("CREATE TABLE l (id int PRIMARY KEY, d int REFERENCES d (id))")
        conn.execute("INSERT INTO l VALUES (1, 1)")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO l VALUES (2, 5)")
        conn.execute("DELETE FROM d WHERE id = 1")
        orphans = conn.execute("SELECT count(*) FROM l WHERE d NOT IN (SELECT id FROM d)")
        assert orphans.fetchone()[0] == 1
