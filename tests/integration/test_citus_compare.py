"""Issue 18 on the real Citus cluster: ``coursemig compare`` after a migration with ``course``
distributed and the lookups as reference tables, and the per-row hash query pushed down to the
shards (computed on the worker nodes, not on the coordinator)."""

from __future__ import annotations

import json

import pytest
from citus_cluster import placements_in_cluster

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.compare.spec import build_spec, hash_query
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.profile import Profile

# course refers only to program, so it can be distributed while the lookups are reference
# tables (the whole app cannot: section refers to course, see test_citus_django_fit.py)
TABLES = "courses_program,courses_meetingtime,courses_meetinglocation,courses_course"


@pytest.fixture
def migrated(source_db, citus_db, tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", citus_db.password)  # the profile itself has no password
    profile = tmp_path / "courses.json"
    assert main(["plan", "--source", source_db.url, "--target", citus_db.url, "--tables", TABLES,
                 "--reference", "program", "--reference", "meetingtime", "--reference",
                 "meetinglocation", "--distribute", "course=pid", "--output", str(profile),
                 "-q"]) == 0  # fmt: skip
    assert main(["run", str(profile), "-q"]) == 0
    placed = placements_in_cluster(citus_db)
    assert placed["course"][:2] == ("h", "pid")
    assert {placed[t][0] for t in ("program", "meetingtime", "meetinglocation")} == {"n"}
    return profile


def _compare(profile, tmp_path) -> tuple[int, dict]:
    out = tmp_path / "comparison.json"
    code = main(["compare", str(profile), "--json", str(out), "-q"])
    return code, json.loads(out.read_text())


def test_citus_compare_identical_then_exactly_the_three_changes(
    migrated, tmp_path, source_db, citus_db
):
    code, report = _compare(migrated, tmp_path)
    assert code == 0, (
        report.get("message"),
        [(t["target"], t["verdict"]) for t in report["tables"]],
    )
    assert {t["target"] for t in report["tables"]} == {
        "program", "meetingtime", "meetinglocation", "course"
    }  # fmt: skip
    assert all(t["status"] == "identical" for t in report["tables"]), report
    course = next(t for t in report["tables"] if t["target"] == "course")
    expected = source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    assert course["identical"] == course["target_rows"] == expected

    with citus_db.connect(autocommit=True) as conn:  # as the non-superuser citus
        assert conn.execute("SELECT current_user").fetchone()[0] == "citus"
        changed_pid, old_title = conn.execute(
            "SELECT pid, title FROM course ORDER BY pid LIMIT 1"
        ).fetchone()
        conn.execute("UPDATE course SET title = 'Changed on Citus' WHERE pid = %s", [changed_pid])
        deleted_pid, deleted_title = conn.execute(
            "SELECT pid, title FROM course ORDER BY pid DESC LIMIT 1"
        ).fetchone()
        conn.execute("DELETE FROM course WHERE pid = %s", [deleted_pid])
        program = conn.execute("SELECT subject_code FROM program LIMIT 1").fetchone()[0]
        conn.execute(
            "INSERT INTO course (pid, slug, program_id, course_number, title) "
            "VALUES ('ZZZ-added', 'zzz-added', %s, '999', 'Added on Citus')",
            [program],
        )

    code, report = _compare(migrated, tmp_path)
    assert code == 3, report
    changed = [t for t in report["tables"] if t["status"] != "identical"]
    assert [t["target"] for t in changed] == ["course"], report["headline"]
    [course] = changed
    assert (course["different"], course["only_in_source"], course["only_in_target"]) == (1, 1, 1)
    assert course["identical"] == expected - 2
    rows = {r["kind"]: r for r in course["rows"]}
    assert set(rows) == {"different", "only in source", "only in target"}
    assert rows["different"]["key"] == {"pid": changed_pid}
    assert rows["different"]["columns"] == [{"column": "title", "target_column": "title",
                                             "source_value": old_title,
                                             "target_value": "Changed on Citus"}]  # fmt: skip
    assert rows["only in source"]["key"] == {"pid": deleted_pid}
    assert rows["only in source"]["values"]["title"] == deleted_title
    assert rows["only in target"]["key"] == {"pid": "ZZZ-added"}
    assert rows["only in target"]["values"]["title"] == "Added on Citus"


def test_citus_row_hash_query_is_pushed_down_to_the_shards(migrated, source_db, citus_db):
    profile = Profile.load(migrated)
    [tm] = [t for t in profile.tables if t.target == "course"]
    with open_session(source_db.endpoint) as src, citus_db.connect() as tgt:
        spec = build_spec(tm, read_catalog(src), read_catalog(tgt))
        assert not spec.problem, spec.problem
        query = hash_query(spec, "target", "hashtextextended")
        plan = tgt.execute(b"EXPLAIN (VERBOSE, FORMAT JSON) " + query.as_bytes(tgt)).fetchone()[0]
        assert tgt.execute("SELECT current_user").fetchone()[0] == "citus"
    top = plan[0]["Plan"]
    scans = list(_nodes(top))
    [custom] = [n for n in scans if n.get("Custom Plan Provider") == "Citus Adaptive"]
    job = custom["Distributed Query"]["Job"]
    shards = citus_db.rows(
        "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'course'::regclass"
    )[0][0]
    assert job["Task Count"] == shards > 1
    # the hash is in the query each shard runs, and the coordinator's work above the scan is
    # only the merge sort by key
    [task] = job["Tasks"]  # EXPLAIN shows one task of the many
    task_plan = json.dumps(task)
    assert "hashtextextended" in task_plan, task_plan
    assert task["Node"].startswith("host=")
    assert "hashtextextended" in json.dumps(custom["Output"])  # a column the workers send
    assert top["Node Type"] == "Sort" and top["Plans"][0] is custom


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)
