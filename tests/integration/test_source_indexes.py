"""A new target table gets the source's other indexes (those that back no key): Django's on each
ForeignKey column and its ``_like`` ones, and ``Meta.indexes``-style GIN, partial and expression
indexes, and partial / expression unique ones, each with the same definition (``pg_get_indexdef``
but for the names), a renamed column renamed in it; one the target cannot make, or that reads a
column left out, is left out with a sentence, and the table is still copied; an existing table
keeps the indexes it has. By the direct route, Show SQL, and an export package (schema.sql by
psql, and ``coursemig import``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import psycopg
import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.export_package import MANIFEST_NAME, SCHEMA_NAME
from coursemig_gui.core.mapping import IfExists, default_mappings
from coursemig_gui.core.options import MigrationOptions

# what Django makes for a ForeignKey (and its varchar _like index), Meta.indexes with GinIndex,
# Index(condition=…), Index(Lower("title")), and UniqueConstraint(Lower("title"),
# condition=Q(status="live")); plus ordering, a collation and INCLUDE
SOURCE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "SET ROLE django",
    "CREATE TABLE ix_owner (id bigint PRIMARY KEY)",
    "CREATE TABLE ix_doc (id bigint PRIMARY KEY, owner_id bigint NOT NULL REFERENCES ix_owner "
    "DEFERRABLE INITIALLY DEFERRED, title varchar(200) NOT NULL, status varchar(10) NOT NULL, "
    "tags text[], deleted_at timestamptz)",
    "CREATE INDEX ix_doc_owner_id_1a2b3c4d ON ix_doc (owner_id)",
    "CREATE INDEX ix_doc_title_5e6f7a8b_like ON ix_doc (title varchar_pattern_ops)",
    "CREATE INDEX ix_doc_tags_gin ON ix_doc USING gin (tags)",
    "CREATE INDEX ix_doc_live_title ON ix_doc (title) WHERE deleted_at IS NULL",
    "CREATE INDEX ix_doc_lower_title ON ix_doc (lower(title))",
    'CREATE INDEX ix_doc_owner_status ON ix_doc (owner_id DESC NULLS LAST, status COLLATE "C") '
    "INCLUDE (title)",
    "CREATE UNIQUE INDEX ix_doc_one_live_title ON ix_doc (lower(title)) WHERE status = 'live'",
    "INSERT INTO ix_owner VALUES (1), (2)",
    "INSERT INTO ix_doc VALUES (1, 1, 'Alpha', 'live', '{a,b}', NULL), "
    "(2, 1, 'alpha', 'draft', '{b}', now()), (3, 2, 'Beta', 'live', NULL, NULL)",
]
TABLES = ["ix_owner", "ix_doc"]
CARRIED = {
    "ix_doc_owner_id_1a2b3c4d",
    "ix_doc_title_5e6f7a8b_like",
    "ix_doc_tags_gin",
    "ix_doc_live_title",
    "ix_doc_lower_title",
    "ix_doc_owner_status",
    "ix_doc_one_live_title",
}
INDEXDEFS = """
SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k
      WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u'))
