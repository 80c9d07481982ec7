"""A source column of a type made by hand that CourseMig does not make on the target (a domain;
enums are made, ``test_enum_types.py``): the target does not have it, so its table is not made,
and the sentence says so and what to do; doing it (text as the column's type) copies the values
as text."""

from __future__ import annotations

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.events import Phase
from coursemig_gui.core.mapping import Placement, default_mappings
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.report import Verification


def _mood_table(source_db):
    with source_db.admin_connect() as conn:
        conn.execute("CREATE DOMAIN mood AS text CHECK (VALUE IN ('sad', 'ok', 'happy'))")
        conn.execute("CREATE TABLE diary_entry (id integer PRIMARY KEY, feeling mood)")
        conn.execute(
            "INSERT INTO diary_entry SELECT g, (ARRAY['sad', 'ok', 'happy'])[1 + g % 3] "
            "FROM generate_series(1, 30) g"
        )
        conn.execute(f"ALTER TABLE diary_entry OWNER TO {source_db.user}")  # a fixed name
    with open_session(source_db.endpoint) as conn:
        catalog = read_catalog(conn)
    (tm,) = default_mappings(catalog, ["diary_entry"])
    return tm


def _run(source_db, target_db, tm, tmp_path):
    return run_migration(
        source_db.endpoint,
        target_db.endpoint,
        [tm],
        MigrationOptions(rejects_dir=str(tmp_path / "rejects")),
        lambda event: None,
    )


def test_a_type_the_target_lacks_is_named_with_what_to_do(source_db, target_db, tmp_path):
    tm = _mood_table(source_db)
    report = _run(source_db, target_db, tm, tmp_path)
    (table,) = report.tables
    assert report.exit_code == 1 and table.status == Phase.FAILED
    assert table.message == (
        f"{tm.target} was not made, so it was not copied. The target database has no type "
        f'"mood", which column feeling of {tm.target} uses. Choose text as its type on the '
        "Columns page (or in the saved migration), so its values are copied as text, or create "
        "the type on the target first."
    )
    assert 'type "mood" does not exist' in table.detail


def test_text_for_the_column_copies_the_values(source_db, target_db, tmp_path):
    tm = _mood_table(source_db)
    tm.column("feeling").target_type = "text"
    report = _run(source_db, target_db, tm, tmp_path)
    (table,) = report.tables
    assert report.exit_code == 0, table.message
    assert table.verification != Verification.MISMATCH
    source = source_db.rows("SELECT id, feeling::text FROM diary_entry ORDER BY id")
    assert target_db.rows(f"SELECT id, feeling FROM {tm.target} ORDER BY id") == source


def test_on_citus_the_same_sentence_says_what_to_do(source_db, citus_db, tmp_path):
    tm = _mood_table(source_db)
    tm.placement = Placement.REFERENCE
    report = _run(source_db, citus_db, tm, tmp_path)
    (table,) = report.tables
    assert table.status == Phase.FAILED
    assert table.message == (
        f"{tm.target} could not be created as a reference table, so it was not copied. The "
        f'target database has no type "mood", which column feeling of {tm.target} uses. Choose '
        "text as its type on the Columns page (or in the saved migration), so its values are "
        "copied as text, or create the type on the target first."
    )


def test_an_extension_s_type_names_the_extension_to_install(empty_source_db, target_db, tmp_path):
    """citext comes with an extension the target lacks: the sentence says to install it (a type
    cannot be made by hand), names both columns, the array's too, and installing it copies
    the values as they were."""
    with empty_source_db.admin_connect() as conn:
        conn.execute("CREATE EXTENSION citext")
        conn.execute("CREATE TABLE tag (id integer PRIMARY KEY, name citext, aliases citext[])")
        conn.execute("INSERT INTO tag VALUES (1, 'MiXed', '{A,b}'), (2, NULL, NULL)")
        conn.execute(f"ALTER TABLE tag OWNER TO {empty_source_db.user}")
    with open_session(empty_source_db.endpoint) as conn:
        (tm,) = default_mappings(read_catalog(conn), ["tag"])
    report = _run(empty_source_db, target_db, tm, tmp_path)
    (table,) = report.tables
    assert report.exit_code == 1 and table.status == Phase.FAILED
    assert table.message == (
        'tag was not made, so it was not copied. The target database has no type "citext", '
        "which columns name, aliases of tag use; it comes with the extension citext. Install "
        "the extension on the target (CREATE EXTENSION citext), or choose text as its type on "
        "the Columns page (or in the saved migration), so its values are copied as text."
    )
    with target_db.admin_connect() as conn:
        conn.execute("CREATE EXTENSION citext")
    report = _run(empty_source_db, target_db, tm, tmp_path)
    assert report.exit_code == 0, report.tables[0].message
    assert report.tables[0].verification == Verification.MATCH
    assert target_db.rows("SELECT name, aliases::text FROM tag ORDER BY id") == [
        ("MiXed", "{A,b}"),
        (None, None),
    ]


def test_an_array_of_a_missing_type_names_its_column(source_db, target_db, tmp_path):
    with source_db.admin_connect() as conn:
        conn.execute("CREATE DOMAIN posint AS integer CHECK (VALUE > 0)")
        conn.execute("CREATE TABLE lot (id integer PRIMARY KEY, sizes posint[])")
        conn.execute("INSERT INTO lot VALUES (1, '{1,2}')")
        conn.execute(f"ALTER TABLE lot OWNER TO {source_db.user}")
    with open_session(source_db.endpoint) as conn:
        (tm,) = default_mappings(read_catalog(conn), ["lot"])
    (table,) = _run(source_db, target_db, tm, tmp_path).tables
    assert table.status == Phase.FAILED
    assert 'no type "posint[]", which column sizes of lot uses. Choose text' in table.message
