"""An export package imported into the real Citus cluster keeps its foreign keys.

On plain PostgreSQL the import makes each new table with the package's foreign keys. On Citus
they wait until after the loads, and that step took only the tables made before the loads
(a direct copy's): an import makes its tables in their own load, so every foreign key of the
package was left out, and the run said "All 2 tables copied and verified" without a word.
"""

from __future__ import annotations

from citus_cluster import placements_in_cluster

from coursemig_gui.cli import main

TABLES = "courses_program,courses_course"


def test_citus_import_of_a_package_keeps_its_foreign_keys(source_db, citus_db, tmp_path):
    folder = tmp_path / "export"
    export = ["export", "--source", source_db.url, "--tables", TABLES, "--to", str(folder), "-q"]
    assert main(export) == 0
    code = main(
        [
            "import",
            str(folder),
            "--target",
            citus_db.url,
            "--reference",
            "program",
            "--distribute",
            "course=pid",
            "--rejects-dir",
            str(tmp_path / "rejects"),
            "-q",
        ]
    )
    assert code == 0
    placed = placements_in_cluster(citus_db)
    assert placed["program"][0] == "n" and placed["course"][:2] == ("h", "pid")
    assert citus_db.rows(
        "SELECT conname, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = 'course'::regclass"
    ) == [("course_program_id_fk", "program")]
    assert citus_db.rows("SELECT count(*) FROM course") == source_db.rows(
        "SELECT count(*) FROM courses_course"
    )
