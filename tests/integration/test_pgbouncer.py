"""Through a real PgBouncer in transaction pooling, as Azure offers on port 6432: the Django
app's tables copied and verified, and an append whose keys are partly there already, each row
loaded once or rejected. In that mode every transaction may land on another server connection,
so a statement prepared or a setting made in one is gone in the next."""

from __future__ import annotations

import json

import pytest
from pgbouncer import start_pgbouncer
from psycopg import sql

from coursemig_gui.cli import main
from coursemig_gui.core.connection_settings import POOLER_NOTE
from coursemig_gui.demo.localserver import LocalServer


@pytest.fixture
def pooler(target_db):
    if not isinstance(target_db.server, LocalServer):
        pytest.skip("PgBouncer is started in front of a target the suite started itself")
    bouncer = start_pgbouncer(target_db.server, {target_db.user: target_db.password})
    yield bouncer
    bouncer.stop()


def _count(db, table: str) -> int:
    return db.rows(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))[0][0]


def _migrate(source_db, target_url: str, tmp_path, *args: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_url,
            "--rejects-dir",
            str(tmp_path / "rejects"),
            "--json-report",
            str(report),
            *args,
        ]
    )
    return code, json.loads(report.read_text())


def test_the_app_is_copied_and_verified_through_the_pooler(
    source_db, target_db, pooler, tmp_path, capsys
):
    code, report = _migrate(
        source_db,
        pooler.url(target_db.user, target_db.password, target_db.dbname),
        tmp_path,
        "--app",
        "courses",
        "--rename-reserved",
    )
    assert code == 0, report
    assert len(report["tables"]) >= 9
    for table in report["tables"]:
        assert table["status"] == "done", table
        assert table["verification"] == "match", table
        assert _count(target_db, table["target"]) == _count(source_db, table["source"])
    # the run went through the pooler, over TLS, not around it
    assert f"db={target_db.dbname} user={target_db.user} tls=TLS" in pooler.log()
    # and the user was told port 5432 is the better choice
    assert f"coursemig: warning: {POOLER_NOTE}" in capsys.readouterr().err


def test_an_append_through_the_pooler_loads_each_row_once(source_db, target_db, pooler, tmp_path):
    url = pooler.url(target_db.user, target_db.password, target_db.dbname)
    code, _ = _migrate(source_db, url, tmp_path, "--tables", "courses_program")
    assert code == 0
    kept = 5
    with target_db.admin_connect() as conn:
        conn.execute(
            "DELETE FROM program WHERE subject_code NOT IN "
            "(SELECT subject_code FROM program ORDER BY subject_code LIMIT %s)",
            [kept],
        )
    code, report = _migrate(
        source_db, url, tmp_path, "--tables", "courses_program", "--if-exists", "append"
    )
    (table,) = report["tables"]
    source_rows = _count(source_db, "courses_program")
    assert code == 3, report  # done, with rows rejected
    assert table["rows_rejected"] == kept
    assert table["rows_written"] == source_rows - kept
    assert table["verification"] == "match", table
    assert target_db.rows("SELECT count(*), count(DISTINCT subject_code) FROM program") == [
        (source_rows, source_rows)
    ]
