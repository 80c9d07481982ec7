"""A source column of a list-of-values type made by hand (``CREATE TYPE mood AS ENUM``): the
target is given the same type, values in the same order, in the table's own transaction; on
Citus the type reaches the workers. A target that already has the type keeps it, and rows with
a value it lacks are rejected with their reason; a target with a table of that name gets a
sentence saying what to do."""

from __future__ import annotations

import json

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.ddl import ddl_script
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import LogMessage, Phase
from coursemig_gui.core.mapping import Placement, default_mappings
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification

MOODS = ["sad", "ok", "happy"]
_ENUM_VALUES = """
SELECT ARRAY(SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
             WHERE t.typname = 'mood' ORDER BY e.enumsortorder)
"""


def _diary(source_db):
    """diary_entry: 30 rows, a mood column and a mood[] column; on the source the type sorts
    its values in their own order, not alphabetically, so a copy as text would show."""
    with source_db.admin_connect() as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        conn.execute(
            "CREATE TABLE diary_entry (id integer PRIMARY KEY, feeling mood NOT NULL, week mood[])"
        )
        conn.execute(
            "INSERT INTO diary_entry SELECT g, (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood, "
            "ARRAY['happy', 'sad']::mood[] FROM generate_series(1, 30) g"
        )
        conn.execute(f"ALTER TABLE diary_entry OWNER TO {source_db.user}")  # a fixed name
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    (tm,) = default_mappings(catalog, ["diary_entry"])
    return catalog, tm


def _run(source_db, target, tm, tmp_path, test_run=False):
    events = []
    report = run_migration(
        source_db.endpoint,
        target.endpoint,
        [tm],
        MigrationOptions(rejects_dir=str(tmp_path / "rejects")),
        events.append,
        test_run=test_run,
    )
    return report, [e for e in events if isinstance(e, LogMessage)]


def _same_rows(source_db, target, table: str) -> None:
    # ORDER BY the enum: the target's type sorts its values as the source's does
    query = "SELECT id, feeling, week FROM {} ORDER BY feeling, id"
    assert target.rows(query.format(table)) == source_db.rows(query.format("diary_entry"))


def test_the_source_type_is_made_on_the_target_and_the_copy_verified(
    source_db, target_db, tmp_path
):
    _, tm = _diary(source_db)
    report, logs = _run(source_db, target_db, tm, tmp_path)
    (table,) = report.tables
    assert report.exit_code == 0, table.message
    assert table.verification == Verification.MATCH, table.verification_detail
    assert target_db.rows(_ENUM_VALUES) == [(MOODS,)]
    assert target_db.rows(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        f"WHERE attrelid = '{tm.target}'::regclass AND attnum > 0 ORDER BY attnum"
    ) == [("integer",), ("mood",), ("mood[]",)]
    _same_rows(source_db, target_db, tm.target)
    assert [m.text for m in logs if "mood" in m.text] == [
        f"{tm.target} needs the source's type mood (sad, ok, happy): it is made on the target "
        "with the table."
    ]


def test_a_test_run_leaves_no_type_behind(source_db, target_db, tmp_path):
    _, tm = _diary(source_db)
    report, _ = _run(source_db, target_db, tm, tmp_path, test_run=True)
    assert report.exit_code == 0, report.tables[0].message
    assert target_db.rows(_ENUM_VALUES) == [([],)]


def test_rows_with_a_value_the_target_type_lacks_are_rejected_the_rest_copied(
    source_db, target_db, tmp_path
):
    _, tm = _diary(source_db)
    tm.column("week").include = False
    with target_db.admin_connect() as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
    report, logs = _run(source_db, target_db, tm, tmp_path)
    (table,) = report.tables
    warnings = [m.text for m in logs if m.level == "warning" and "mood" in m.text]
    assert warnings == [
        f"The target's type mood, which {tm.target} uses, has no value happy, which the "
        "source's type has: rows holding it are rejected, each with its reason. Add the value "
        "to the type on the target to copy them."
    ]
    happy = source_db.rows("SELECT count(*) FROM diary_entry WHERE feeling = 'happy'")[0][0]
    assert report.exit_code == 3, table.message
    assert (table.rows_written, table.rows_rejected) == (30 - happy, happy)
    assert table.verification == Verification.MATCH, table.verification_detail
    rejected = (tmp_path / "rejects" / "diary_entry.rejected.csv").read_text().splitlines()
    assert rejected[:2] == ["id,feeling", "2,happy"]  # the value as text, not its bytes
    errors = (tmp_path / "rejects" / "errors.csv").read_text()
    assert 'invalid input value for enum mood: ""happy""' in errors
    assert target_db.rows(f"SELECT count(*) FROM {tm.target} WHERE feeling::text = 'happy'") == [
        (0,)
    ]


