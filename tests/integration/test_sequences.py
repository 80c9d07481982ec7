"""Identities and sequences keep their place: after the source handed out ids and deleted some,
the target's next plain INSERT gets the source's next id, on every route (direct, --via-csv,
export then import); GENERATED ALWAYS stays ALWAYS with its START and INCREMENT; an existing
table's sequence is never moved back; a sequence the source's user may not read falls back to
one past the largest id, and the log says so."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import sql

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.export_package import MANIFEST_NAME, SCHEMA_NAME
from coursemig_gui.core.mapping import IfExists, default_mappings
from coursemig_gui.core.options import MigrationOptions

TABLES = ["seq_serial", "seq_always", "seq_empty"]
# what the source's next plain INSERT gets, by table (the faults the audit found)
SOURCE_NEXT = {"seq_serial": 11, "seq_always": 1021, "seq_empty": 2}


def _make_source_tables(source_db) -> None:
    """As the source's own user: a serial with ids 6-10 deleted, an ALWAYS identity (START 1000
    INCREMENT 7) whose last id was deleted, and an empty serial table that had used 1."""
    with source_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE seq_serial (id serial PRIMARY KEY, v text)")
        conn.execute("INSERT INTO seq_serial (v) SELECT 'r' || g FROM generate_series(1, 10) g")
        conn.execute("DELETE FROM seq_serial WHERE id > 5")
        conn.execute(
            "CREATE TABLE seq_always (id integer GENERATED ALWAYS AS IDENTITY "
            "(START WITH 1000 INCREMENT BY 7) PRIMARY KEY, v text)"
        )
        conn.execute("INSERT INTO seq_always (v) VALUES ('a'), ('b'), ('c')")
        conn.execute("DELETE FROM seq_always WHERE id = 1014")
        conn.execute("CREATE TABLE seq_empty (id serial PRIMARY KEY, v text)")
        conn.execute("INSERT INTO seq_empty (v) VALUES ('gone')")
        conn.execute("DELETE FROM seq_empty")


def _next_ids(db, tables=TABLES) -> dict[str, int]:
    """Each table's next id as the application gets it (a plain INSERT, as the db's user),
    rolled back so the check changes nothing."""
    found = {}
    with db.connect() as conn:
        for table in tables:
            query = sql.SQL("INSERT INTO {} (v) VALUES ('new') RETURNING id").format(
                sql.Identifier(table)
            )
            found[table] = conn.execute(query).fetchone()[0]
        conn.rollback()
    return found


def _assert_target_keeps_the_sequences(target_db) -> None:
    assert _next_ids(target_db) == SOURCE_NEXT
    options = target_db.rows(
        "SELECT c.relname, a.attidentity, s.seqstart, s.seqincrement "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_sequence s ON s.seqrelid = pg_get_serial_sequence(c.relname, a.attname)::regclass "
        "WHERE c.relname = ANY(%s) AND a.attname = 'id' ORDER BY 1",
        [TABLES],
    )
    assert options == [
        ("seq_always", "a", 1000, 7),
        ("seq_empty", "d", 1, 1),
        ("seq_serial", "d", 1, 1),
    ]
    # the copied ids are the source's, and ALWAYS refuses an explicit id as the source does
    assert target_db.rows("SELECT id FROM seq_always ORDER BY id") == [(1000,), (1007,)]
    with target_db.connect() as conn, pytest.raises(psycopg.errors.GeneratedAlways):
        conn.execute("INSERT INTO seq_always (id, v) VALUES (5, 'x')")


def _migrate(source_db, target_db, *extra: str) -> None:
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            ",".join(TABLES),
            "-q",
            *extra,
        ]
    )
    assert code == 0


def test_direct_keeps_each_sequence_where_the_source_has_it(source_db, target_db):
    _make_source_tables(source_db)
    _migrate(source_db, target_db)
    _assert_target_keeps_the_sequences(target_db)
    # the source still hands out what it did: the run only read its sequences
    assert _next_ids(source_db) == SOURCE_NEXT


def test_via_csv_keeps_each_sequence_where_the_source_has_it(source_db, target_db, tmp_path):
    _make_source_tables(source_db)
    _migrate(source_db, target_db, "--via-csv", str(tmp_path / "csv"))
    _assert_target_keeps_the_sequences(target_db)


def test_export_then_import_keeps_each_sequence(source_db, target_db, tmp_path):
    _make_source_tables(source_db)
    folder = tmp_path / "export"
    code = main(
        ["export", "--source", source_db.url, "--tables", ",".join(TABLES), "--to", str(folder)]
    )
    assert code == 0
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    always = next(t for t in manifest["tables"] if t["name"] == "seq_always")
    column = always["columns"][0]
    assert column["identity"] == "always"
    assert column["sequence"] == {
        "name": "seq_always_id_seq",
        "type": "integer",
        "start": 1000,
        "increment": 7,
        "min_value": 1,
        "max_value": 2147483647,
        "cache": 1,
        "cycle": False,
        "last_value": 1014,
        "is_called": True,
    }
    schema_sql = (folder / SCHEMA_NAME).read_text()
    assert "GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 7)" in schema_sql
    assert 'GREATEST(1021::numeric, max("id")::numeric + 7) AS n FROM "public"."seq_always"' in (
        schema_sql
    )
    code = main(["import", str(folder), "--target", target_db.url, "-q"])
    assert code == 0
    _assert_target_keeps_the_sequences(target_db)


def test_schema_sql_with_psql_keeps_each_sequence(source_db, target_db, tmp_path):
    import shutil
    import subprocess

    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    _make_source_tables(source_db)
    folder = tmp_path / "export"
    assert (
        main(
            ["export", "--source", source_db.url, "--tables", ",".join(TABLES), "--to", str(folder)]
        )
        == 0
    )
    done = subprocess.run(
        [psql, target_db.url, "-v", "ON_ERROR_STOP=1", "-q", "-f", SCHEMA_NAME],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    _assert_target_keeps_the_sequences(target_db)


def test_schema_sql_leaves_a_used_up_sequence_used_up(source_db, target_db, tmp_path):
    """Every id of a sequence handed out: setval() refuses its next value, so schema.sql
    leaves it at its last one, used, and the next insert fails as on the source (psql stopped
    there, and the later tables were never loaded)."""
    import shutil
    import subprocess

    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    with psycopg.connect(source_db.url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE tiny (id smallint GENERATED BY DEFAULT AS IDENTITY (MAXVALUE 5) "
            "PRIMARY KEY, v text)"
        )
        conn.execute("INSERT INTO tiny (v) SELECT 'x' FROM generate_series(1, 5)")
    folder = tmp_path / "export"
    assert main(["export", "--source", source_db.url, "--tables", "tiny", "--to", str(folder),
                 "-q"]) == 0  # fmt: skip
    done = subprocess.run(
        [psql, target_db.url, "-v", "ON_ERROR_STOP=1", "-q", "-f", SCHEMA_NAME],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(target_db.url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM tiny").fetchone() == (5,)
        with pytest.raises(psycopg.errors.SequenceGeneratorLimitExceeded):
            conn.execute("INSERT INTO tiny (v) VALUES ('y')")


def test_an_older_manifest_without_sequences_imports_past_the_largest_id(
    source_db, target_db, tmp_path
):
    _make_source_tables(source_db)
    folder = tmp_path / "export"
    assert (
        main(
            ["export", "--source", source_db.url, "--tables", ",".join(TABLES), "--to", str(folder)]
        )
        == 0
    )
    path = folder / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    for table in manifest["tables"]:
        for column in table["columns"]:
            column.pop("sequence", None)
    path.write_text(json.dumps(manifest))
    assert main(["import", str(folder), "--target", target_db.url, "-q"]) == 0
    # today's behaviour before the manifest carried sequences: one past the largest id
    assert _next_ids(target_db) == {"seq_serial": 6, "seq_always": 1008, "seq_empty": 1}


def _run(source_db, target_db, if_exists: IfExists = IfExists.FAIL, tables=TABLES):
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, tables)
    for tm in mappings:
        tm.if_exists = if_exists
    logged: list[LogMessage] = []

    def on_event(event) -> None:
        if isinstance(event, LogMessage):
            logged.append(event)

    report = run_migration(
        source_db.endpoint, target_db.endpoint, mappings, MigrationOptions(), on_event
    )
    assert report.exit_code == 0, (report.headline(), [t.message for t in report.tables])
    return logged


@pytest.mark.parametrize("if_exists", [IfExists.APPEND, IfExists.REPLACE])
def test_an_existing_tables_sequence_ahead_is_not_moved_back(source_db, target_db, if_exists):
    _make_source_tables(source_db)
    with target_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE seq_serial (id serial PRIMARY KEY, v text)")
        conn.execute("SELECT setval('seq_serial_id_seq', 500)")
    _run(source_db, target_db, if_exists, ["seq_serial"])
    assert _next_ids(target_db, ["seq_serial"]) == {"seq_serial": 501}
    # and one behind the source is moved forward to the source's next id
    with target_db.connect(autocommit=True) as conn:
        conn.execute("DROP TABLE seq_serial")
        conn.execute("CREATE TABLE seq_serial (id serial PRIMARY KEY, v text)")
        conn.execute("SELECT setval('seq_serial_id_seq', 3)")
    _run(source_db, target_db, if_exists, ["seq_serial"])
    assert _next_ids(target_db, ["seq_serial"]) == {"seq_serial": 11}


def test_an_append_after_the_target_rows_never_collides(source_db, target_db):
    # the target's own rows reach past the source's next id: the next id is past them all
    _make_source_tables(source_db)
    with target_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE seq_serial (id serial PRIMARY KEY, v text)")
        conn.execute("INSERT INTO seq_serial (id, v) VALUES (40, 'mine')")
    _run(source_db, target_db, IfExists.APPEND, ["seq_serial"])
    assert _next_ids(target_db, ["seq_serial"]) == {"seq_serial": 41}


def test_a_sequence_the_user_may_not_read_falls_back_and_says_so(source_db, target_db):
    _make_source_tables(source_db)
    with source_db.admin_connect() as conn:
        # the tables are someone else's: django may read the rows but not the sequences
        for table in TABLES:
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO postgres").format(sql.Identifier(table)))
            conn.execute(sql.SQL("GRANT SELECT ON {} TO django").format(sql.Identifier(table)))
    logged = _run(source_db, target_db)
    warnings = [m.text for m in logged if m.level == "warning" and "may not read" in m.text]
    assert len(warnings) == 3, [m.text for m in logged]
    assert any(
        "sequence public.seq_serial_id_seq behind seq_serial.id" in w
        and "next id is only made to come after the largest copied id" in w
        for w in warnings
    ), warnings
    # one past the largest id, as before; the options (read from the catalog) are kept
    assert _next_ids(target_db) == {"seq_serial": 6, "seq_always": 1014, "seq_empty": 1}


def test_show_sql_names_the_identity_options(source_db, target_db, tmp_path, capsys):
    _make_source_tables(source_db)
    profile = tmp_path / "p.json"
    code = main(
        [
            "plan",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            ",".join(TABLES),
            "--output",
            str(profile),
            "--show-sql",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert '"id" integer GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 7)' in out
    assert '"id" integer GENERATED BY DEFAULT AS IDENTITY (START WITH 1 INCREMENT BY 1)' in out