"""


@pytest.fixture
def source(source_db):
    with source_db.admin_connect() as conn:
        conn.autocommit = True
        for statement in SOURCE:
            conn.execute(statement)
    return source_db


def _indexes(db, table: str) -> dict[str, str]:
    return dict(db.rows(INDEXDEFS, [table]))


def _same_as_source(source, target, table: str, into: str, renames=()) -> dict[str, str]:
    """The target's definitions, each checked against the source's with the table (and the
    ``renames``, (old, new)) replaced."""
    before, after = _indexes(source, table), _indexes(target, into)
    for name, definition in after.items():
        expected = before[name].replace(f" ON public.{table} ", f" ON public.{into} ")
        for old, new in renames:
            expected = re.sub(rf"\b{old}\b", new, expected)
        assert definition == expected, name
    return after


def _run(source, target, tables=TABLES, change=None, **options):
    with open_session(source.endpoint) as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, tables)
    if change is not None:
        change(mappings)
    events: list = []
    report = run_migration(
        source.endpoint, target.endpoint, mappings, MigrationOptions(**options), events.append
    )
    return report, events


def _said(events, level: str = "warning") -> list[str]:
    return [e.text for e in events if isinstance(e, LogMessage) and e.level == level]


def _no_trgm(target_db) -> None:
    assert not target_db.rows("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")


def test_a_django_source_s_indexes_arrive_on_a_new_table(source_db, target_db):
    report, _ = _run(source_db, target_db, ["courses_program", "courses_course"])
    assert report.exit_code == 0, [t.message for t in report.tables]
    after = _same_as_source(source_db, target_db, "courses_course", "course")
    # the ForeignKey's index, and the _like ones of the varchar key, slug and program_id
    assert len(after) == 4 and any(d.endswith("USING btree (program_id)") for d in after.values())


def test_meta_indexes_arrive_with_the_same_definitions(source, target_db):
    report, events = _run(source, target_db)
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert {t.verification for t in report.tables} == {"match"}
    assert set(_same_as_source(source, target_db, "ix_doc", "ix_doc")) == CARRIED
    assert not _said(events)


def test_a_partial_unique_index_is_carried_and_enforced(source, target_db):
    assert _run(source, target_db)[0].exit_code == 0
    with target_db.connect() as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO ix_doc VALUES (4, 2, 'BETA', 'live', NULL, NULL)")
        conn.rollback()
        conn.execute("INSERT INTO ix_doc VALUES (4, 2, 'BETA', 'draft', NULL, NULL)")
        conn.commit()


def test_a_unique_index_with_include_columns_is_unique_on_its_keys_alone(source, target_db):
    """Not a UNIQUE over its INCLUDE columns too, which would let through what the source
    refuses."""
    with source.admin_connect() as conn:
        conn.execute(
            "CREATE UNIQUE INDEX ix_doc_title_per_owner ON ix_doc (owner_id, title) "
            "INCLUDE (status)"
        )
    assert _run(source, target_db)[0].exit_code == 0
    assert set(_same_as_source(source, target_db, "ix_doc", "ix_doc")) == CARRIED | {
        "ix_doc_title_per_owner"
    }
    assert (
        target_db.rows(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'u' "
            "AND conrelid = 'ix_doc'::regclass"
        )
        == []
    )
    with target_db.connect() as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO ix_doc VALUES (9, 1, 'Alpha', 'draft', NULL, NULL)")


def _rename(mappings, renames: dict[str, str]) -> None:
    for cm in next(m for m in mappings if m.source == "ix_doc").columns:
        cm.target = renames.get(cm.source, cm.target)


def test_a_renamed_column_is_renamed_in_its_index_and_its_condition(source, target_db):
    renames = {"title": "heading", "deleted_at": "removed_at", "status": "state"}
    report, events = _run(source, target_db, change=lambda m: _rename(m, renames))
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert not _said(events)
    after = _same_as_source(source, target_db, "ix_doc", "ix_doc", renames.items())
    assert after["ix_doc_live_title"].endswith("(heading) WHERE (removed_at IS NULL)")
    assert "WHERE ((state)::text = 'live'::text)" in after["ix_doc_one_live_title"]


def _leave_out(mappings, column: str) -> None:
    for cm in next(m for m in mappings if m.source == "ix_doc").columns:
        if cm.source == column:
            cm.include = False


def test_an_index_reading_a_column_left_out_is_left_out_and_said(source, target_db):
    report, events = _run(source, target_db, change=lambda m: _leave_out(m, "deleted_at"))
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert _said(events) == [
        "The index ix_doc_live_title of ix_doc was left out of ix_doc: it reads the column "
        "deleted_at, which is not copied. Queries that use it are slower on ix_doc; add it by "
        "hand if you need it."
    ]
    assert set(_indexes(target_db, "ix_doc")) == CARRIED - {"ix_doc_live_title"}


def test_an_index_the_target_cannot_make_is_left_out_and_the_table_is_copied(source, target_db):
    with source.admin_connect() as conn:
        conn.execute("CREATE INDEX ix_doc_title_trgm ON ix_doc USING gin (title gin_trgm_ops)")
    _no_trgm(target_db)
    report, events = _run(source, target_db)
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert {t.verification for t in report.tables} == {"match"}
    assert _said(events) == [
        "The index ix_doc_title_trgm of ix_doc could not be made on ix_doc (operator class "
        '"gin_trgm_ops" does not exist for access method "gin"), so it was left out. Queries '
        "that use it are slower on ix_doc; add it by hand if you need it."
    ]
    assert set(_indexes(target_db, "ix_doc")) == CARRIED
    assert target_db.rows("SELECT count(*) FROM ix_doc") == [(3,)]


def test_the_target_names_an_index_whose_name_is_taken(source, target_db):
    with target_db.connect() as conn:
        conn.execute("CREATE TABLE ix_doc_tags_gin (x int)")
        conn.commit()
    report, events = _run(source, target_db)
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert (
        "The name ix_doc_tags_gin is already taken in the schema public of the target, so the "
        "index ix_doc_tags_gin of ix_doc was made on ix_doc with a name the target chose."
    ) in _said(events, "info")
    after = _indexes(target_db, "ix_doc")
    assert set(after) == CARRIED - {"ix_doc_tags_gin"} | {"ix_doc_tags_idx"}
    assert after["ix_doc_tags_idx"].endswith("USING gin (tags)")


def test_rows_that_break_a_unique_index_on_the_target_are_found_row_by_row(
    source, target_db, tmp_path
):
    """The source enforces its unique index, so the loaded rows can only break the target's
    when they changed on the way; here the target's function of the same name says something
    else. The load is tried again with the index in place, and the rows it refuses are named."""
    with source.admin_connect() as conn:
        conn.execute(
            "CREATE FUNCTION public.shelf(text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT $1'"
        )
        conn.execute("CREATE UNIQUE INDEX ix_doc_shelf ON ix_doc (shelf(status)) WHERE id > 1")
    with target_db.connect() as conn:
        conn.execute(
            "CREATE FUNCTION public.shelf(text) RETURNS text IMMUTABLE LANGUAGE sql "
            "AS 'SELECT ''one shelf'''"
        )
        conn.commit()
    report, events = _run(source, target_db, rejects_dir=str(tmp_path))
    doc = next(t for t in report.tables if t.target == "ix_doc")
    assert report.exit_code == 3 and doc.rows_written == 2 and doc.rows_rejected == 1
    assert any(
        w.startswith("ix_doc has rows that break the unique index ix_doc_shelf of ix_doc (")
        and w.endswith("Loading ix_doc again, checking each row, to find them.")
        for w in _said(events)
    ), _said(events)
    assert "ix_doc_shelf" in _indexes(target_db, "ix_doc")


def test_an_existing_table_keeps_the_indexes_it_has(source, target_db):
    """In the same run a new table gets the source's indexes, and an existing one keeps its."""
    with source.admin_connect() as conn:
        conn.execute("CREATE INDEX ix_owner_id_desc ON ix_owner (id DESC)")
    with target_db.connect() as conn:
        conn.execute(
            "CREATE TABLE ix_doc (id bigint PRIMARY KEY, owner_id bigint NOT NULL, title "
            "varchar(200) NOT NULL, status varchar(10) NOT NULL, tags text[], deleted_at "
            "timestamptz)"
        )
        conn.execute("CREATE INDEX its_own ON ix_doc (status)")
        conn.commit()

    def append(mappings):
        next(tm for tm in mappings if tm.source == "ix_doc").if_exists = IfExists.APPEND

    report, _ = _run(source, target_db, change=append)
    assert report.exit_code == 0, [t.message for t in report.tables]
    assert set(_indexes(target_db, "ix_doc")) == {"its_own"}
    assert set(_same_as_source(source, target_db, "ix_owner", "ix_owner")) == {"ix_owner_id_desc"}


