"""The plan read before Start: every figure true, 'about' only for estimates."""

from __future__ import annotations

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.mapping import ColumnMapping, IfExists, TableMapping
from coursemig_gui.core.options import MigrationOptions, OnError, Route
from coursemig_gui.core.plan_sentence import describe_plan

SOURCE = ConnectionSettings(host="127.0.0.1", port=5432, dbname="course_api", user="django")
TARGET = ConnectionSettings(
    host="c-courses.abc.postgres.cosmos.azure.com", port=5432, dbname="citus", user="citus"
)


def _table(name: str, *columns: tuple[str, str], **kw) -> TableMapping:
    cols = [ColumnMapping(src, dst, "text", source_type="text") for src, dst in columns]
    return TableMapping(name, name.removeprefix("courses_"), cols, **kw)


def _tables() -> list[TableMapping]:
    tables = [_table(f"courses_t{i}", ("id", "id")) for i in range(8)]
    tables.append(_table("courses_meetingtime", ("id", "id"), ("end", "end_time")))
    return tables


def test_the_issue_example_with_counted_rows():
    counted = {m.source: 1000 for m in _tables()}
    counted["courses_meetingtime"] = 3359
    text = describe_plan(
        _tables(), MigrationOptions(), source=SOURCE, target=TARGET, counted_rows=counted
    )
    assert text == (
        "9 tables, 11,359 rows, from course_api on 127.0.0.1 to citus on "
        "c-courses.abc.postgres.cosmos.azure.com; 1 column renamed; tables that already exist: "
        "stop; a bad row is skipped (up to 100 rows per table); each table is checked after "
        "copying."
    )


def test_an_estimate_makes_the_total_about_and_a_missing_figure_leaves_it_out():
    tables = _tables()[:2]
    options = MigrationOptions(on_error=OnError.STOP, verify=False)
    local = ConnectionSettings(host="127.0.0.1", port=54321, dbname="copy", user="u")
    text = describe_plan(
        tables,
        options,
        source=SOURCE,
        target=local,
        counted_rows={"courses_t0": 1},
        estimated_rows={"courses_t1": 41},
    )
    assert text.startswith(
        "2 tables, about 42 rows, from course_api on 127.0.0.1 to copy on 127.0.0.1:54321;"
    )
    assert "a bad row stops its table (rolled back)." in text
    assert "checked" not in text
    text = describe_plan(
        tables, options, source=SOURCE, target=local, counted_rows={"courses_t0": 1}
    )
    assert text.startswith("2 tables, from course_api")


def test_one_table_one_row_are_singular():
    text = describe_plan(
        [_table("courses_t0", ("id", "id"))],
        MigrationOptions(),
        source=SOURCE,
        target=TARGET,
        counted_rows={"courses_t0": 1},
    )
    assert text.startswith("1 table, 1 row, from")


def test_routes_mixed_policies_and_column_changes():
    tables = _tables()
    tables[0].if_exists = IfExists.REPLACE
    tables[1].columns[0].include = False
    tables[2].columns[0].target_type = "bigint"
    tables[3].include = False  # not copied: not counted
    counted = {m.source: 10 for m in tables}
    export = MigrationOptions(route=Route.EXPORT, csv_dir="/data/csv")
    text = describe_plan(tables, export, source=SOURCE, target=TARGET, counted_rows=counted)
    assert text.startswith(
        "8 tables, 80 rows, from course_api on 127.0.0.1 to CSV files in /data/csv "
        "(nothing is written to a database); 1 column renamed; 1 column given another type; "
        "1 column left out; a bad row is skipped"
    )
    assert "already exist" not in text  # nothing is written
    keep = MigrationOptions(route=Route.DIRECT_KEEP_CSV, csv_dir="/data/csv", max_reject_percent=5)
    text = describe_plan(tables, keep, source=SOURCE, target=TARGET, counted_rows=counted)
    assert ", keeping CSV files in /data/csv;" in text
    assert "tables that already exist: stop (7 tables), replace all their rows (1 table);" in text
    assert "(up to 100 rows per table or 5 % of a table)" in text
    imported = MigrationOptions(route=Route.IMPORT, csv_dir="/data/csv")
    text = describe_plan(tables, imported, source=None, target=TARGET, counted_rows=counted)
    assert text.startswith(
        "8 tables, from the CSV files in /data/csv to citus on "
        "c-courses.abc.postgres.cosmos.azure.com;"
    )


def test_nothing_chosen():
    text = describe_plan([], MigrationOptions(), source=SOURCE, target=TARGET)
    assert text == "No table is chosen, so nothing will be copied."


def test_a_limit_of_zero_bad_rows_is_not_called_skipping():
    # --max-rejects 0 (or 0 %): the first bad row fails the table, which is left as it was
    for options in (MigrationOptions(max_rejects=0), MigrationOptions(max_reject_percent=0)):
        text = describe_plan(_tables(), options, source=SOURCE, target=TARGET)
        assert "skipped" not in text
        assert "a bad row stops its table (rolled back)" in text
