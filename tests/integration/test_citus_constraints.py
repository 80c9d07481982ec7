"""The source's constraints on a real Citus cluster: Citus takes DEFERRABLE INITIALLY DEFERRED
foreign keys, ON DELETE CASCADE, CHECKs and UNIQUE NULLS NOT DISTINCT on reference and
distributed tables (tried on Citus 13.2); between distributed tables it refuses ON UPDATE
CASCADE / SET NULL / SET DEFAULT and ON DELETE SET NULL / SET DEFAULT, and the foreign key is
then added without that action, said in the log."""

from __future__ import annotations

import psycopg
import pytest
from test_citus import mappings_for

from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.events import LogMessage, RejectedRow
from coursemig_gui.core.options import MigrationOptions

SOURCE = [
    "SET ROLE django",
    "CREATE TABLE cz_parent (id bigint PRIMARY KEY)",
    "CREATE TABLE cz_order (id bigint PRIMARY KEY, parent_id bigint, "
    "qty integer NOT NULL CONSTRAINT cz_order_qty_check CHECK (qty >= 0))",
    "ALTER TABLE cz_order ADD FOREIGN KEY (parent_id) REFERENCES cz_parent (id) "
    "DEFERRABLE INITIALLY DEFERRED",
    "CREATE TABLE cz_line (order_id bigint NOT NULL, n integer CONSTRAINT cz_line_n_check "
    "CHECK (n > 0), note text, UNIQUE NULLS NOT DISTINCT (order_id, note))",
    "ALTER TABLE cz_line ADD FOREIGN KEY (order_id) REFERENCES cz_order (id) "
    "ON DELETE CASCADE ON UPDATE CASCADE",
    "INSERT INTO cz_parent VALUES (1), (2)",
    "INSERT INTO cz_order VALUES (1, 1, 3), (2, 2, 0)",
    "INSERT INTO cz_line VALUES (1, 1, NULL), (1, 2, 'b'), (2, 1, NULL)",
]


@pytest.fixture
def source(source_db):
    with source_db.admin_connect() as conn:
        conn.autocommit = True
        for statement in SOURCE:
            conn.execute(statement)
    return source_db


def test_citus_keeps_what_it_can_and_says_what_it_cannot(citus_cluster, source, citus_db):
    mappings = mappings_for(
        source,
        {
            "cz_parent": "reference",
            "cz_order": "distributed:id",
            "cz_line": "distributed:order_id",
        },
        ["cz_parent", "cz_order", "cz_line"],
    )
    events: list = []
    report = run_migration(
        source.endpoint, citus_db.endpoint, mappings, MigrationOptions(), events.append
    )
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    warnings = [e.text for e in events if isinstance(e, LogMessage) and e.level == "warning"]
    assert warnings == [
        "Citus does not run ON UPDATE CASCADE on a foreign key between distributed tables, so "
        "the foreign key of cz_line to cz_order is added without it: changing the key of a row "
        "of cz_order that rows of cz_line refer to is refused, as the source would not do."
    ]
    fks = dict(
        citus_db.rows(
            "SELECT conrelid::regclass::text, (condeferrable, condeferred, confdeltype, "
            "confupdtype)::text FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid::regclass::text LIKE 'cz_%'"
        )
    )
    assert fks == {"cz_order": "(t,t,a,a)", "cz_line": "(f,f,c,a)"}
    checks = citus_db.rows(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype IN ('c', 'u') AND conrelid::regclass::text LIKE 'cz_%' ORDER BY 1"
    )
    assert ("cz_order_qty_check", "CHECK ((qty >= 0))") in checks
    assert ("cz_line_n_check", "CHECK ((n > 0))") in checks
    assert any(d == "UNIQUE NULLS NOT DISTINCT (order_id, note)" for _, d in checks), checks

    with citus_db.connect() as conn:
        # an order saved before its parent, in one transaction (the FK is deferred)
        conn.execute("INSERT INTO cz_order VALUES (3, 5, 1)")
        conn.execute("INSERT INTO cz_parent VALUES (5)")
        conn.commit()
        conn.execute("DELETE FROM cz_order WHERE id = 1")
        conn.commit()
        assert conn.execute("SELECT count(*) FROM cz_line WHERE order_id = 1").fetchone() == (0,)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO cz_order VALUES (4, 1, -1)")
        conn.rollback()
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO cz_line VALUES (2, 5, NULL)")


def test_a_row_breaking_a_check_on_a_distributed_table_is_rejected_by_itself(
    citus_cluster, source, citus_db, tmp_path
):
    """A Citus worker says XX000 for a broken CHECK, with the shard's names and no line: the
    row is still found and rejected by itself, named by the CHECK's own name."""
    with source.admin_connect() as conn:
        # a source row breaking a CHECK marked validated (as a restored dump can leave it)
        conn.execute("ALTER TABLE cz_order ADD CONSTRAINT few CHECK (qty < 3) NOT VALID")
        conn.execute("UPDATE pg_constraint SET convalidated = true WHERE conname = 'few'")
    mappings = mappings_for(
        source, {"cz_parent": "reference", "cz_order": "distributed:id"}, ["cz_parent", "cz_order"]
    )
    events: list = []
    report = run_migration(
        source.endpoint,
        citus_db.endpoint,
        mappings,
        MigrationOptions(rejects_dir=str(tmp_path)),
        events.append,
    )
    order = next(t for t in report.tables if t.target == "cz_order")
    assert order.rows_rejected == 1 and order.rows_written == 1, order.message
    rejected = [e for e in events if isinstance(e, RejectedRow)]
    assert [(r.row_number, r.reason) for r in rejected] == [
        (1, "The row breaks the rule few on cz_order.")
    ]
    assert citus_db.rows("SELECT id FROM cz_order") == [(2,)]