def test_show_sql_says_the_indexes(source, target_db, tmp_path, capsys):
    argv = ["plan", "--source", source.url, "--target", target_db.url, "--tables"]
    code = main([*argv, ",".join(TABLES), "--output", str(tmp_path / "p.json"), "--show-sql"])
    out = capsys.readouterr().out
    assert code == 0, out
    created, _, indexes = out.partition("-- the source's other indexes")
    assert (
        'CREATE UNIQUE INDEX "ix_doc_one_live_title" ON "public"."ix_doc" USING "btree" '
        "((lower((title)::text))) WHERE ((status)::text = 'live'::text);"
    ) in indexes
    assert "CREATE INDEX" not in created
    assert indexes.index("ix_doc_tags_gin") < indexes.index("-- after every table is loaded")


def test_an_export_package_makes_the_indexes_by_psql_and_by_import(
    source, target_db, tmp_path, capsys
):
    folder = tmp_path / "export"
    argv = ["export", "--source", source.url, "--tables", ",".join(TABLES), "--to", str(folder)]
    assert main([*argv, "-q"]) == 0
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    doc = next(t for t in manifest["tables"] if t["name"] == "ix_doc")
    assert {i["name"] for i in doc["indexes"]} == CARRIED
    live = next(i for i in doc["indexes"] if i["name"] == "ix_doc_one_live_title")
    assert live == {
        "name": "ix_doc_one_live_title",
        "method": "btree",
        "unique": True,
        "keys": [{"expression": "lower((title)::text)"}],
        "include": [],
        "predicate": "((status)::text = 'live'::text)",
        "columns": ["status", "title"],
    }
    schema_sql = (folder / SCHEMA_NAME).read_text()
    copies = schema_sql.index("\\copy")
    assert copies < schema_sql.index("CREATE INDEX") < schema_sql.index("FOREIGN KEY")

    # psql, from the package's folder
    if shutil.which("psql") is None:
        pytest.fail("psql is needed for this test (apt-get install postgresql-client)")
    done = subprocess.run(
        ["psql", target_db.url, "-v", "ON_ERROR_STOP=1", "-q", "-f", SCHEMA_NAME],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert set(_same_as_source(source, target_db, "ix_doc", "ix_doc")) == CARRIED

    # coursemig import, into another database's schema (the package's names are free there)
    with target_db.connect() as conn:
        conn.execute("CREATE SCHEMA imported")
        conn.commit()
    report = tmp_path / "import.json"
    argv = ["import", str(folder), "--target", target_db.url, "--target-schema", "imported"]
    assert main([*argv, "--json-report", str(report), "-q"]) == 0, capsys.readouterr().err
    assert {t["verification"] for t in json.loads(report.read_text())["tables"]} == {"match"}
    after = dict(target_db.rows(INDEXDEFS.replace("%s::regclass", "'imported.ix_doc'::regclass")))
    assert set(after) == CARRIED
    before = _indexes(source, "ix_doc")
    for name, definition in after.items():
        assert definition == before[name].replace(" ON public.ix_doc ", " ON imported.ix_doc ")
