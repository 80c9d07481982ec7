"""The servers' check also takes on rejected rows, rows there before and changed types, and
stays exactly as strict: a rejected row's hash, computed by the source from the row's own bytes,
equals the hash the source gives that row in its table (every sample table, both COPY formats);
a value changed in the target during an append is never called a match."""

from __future__ import annotations

import json

import psycopg
import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine import verify
from coursemig_gui.core.engine.copy_format import BINARY_HEADER, BINARY_TRAILER
from coursemig_gui.core.engine.server_checksum import rows_sums, server_checksum
from coursemig_gui.core.engine.session import open_session


@pytest.fixture
def servers_decide(monkeypatch) -> None:
    """The client-side check (reading every row back) must not be needed."""

    def client_check(*args, **kw):
        raise AssertionError("the servers' check handed over to the client-side check")

    monkeypatch.setattr(verify, "verify_copy", client_check)


def _copy_rows(conn: psycopg.Connection, table: str, columns: list[str], fmt: str) -> list:
    statement = psycopg.sql.SQL("COPY {} ({}) TO STDOUT (FORMAT {})").format(
        psycopg.sql.Identifier(table),
        psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, columns)),
        psycopg.sql.SQL(fmt),
    )
    rows = []
    with conn.cursor().copy(statement) as copy:
        for chunk in copy:
            row = bytes(chunk)
            if fmt == "binary":
                row = row.removeprefix(BINARY_HEADER)
                if row == BINARY_TRAILER or not row:
                    continue
            rows.append(row)
    return rows


@pytest.mark.parametrize("fmt", ["binary", "csv"])
def test_rows_hashed_from_their_bytes_match_the_table(source_db, fmt):
    """Times, numbers, booleans, NULLs and empty strings, quotes, commas and newlines in
    values, non-ASCII: each sample table's rows, hashed from COPY's bytes, sum to the table's
    own sum."""
    with open_session(source_db.endpoint) as src:
        src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        tables = [t for t in read_catalog(src).tables if t.name.startswith("courses_")]
        assert len(tables) >= 9
        for table in tables:
            columns = [c.name for c in table.columns]
            oids = [c.type_oid for c in table.columns]
            rows = _copy_rows(src, table.name, columns, fmt)
            whole = server_checksum(src, psycopg.sql.Identifier(table.name), columns)
            assert rows_sums(src, rows, fmt, oids) == whole, table.name
        # a row changed by one byte no longer hashes the same
        course = next(t for t in tables if t.name == "courses_course")
        columns = [c.name for c in course.columns]
        oids = [c.type_oid for c in course.columns]
        (row,) = _copy_rows(src, "courses_course", columns, fmt)[:1]
        changed = row.replace(b"a", b"b", 1) if b"a" in row else row.replace(b"1", b"2", 1)
        assert rows_sums(src, [changed], fmt, oids) != rows_sums(src, [row], fmt, oids)


def _migrate(source_db, target_db, tmp_path, *extra: str) -> dict:
    report = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            "courses_course",
            "--no-foreign-keys",
            "-q",
            "--rejects-dir",
            str(tmp_path / "rejects"),
            "--json-report",
            str(report),
            *extra,
        ]
    )
    data = json.loads(report.read_text())
    data["exit_code"] = code
    return data["tables"][0] | {"exit_code": code}


def test_append_with_rejected_rows_is_verified_by_content(
    source_db, target_db, tmp_path, servers_decide
):
    """An existing keyed table holding 3 of the source's keys: those 3 rows are rejected, and
    the other rows' content is still compared (binary COPY)."""
    first = _migrate(source_db, target_db, tmp_path, "--no-verify")
    assert first["exit_code"] == 0
    with target_db.admin_connect() as conn:
        conn.execute("DELETE FROM course WHERE pid NOT IN (SELECT pid FROM course LIMIT 3)")
    table = _migrate(source_db, target_db, tmp_path, "--if-exists", "append")
    assert table["exit_code"] == 3
    assert table["rows_rejected"] == 3
    assert table["verification"] == "match", table["verification_detail"]
    assert "added to the 3 already there" in table["verification_detail"]


