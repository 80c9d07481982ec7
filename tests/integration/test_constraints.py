"""The source's constraints reach the target as the source has them: Django's DEFERRABLE
INITIALLY DEFERRED foreign keys, ON DELETE actions, CHECKs (PositiveIntegerField's and a
Meta.constraints one, a NOT VALID one) and UNIQUE NULLS NOT DISTINCT, by the direct route, by
export and import, and with a column renamed. Each is read from the target's pg_constraint, and
made to act: a child saved before its parent in one transaction, a cascading delete, a refused
negative value."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg
import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage
from coursemig_gui.core.export_package import MANIFEST_NAME, SCHEMA_NAME
from coursemig_gui.core.mapping import default_mappings
from coursemig_gui.core.options import MigrationOptions

TABLES = "cm_parent,cm_child"

# what Django writes for a ForeignKey, a PositiveIntegerField and a Meta CheckConstraint, plus a
# hand-made ON DELETE CASCADE, a NOT VALID CHECK and a UNIQUE NULLS NOT DISTINCT
SOURCE = """
CREATE TABLE cm_parent (id bigint PRIMARY KEY, code text NOT NULL);
CREATE TABLE cm_child (
    id bigint PRIMARY KEY,
    parent_id bigint,
    owner_id bigint NOT NULL,
    quantity integer NOT NULL CONSTRAINT cm_child_quantity_check CHECK ("quantity" >= 0),
    low integer,
    high integer,
    email text,
    CONSTRAINT low_not_above_high CHECK (low <= high),
    CONSTRAINT cm_child_email_uniq UNIQUE NULLS NOT DISTINCT (email)
);
ALTER TABLE cm_child ADD CONSTRAINT cm_child_parent_id_fk FOREIGN KEY (parent_id)
    REFERENCES cm_parent (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE cm_child ADD CONSTRAINT cm_child_owner_id_fk FOREIGN KEY (owner_id)
    REFERENCES cm_parent (id) ON DELETE CASCADE;
INSERT INTO cm_parent VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO cm_child VALUES
    (1, 1, 1, 5, 1, 2, 'one@example.org'),
    (2, 2, 2, 0, NULL, NULL, NULL),
    (3, 1, 3, 7, 10, 500, 'three@example.org');
-- added after row 3, which breaks it: the source never checked its older rows
ALTER TABLE cm_child ADD CONSTRAINT high_below_1000_new CHECK (high < 100) NOT VALID;
"""


@pytest.fixture
def source(source_db):
    with source_db.admin_connect() as conn:
        conn.autocommit = True  # each its own: an ALTER waits for no deferred FK check
        conn.execute("SET ROLE django")  # the app's tables are the app's role's
        for statement in SOURCE.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    return source_db


def _constraints(db, table: str) -> dict[str, tuple]:
    rows = db.rows(
        "SELECT conname, contype, pg_get_constraintdef(oid), condeferrable, condeferred, "
        "confdeltype, convalidated FROM pg_constraint WHERE conrelid = %s::regclass",
        [table],
    )
    return {r[0]: r[1:] for r in rows}


def _by_columns(constraints: dict[str, tuple], kind: str, words: str) -> tuple:
    found = [c for c in constraints.values() if c[0] == kind and words in c[1]]
    assert len(found) == 1, (kind, words, constraints)
    return found[0]


def _assert_constraints(db, low: str = "low") -> None:
    child = _constraints(db, "cm_child")
    # Django's: the app may save a child before its parent inside a transaction
    assert _by_columns(child, "f", "(parent_id)")[2:5] == (True, True, "a")
    assert _by_columns(child, "f", "(owner_id)")[2:5] == (False, False, "c")
    assert "ON DELETE CASCADE" in _by_columns(child, "f", "(owner_id)")[1]
    assert child["cm_child_quantity_check"][:2] == ("c", "CHECK ((quantity >= 0))")
    assert child["low_not_above_high"][:2] == ("c", f"CHECK (({low} <= high))")
    assert child["low_not_above_high"][5] is True
    # NOT VALID on the source, so on the target too: row 3 is kept as the source keeps it
    assert child["high_below_1000_new"][1:] == ("CHECK ((high < 100)) NOT VALID",) + (
        False,
        False,
        " ",
        False,
    )
    assert _by_columns(child, "u", "NULLS NOT DISTINCT")[1] == "UNIQUE NULLS NOT DISTINCT (email)"


def _assert_behaviour(db, low: str = "low") -> None:
    with db.connect() as conn:
        # a child saved before its parent, in one transaction, as Django may do
        conn.execute(
            f"INSERT INTO cm_child (id, parent_id, owner_id, quantity, {low}, email) "
            "VALUES (10, 4, 1, 1, 0, 'ten@example.org')"
        )
        conn.execute("INSERT INTO cm_parent VALUES (4, 'd')")
        conn.commit()
        # one row with no email (row 2 has none), not two
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO cm_child (id, owner_id, quantity) VALUES (13, 1, 1)")
        conn.rollback()
        # a parent's delete takes its owned children with it
        conn.execute("DELETE FROM cm_parent WHERE id = 2")
        conn.commit()
        assert conn.execute("SELECT count(*) FROM cm_child WHERE id = 2").fetchone() == (0,)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO cm_child (id, parent_id, owner_id, quantity, email) "
                "VALUES (11, 1, 1, -1, 'x')"
            )
        conn.rollback()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                f"INSERT INTO cm_child (id, owner_id, quantity, {low}, high, email) "
                "VALUES (12, 1, 1, 5, 4, 'y')"
            )
        conn.rollback()


def _migrate(source_db, target_db, tmp_path: Path, *extra: str) -> tuple[int, dict, str]:
    report = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--tables",
            TABLES,
            "--rejects-dir",
            str(tmp_path / "rejects"),
            "--json-report",
            str(report),
            *extra,
        ]
    )
    return code, json.loads(report.read_text()), ""


def test_direct_route_keeps_the_constraints(source, target_db, tmp_path):
    code, report, _ = _migrate(source, target_db, tmp_path, "-q")
    assert code == 0, report
    assert {t["verification"] for t in report["tables"]} == {"match"}
    assert target_db.rows("SELECT count(*) FROM cm_child") == [(3,)]
    _assert_constraints(target_db)
    _assert_behaviour(target_db)


def test_show_sql_says_the_constraints(source, target_db, tmp_path, capsys):
    code = main(
        [
            "plan",
            "--source",
            source.url,
            "--target",
            target_db.url,
            "--tables",
            TABLES,
            "--output",
            str(tmp_path / "p.json"),
            "--show-sql",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ON DELETE CASCADE" in out and "DEFERRABLE INITIALLY DEFERRED" in out
    assert 'ADD CONSTRAINT "cm_child_quantity_check" CHECK ((quantity >= 0))' in out
    assert "UNIQUE NULLS NOT DISTINCT" in out
    created, _, after = out.partition("-- after every table is loaded")
    assert "high_below_1000_new" in after and "NOT VALID" in after
    assert "high_below_1000_new" not in created


def test_a_renamed_column_is_renamed_in_its_check(source, target_db, tmp_path):
    code, report, _ = _migrate(
        source, target_db, tmp_path, "-q", "--rename-column", "cm_child.low=minimum"
    )
    assert code == 0, report
    _assert_constraints(target_db, low="minimum")
    _assert_behaviour(target_db, low="minimum")


def test_a_check_on_a_column_left_out_is_said(source, target_db):
    with open_session(source.endpoint) as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, ["cm_parent", "cm_child"])
    child = next(m for m in mappings if m.source == "cm_child")
    for cm in child.columns:
        if cm.source == "low":
            cm.include = False
    events: list = []
    report = run_migration(
        source.endpoint, target_db.endpoint, mappings, MigrationOptions(), events.append
    )
    assert report.exit_code == 0, [t.message for t in report.tables]
    warnings = [e.text for e in events if isinstance(e, LogMessage) and e.level == "warning"]
    assert (
        "The CHECK constraint low_not_above_high of cm_child was left out of cm_child: it reads "
        "the column low, which is not copied. cm_child accepts rows the source refuses."
    ) in warnings
    assert "low_not_above_high" not in _constraints(target_db, "cm_child")
    assert "cm_child_quantity_check" in _constraints(target_db, "cm_child")


def test_a_row_breaking_a_check_is_named_in_the_rejects(source, target_db, tmp_path):
    """A source row that breaks a CHECK the source calls validated (marked so by hand, as a
    restored dump or a bug can leave it) is refused by the target's CHECK, row by row, and
    named with its reason; the other rows are copied."""
    with source.admin_connect() as conn:
        conn.execute("ALTER TABLE cm_child ADD CONSTRAINT few CHECK (quantity < 6) NOT VALID")
        conn.execute("UPDATE pg_constraint SET convalidated = true WHERE conname = 'few'")
    code, report, _ = _migrate(source, target_db, tmp_path, "-q")
    child = next(t for t in report["tables"] if t["target"] == "cm_child")
    assert code == 3 and child["rows_rejected"] == 1, report
    with (tmp_path / "rejects" / "errors.csv").open(newline="", encoding="utf-8") as f:
        errors = list(csv.DictReader(f))
    assert len(errors) == 1 and "few" in errors[0]["problem"], errors
    assert target_db.rows("SELECT id FROM cm_child ORDER BY id") == [(1,), (2,)]


def test_export_then_import_keeps_the_constraints(source, target_db, tmp_path, capsys):
    folder = tmp_path / "export"
    assert (
        main(["export", "--source", source.url, "--tables", TABLES, "--to", str(folder), "-q"]) == 0
    )
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    child = next(t for t in manifest["tables"] if t["name"] == "cm_child")
    assert {c["name"]: c["validated"] for c in child["checks"]} == {
        "cm_child_quantity_check": True,
        "high_below_1000_new": False,
        "low_not_above_high": True,
    }
    fks = {tuple(fk["columns"]): fk for fk in child["foreign_keys"]}
    assert fks[("parent_id",)]["deferrable"] and fks[("parent_id",)]["initially_deferred"]
    assert fks[("owner_id",)]["on_delete"] == "CASCADE"
    assert child["unique_nulls_not_distinct"] == [["email"]]
    assert "DEFERRABLE INITIALLY DEFERRED" in (folder / SCHEMA_NAME).read_text()

    report = tmp_path / "import.json"
    code = main(
        [
            "import",
            str(folder),
            "--target",
            target_db.url,
            "--json-report",
            str(report),
            "--rejects-dir",
            str(tmp_path / "rejects"),
            "--rename-column",
            "cm_child.low=minimum",
        ]
    )
    assert code == 0, capsys.readouterr().err
    _assert_constraints(target_db, low="minimum")
    _assert_behaviour(target_db, low="minimum")


def test_an_older_manifest_still_imports(source, target_db, tmp_path, capsys):
    """A manifest written before these fields existed: NOT DEFERRABLE, NO ACTION, no CHECKs,
    as such a package was always imported."""
    folder = tmp_path / "export"
    assert (
        main(["export", "--source", source.url, "--tables", TABLES, "--to", str(folder), "-q"]) == 0
    )
    path = folder / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    for table in manifest["tables"]:
        del table["checks"], table["unique_nulls_not_distinct"]
        for fk in table["foreign_keys"]:
            for key in ("on_delete", "on_update", "deferrable", "initially_deferred"):
                del fk[key]
    path.write_text(json.dumps(manifest))
    code = main(["import", str(folder), "--target", target_db.url, "-q"])
    assert code == 0, capsys.readouterr().err
    child = _constraints(target_db, "cm_child")
    assert {c[0] for c in child.values()} == {"p", "u", "f"}
    assert {c[2] for c in child.values() if c[0] == "f"} == {False}


def test_a_not_valid_foreign_key_stays_not_valid_and_keeps_its_old_rows(
    source_db, target_db, tmp_path
):
    """A foreign key the source added NOT VALID over rows without a parent: the target's is
    NOT VALID too, and those rows are copied, as they are in the source (they were refused
    one by one, the key validated)."""
    with psycopg.connect(source_db.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE nv_parent (id int PRIMARY KEY)")
        conn.execute("CREATE TABLE nv_child (id int PRIMARY KEY, parent_id int)")
        conn.execute("INSERT INTO nv_parent VALUES (1)")
        conn.execute("INSERT INTO nv_child VALUES (1, 1), (2, 99)")  # 99: no such parent
        conn.execute(
            "ALTER TABLE nv_child ADD CONSTRAINT nv_fk FOREIGN KEY (parent_id) "
            "REFERENCES nv_parent NOT VALID"
        )
    code = main(["migrate", "--source", source_db.url, "--target", target_db.url, "--tables",
                 "nv_parent,nv_child", "--rejects-dir", str(tmp_path), "-q"])  # fmt: skip
    assert code == 0
    assert target_db.rows("SELECT count(*) FROM nv_child") == [(2,)]
    assert target_db.rows(
        "SELECT convalidated FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = 'nv_child'::regclass"
    ) == [(False,)]
    with psycopg.connect(target_db.url, autocommit=True) as conn:  # new rows are checked
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO nv_child VALUES (3, 98)")
