"""The source's other indexes on a real Citus cluster, as the non-superuser ``citus``: Citus
propagates CREATE INDEX to the shards of distributed and reference tables, in the table's own
transaction after its COPY; a unique index without the distribution column cannot be made on a
distributed table, so it is left out with a warning; one with it is made and enforced."""

from __future__ import annotations

import psycopg
import pytest
from test_citus import mappings_for

from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.options import MigrationOptions

SOURCE = [
    "SET ROLE django",
    "CREATE TABLE cx_kind (code text PRIMARY KEY, label text NOT NULL)",
    "CREATE INDEX cx_kind_lower_label ON cx_kind (lower(label))",
    "CREATE TABLE cx_item (shop bigint NOT NULL, id bigint NOT NULL, kind text NOT NULL "
    "REFERENCES cx_kind, title varchar(100) NOT NULL, tags text[], gone boolean NOT NULL, "
    "PRIMARY KEY (shop, id))",
    "CREATE INDEX cx_item_kind_1a2b3c ON cx_item (kind)",
    "CREATE INDEX cx_item_tags ON cx_item USING gin (tags)",
    "CREATE INDEX cx_item_live_title ON cx_item (title) WHERE NOT gone",
    "CREATE UNIQUE INDEX cx_item_one_title_per_shop ON cx_item (shop, lower(title)) WHERE NOT gone",
    "CREATE UNIQUE INDEX cx_item_one_live_title ON cx_item (lower(title)) WHERE NOT gone",
    "INSERT INTO cx_kind VALUES ('a', 'Alpha'), ('b', 'Beta')",
    "INSERT INTO cx_item SELECT s, i, 'a', 'item ' || s || '.' || i, '{x}', i % 2 = 0 "
    "FROM generate_series(1, 3) s, generate_series(1, 20) i",
]

INDEXES = """
SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
"""


@pytest.fixture
def source(source_db):
    with source_db.admin_connect() as conn:
        conn.autocommit = True
        for statement in SOURCE:
            conn.execute(statement)
    return source_db


def _shards_have_them_all(citus_db, table: str) -> None:
    """Each shard placement (on the workers) holds as many indexes as the table."""
    (count,) = citus_db.rows(
        "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [table]
    )[0]
    per_shard = citus_db.rows(
        "SELECT result FROM run_command_on_shards(%s, "
        "$$SELECT count(*) FROM pg_index WHERE indrelid = '%%s'::regclass$$)",
        [table],
    )
    assert per_shard and {int(r[0]) for r in per_shard} == {count}, (table, count, per_shard)


def test_distributed_and_reference_tables_get_the_indexes(citus_cluster, source, citus_db):
    mappings = mappings_for(
        source, {"cx_kind": "reference", "cx_item": "distributed:shop"}, ["cx_kind", "cx_item"]
    )
    events: list = []
    report = run_migration(
        source.endpoint, citus_db.endpoint, mappings, MigrationOptions(), events.append
    )
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    warnings = [e.text for e in events if isinstance(e, LogMessage) and e.level == "warning"]
    assert warnings == [
        "cx_item is distributed by shop, so the unique index cx_item_one_live_title of cx_item "
        "cannot be made: Citus can only enforce unique indexes that have the distribution "
        "column among their columns. It is left out of cx_item, and new rows are not checked "
        "against it."
    ]
    source_defs = dict(source.rows(INDEXES, ["cx_item"])) | dict(source.rows(INDEXES, ["cx_kind"]))
    made = dict(citus_db.rows(INDEXES, ["cx_item"])) | dict(citus_db.rows(INDEXES, ["cx_kind"]))
    assert set(made) == set(source_defs) - {"cx_item_one_live_title"}
    for name, definition in made.items():
        assert definition == source_defs[name], name
    _shards_have_them_all(citus_db, "cx_item")
    _shards_have_them_all(citus_db, "cx_kind")
    with citus_db.connect() as conn:
        conn.execute("INSERT INTO cx_item VALUES (1, 99, 'a', 'ITEM 1.2', NULL, false)")
        conn.commit()  # row 1.2 is gone (even ids are): no clash
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO cx_item VALUES (1, 100, 'a', 'Item 1.99x', NULL, false)")
            conn.execute("INSERT INTO cx_item VALUES (1, 101, 'a', 'item 1.99X', NULL, false)")
        conn.rollback()