def test_a_table_of_the_type_name_on_the_target_is_said_with_what_to_do(
    source_db, target_db, tmp_path
):
    _, tm = _diary(source_db)
    with target_db.admin_connect() as conn:
        conn.execute("CREATE TABLE mood (id integer)")
    report, _ = _run(source_db, target_db, tm, tmp_path)
    (table,) = report.tables
    assert report.exit_code == 1 and table.status == Phase.FAILED
    assert table.message == (
        f"{tm.target} was not made, so it was not copied. The target database already has "
        'something named "mood" that is not a list of values (a table, or a type of another '
        "kind), so the source's type mood, which columns feeling, week of "
        f"{tm.target} use, cannot be made there. Choose text as its type on the Columns page "
        "(or in the saved migration), so its values are copied as text."
    )


def test_text_for_the_columns_makes_no_type(source_db, target_db, tmp_path):
    _, tm = _diary(source_db)
    tm.column("feeling").target_type = "text"
    tm.column("week").target_type = "text[]"
    report, _ = _run(source_db, target_db, tm, tmp_path)
    assert report.exit_code == 0, report.tables[0].message
    assert target_db.rows(_ENUM_VALUES) == [([],)]
    assert target_db.rows(f"SELECT feeling, week FROM {tm.target} WHERE id = 1") == [
        ("ok", ["happy", "sad"])
    ]


def test_show_sql_makes_the_type_before_its_table(source_db):
    catalog, tm = _diary(source_db)
    script = ddl_script(catalog, [tm], MigrationOptions())
    made = script.index("""CREATE TYPE "public"."mood" AS ENUM ('sad', 'ok', 'happy');""")
    assert made < script.index("CREATE TABLE")
    assert '"feeling" "public"."mood" NOT NULL' in script
    assert '"week" "public"."mood"[]' in script


def test_the_export_package_carries_the_type(source_db, target_db, tmp_path, capsys):
    _diary(source_db)
    folder = tmp_path / "export"
    code = main(
        ["export", "--source", source_db.url, "--tables", "diary_entry", "--to", str(folder)]
    )
    assert code == 0
    manifest = json.loads((folder / "coursemig-export.json").read_text())
    (entry,) = manifest["tables"]
    assert {c["name"]: c.get("enum") for c in entry["columns"]} == {
        "id": None,
        "feeling": {"name": "mood", "values": MOODS},
        "week": {"name": "mood", "values": MOODS},
    }
    assert "CREATE TYPE" in (folder / "schema.sql").read_text()
    capsys.readouterr()
    code = main(
        ["import", str(folder), "--target", target_db.url, "--rejects-dir", str(tmp_path / "r")]
    )
    assert code == 0, capsys.readouterr().err
    assert target_db.rows(_ENUM_VALUES) == [(MOODS,)]
    _same_rows(source_db, target_db, "diary_entry")


def test_on_citus_the_type_reaches_the_workers(source_db, citus_db, citus_cluster, tmp_path):
    _, tm = _diary(source_db)
    for placement in (Placement.REFERENCE, Placement.DISTRIBUTED):
        tm.placement = placement
        tm.distribution_column = "id" if placement == Placement.DISTRIBUTED else None
        report, _ = _run(source_db, citus_db, tm, tmp_path / placement.value)
        (table,) = report.tables
        assert report.exit_code == 0, table.message
        assert table.verification == Verification.MATCH, table.verification_detail
        _same_rows(source_db, citus_db, tm.target)
        with citus_cluster.admin() as conn:
            on_workers = conn.execute(
                "SELECT result FROM run_command_on_workers($$" + _ENUM_VALUES + "$$)"
            ).fetchall()
        assert on_workers and all(r == ("{sad,ok,happy}",) for r in on_workers)
        with citus_cluster.admin() as conn:
            conn.execute(f"DROP TABLE {tm.target}")


def test_the_command_line_copies_and_compares_the_table(
    source_db, target_db, tmp_path, monkeypatch
):
    _diary(source_db)
    monkeypatch.setenv("PGPASSWORD", target_db.password)
    profile, out = tmp_path / "diary.json", tmp_path / "comparison.json"
    assert main(["plan", "--source", source_db.url, "--target", target_db.url,
                 "--tables", "diary_entry", "--output", str(profile), "-q"]) == 0  # fmt: skip
    assert main(["run", str(profile), "-q"]) == 0
    assert main(["compare", str(profile), "--json", str(out), "-q"]) == 0
    (table,) = json.loads(out.read_text())["tables"]
    assert table["status"] == "identical" and table["identical"] == 30, table


def test_a_test_run_on_citus_leaves_no_type_behind(source_db, citus_db, citus_cluster, tmp_path):
    _, tm = _diary(source_db)
    tm.placement, tm.distribution_column = Placement.DISTRIBUTED, "id"
    report, _ = _run(source_db, citus_db, tm, tmp_path, test_run=True)
    assert report.exit_code == 0, report.tables[0].message
    assert citus_db.rows(_ENUM_VALUES) == [([],)]
    with citus_cluster.admin() as conn:
        on_workers = conn.execute(
            "SELECT result FROM run_command_on_workers($$" + _ENUM_VALUES + "$$)"
        ).fetchall()
    assert on_workers and all(r == ("{}",) for r in on_workers)
