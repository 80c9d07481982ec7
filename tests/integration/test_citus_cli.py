"""The CLI takes the wizard's placement suggestions: ``coursemig migrate --app courses
--placements suggested`` onto the real Citus cluster, as the non-superuser ``citus`` over TLS."""

from __future__ import annotations

import json

from citus_cluster import placements_in_cluster

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.citus.suggestions import describe, suggest_with_counts
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.mapping import Placement, default_mappings, select_tables


def _expected(source_db):
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
        mappings = default_mappings(catalog, select_tables(catalog, apps=["courses"]))
        return mappings, suggest_with_counts(conn, catalog, mappings)


def test_citus_cli_migrate_with_suggested_placements(source_db, citus_db, tmp_path, capsys):
    assert "sslmode=verify-full" in citus_db.url and citus_db.user == "citus"
    report = tmp_path / "report.json"
    code = main(
        [
            "migrate",
            "--source",
            source_db.url,
            "--target",
            citus_db.url,
            "--app",
            "courses",
            "--placements",
            "suggested",
            "--json-report",
            str(report),
        ]
    )
    data = json.loads(report.read_text())
    assert code == 0, data
    for t in data["tables"]:
        assert t["status"] == "done", t
        assert t["verification"] == "match", t
        assert t["rows_read"] == t["rows_written"]

    mappings, suggestions = _expected(source_db)
    assert len(data["tables"]) == len(mappings) == len(suggestions)
    # each suggestion was printed with its reason, and is what the cluster now has
    err = capsys.readouterr().err
    placed = placements_in_cluster(citus_db)
    for tm in mappings:
        s = suggestions[tm.source]
        assert f"{tm.target}: {describe(s)} (suggested). {s.reason}" in err
        assert "about" not in s.reason
        if s.placement == Placement.REFERENCE:
            assert placed[tm.target][0] == "n", tm.target
        elif s.placement == Placement.DISTRIBUTED:
            assert placed[tm.target][:2] == ("h", s.column), tm.target
        else:  # local: plain, or a local table Citus manages (a foreign key to a reference table)
            assert placed.get(tm.target, ("local",))[0] == "local", tm.target
    assert {s.placement for s in suggestions.values()} >= {Placement.REFERENCE, Placement.LOCAL}


def test_cli_plan_prints_each_suggestion_with_its_reason(source_db, target_db, tmp_path, capsys):
    code = main(
        [
            "plan",
            "--source",
            source_db.url,
            "--target",
            target_db.url,
            "--app",
            "courses",
            "-o",
            str(tmp_path / "plan.json"),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    mappings, suggestions = _expected(source_db)
    for tm in mappings:
        s = suggestions[tm.source]
        assert f"{tm.target}: {describe(s)} (suggested). {s.reason}" in err
    # the source was ANALYZEd, so its estimate is used and worded as one
    assert "course: local (suggested). course is small (an estimated 3,547 rows)" in err
    # shown, not taken, without --placements suggested
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert {t.get("placement", "local") for t in saved["tables"]} == {"local"}


def test_suggestions_count_a_never_analyzed_table(empty_source_db, target_db, tmp_path, capsys):
    """A freshly migrated Django database: pg_class.reltuples is -1 until the first ANALYZE.
    The suggestion counts the table instead of printing that as a size."""
    with empty_source_db.admin_connect() as conn:
        conn.execute("ALTER TABLE courses_program SET (autovacuum_enabled = false)")
        conn.execute(
            "INSERT INTO courses_program SELECT 'P' || n, 'Program ' || n "
            "FROM generate_series(1, 5) n"
        )
    reltuples = empty_source_db.rows(
        "SELECT reltuples FROM pg_class WHERE oid = 'courses_program'::regclass"
    )
    assert reltuples[0][0] == -1
    code = main(
        [
            "plan",
            "--source",
            empty_source_db.url,
            "--target",
            target_db.url,
            "--app",
            "courses",
            "-o",
            str(tmp_path / "plan.json"),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "program: reference (suggested). program is a small lookup table (5 rows)" in err
    assert "about" not in err and "-1 rows" not in err, err