def test_a_value_changed_during_an_append_is_never_a_match(source_db, target_db, tmp_path):
    """A trigger in the target alters one arriving row: with rows there before, the added rows
    cannot be read back one by one, so the report says the servers' sums disagree and that
    only the counts were checked."""
    assert _migrate(source_db, target_db, tmp_path, "--no-verify")["exit_code"] == 0
    (last,) = source_db.rows("SELECT max(pid) FROM courses_course")[0]
    with target_db.admin_connect() as conn:
        conn.execute("DELETE FROM course WHERE pid NOT IN (SELECT min(pid) FROM course)")
        conn.execute(
            psycopg.sql.SQL(
                "CREATE FUNCTION spoil() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.pid = {} THEN NEW.title := NEW.title || '!'; END IF; "
                "RETURN NEW; END $$"
            ).format(psycopg.sql.Literal(last))
        )
        conn.execute(
            "CREATE TRIGGER spoil BEFORE INSERT ON course FOR EACH ROW EXECUTE FUNCTION spoil()"
        )
    try:
        table = _migrate(source_db, target_db, tmp_path, "--if-exists", "append")
    finally:
        with target_db.admin_connect() as conn:
            conn.execute("DROP TRIGGER spoil ON course")
            conn.execute("DROP FUNCTION spoil()")
    assert table["verification"] != "match"
    assert "checksums of the added rows did not agree" in table["verification_detail"]


def test_a_narrowed_column_with_rejected_rows_is_verified_on_the_servers(
    source_db, target_db, tmp_path, monkeypatch, servers_decide
):
    """A new table whose ``title`` is too narrow for its longest values (types differ, so
    CSV): the rows that do not fit are rejected, and the rest are compared read back as the
    source's type, on the servers. (Not ``credit``: its longest value ends in spaces, which
    PostgreSQL cuts off without an error, and verification rightly calls that a mismatch.)"""
    plan = tmp_path / "plan.json"
    args = ["--source", source_db.url, "--target", target_db.url, "--tables", "courses_course"]
    assert main(["plan", *args, "--no-foreign-keys", "-o", str(plan)]) == 0
    longest = source_db.rows("SELECT max(length(title)) FROM courses_course")[0][0]
    data = json.loads(plan.read_text())
    for column in data["tables"][0]["columns"]:
        if column["source"] == "title":
            column["target_type"] = f"character varying({longest - 1})"
    plan.write_text(json.dumps(data))
    too_long, cut_silently = source_db.rows(
        "SELECT count(*) FILTER (WHERE length(rtrim(title)) = %(n)s), "
        "count(*) FILTER (WHERE length(title) = %(n)s AND length(rtrim(title)) < %(n)s) "
        "FROM courses_course",
        {"n": longest},
    )[0]
    assert cut_silently == 0
    report = tmp_path / "report.json"
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    code = main(["run", str(plan), "-q", "--json-report", str(report)])
    table = json.loads(report.read_text())["tables"][0]
    assert code == 3, json.dumps(table)[:1500]
    assert table["rows_rejected"] == too_long > 0
    assert table["verification"] == "match", table["verification_detail"]
    assert "read back as the source's types" in table["verification_detail"]


def test_a_source_without_the_hash_function_is_verified_on_the_client(
    source_db, target_db, tmp_path, monkeypatch
):
    """``hashtextextended`` revoked on the source (a hosted server may restrict functions): the
    sum started beside the load fails, so does the second try, and the client-side check
    reads both sides and decides."""
    calls = []
    client_check = verify.verify_copy
    monkeypatch.setattr(verify, "verify_copy", lambda *a, **k: calls.append(client_check(*a, **k)))
    revoke = "REVOKE EXECUTE ON FUNCTION hashtextextended(text, bigint) FROM PUBLIC"
    with source_db.admin_connect() as conn:
        conn.execute(revoke)
    try:
        table = _migrate(source_db, target_db, tmp_path)
    finally:
        with source_db.admin_connect() as conn:
            conn.execute(revoke.replace("REVOKE", "GRANT").replace("FROM", "TO"))
    assert table["exit_code"] == 0
    assert len(calls) == 1  # the client-side check decided
    assert table["verification"] == "match", table["verification_detail"]
    assert table["verification_detail"] == f"{table['rows_written']} rows; content checksum matches"
