"""Citus placement rules, suggestions and statements, without a server.

Each rule is checked with the exact sentence the user sees on the Columns page and in the CLI.
The catalog below is the fixture Django project's course schema, written out by hand.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from coursemig_gui.core.catalog import Catalog, Column, ForeignKey, Table
from coursemig_gui.core.citus.detection import CitusInfo
from coursemig_gui.core.citus.messages import CITUS_MESSAGES, citus_error_kind, explain_citus_error
from coursemig_gui.core.citus.placement import (
    creation_order,
    distribution_candidates,
    load_stages,
    placement_statement,
)
from coursemig_gui.core.citus.rules import require_citus, validate_placements
from coursemig_gui.core.citus.suggestions import (
    Suggestion,
    apply_suggestions,
    needs_count,
    suggest_placements,
)
from coursemig_gui.core.ddl import create_table, ddl_script
from coursemig_gui.core.mapping import Placement, default_mappings
from coursemig_gui.core.options import MigrationOptions

V = "character varying"


def _col(name: str, typ: str = f"{V}(100)", not_null: bool = True, **kw) -> Column:
    return Column(name, typ, not_null, **kw)


def _fk(col: str, parent: str, ref: str) -> ForeignKey:
    return ForeignKey(f"{col}_fk", (col,), parent, (ref,))


def course_catalog(rows: dict[str, int] | None = None, extra: tuple[Table, ...] = ()) -> Catalog:
    rows = rows or {}
    ident = {"identity": "by default"}
    tables = [
        Table(
            "courses_program",
            (_col("subject_code", f"{V}(10)"), _col("subject")),
            primary_key=("subject_code",),
        ),
        Table(
            "courses_meetingtime",
            (_col("slug", f"{V}(200)"), _col("term", f"{V}(6)"), _col("end", f"{V}(6)", False)),
            primary_key=("slug",),
        ),
        Table(
            "courses_meetinglocation",
            (_col("slug", f"{V}(200)"), _col("room", f"{V}(10)", False)),
            primary_key=("slug",),
        ),
        Table(
            "courses_course",
            (
                _col("pid", f"{V}(30)"),
                _col("slug", f"{V}(200)"),
                _col("title", f"{V}(200)"),
                _col("notes", f"{V}(10000)", False),
                _col("program_id", f"{V}(10)"),
            ),
            primary_key=("pid",),
            unique=(("slug",),),
            foreign_keys=(_fk("program_id", "courses_program", "subject_code"),),
        ),
        Table(
            "courses_section",
            (
                _col("crn", f"{V}(10)"),
                _col("course_id", f"{V}(30)"),
                _col("meeting_time_id", f"{V}(200)", False),
                _col("meeting_location_id", f"{V}(200)", False),
            ),
            primary_key=("crn",),
            foreign_keys=(
                _fk("course_id", "courses_course", "pid"),
                _fk("meeting_time_id", "courses_meetingtime", "slug"),
                _fk("meeting_location_id", "courses_meetinglocation", "slug"),
            ),
        ),
        Table(
            "courses_degree",
            (_col("code"), _col("program_id", f"{V}(10)", False)),
            primary_key=("code",),
            foreign_keys=(_fk("program_id", "courses_program", "subject_code"),),
        ),
        Table(
            "courses_specialization",
            (_col("id", "bigint", **ident), _col("title"), _col("degree_id")),
            primary_key=("id",),
            foreign_keys=(_fk("degree_id", "courses_degree", "code"),),
        ),
        Table(
            "courses_coursesectionlink",
            (_col("id", "bigint", **ident), _col("course_id", f"{V}(30)")),
            primary_key=("id",),
            foreign_keys=(_fk("course_id", "courses_course", "pid"),),
        ),
        *extra,
    ]
    tables = [
        Table(
            t.name,
            t.columns,
            primary_key=t.primary_key,
            unique=t.unique,
            foreign_keys=t.foreign_keys,
            row_estimate=rows.get(t.name, 100),
            app="courses",
        )
        for t in tables
    ]
    return Catalog("public", tuple(tables), is_django=True, apps=("courses",))


def mappings_for(catalog: Catalog, *only: str, **placements):
    """``course="distributed:pid"``, ``program="reference"`` by target name; with ``only``,
    just those tables (and the placed ones) are included."""
    mappings = default_mappings(catalog)
    if only:
        for m in mappings:
            m.include = m.target in only or m.target in placements
    by_target = {m.target: m for m in mappings}
    for target, spec in placements.items():
        tm = by_target[target]
        kind, _, column = spec.partition(":")
        tm.placement = Placement(kind)
        if column:
            tm.distribution_column, _, colocate = column.partition("@")
            tm.colocate_with = colocate or None
    return mappings


def messages(problems, severity: str | None = None) -> list[str]:
    return [p.message for p in problems if severity is None or p.severity == severity]


ACCEPTANCE = {
    "program": "reference",
    "meetingtime": "reference",
    "meetinglocation": "reference",
    "course": "distributed:pid",
}


def acceptance_mappings(catalog: Catalog):
    keep = {"courses_program", "courses_meetingtime", "courses_meetinglocation", "courses_course"}
    mappings = mappings_for(catalog, **ACCEPTANCE)
    for m in mappings:
        m.include = m.source in keep
    return mappings


# -- the rules --------------------------------------------------------------------------------


def test_primary_key_must_include_the_distribution_column():
    catalog = course_catalog()
    problems = validate_placements(
        mappings_for(catalog, course="distributed:pid", section="distributed:course_id"), catalog
    )
    assert (
        "section cannot be distributed by course_id: its primary key (crn) does not include "
        "course_id, and on a distributed table the primary key must include the distribution "
        "column. Distribute section by a column of its key, or make it a reference table."
    ) in messages(problems, "error")


def test_a_django_table_keyed_by_id_can_be_distributed_only_by_id():
    catalog = course_catalog()
    mappings = mappings_for(catalog, degree="reference", specialization="distributed:degree_id")
    problems = validate_placements(mappings, catalog)
    assert messages(problems) == [
        "specialization cannot be distributed by degree_id: its primary key (id) does not "
        "include degree_id, and on a distributed table the primary key must include the "
        "distribution column. specialization's only key is id, so it can be distributed only by id."
    ]
    assert problems[0].fix == "id"


def test_unique_without_the_distribution_column_is_a_warning_and_is_left_out():
    catalog = course_catalog()
    mappings = mappings_for(catalog, program="reference", course="distributed:pid")
    problems = validate_placements(mappings, catalog)
    assert messages(problems, "warning") == [
        "course is distributed by pid, so its unique constraint on (slug) cannot be kept: Citus "
        "can only enforce unique constraints that include the distribution column. It will be "
        "left out of the target table, and new rows will not be checked for duplicate (slug)."
    ]
    course = next(m for m in mappings if m.target == "course")
    text = create_table(course, catalog.table("courses_course")).as_string(None)
    assert 'PRIMARY KEY ("pid")' in text and "UNIQUE" not in text
    # a local course keeps it
    course.placement = Placement.LOCAL
    assert 'UNIQUE ("slug")' in create_table(course, catalog.table("courses_course")).as_string(
        None
    )


def test_a_unique_that_includes_the_distribution_column_is_kept():
    catalog = course_catalog()
    mappings = mappings_for(catalog, program="reference", course="distributed:slug")
    problems = validate_placements(mappings, catalog)
    assert any("primary key (pid) does not include slug" in m for m in messages(problems, "error"))
    assert not messages(problems, "warning")


def test_foreign_key_between_distributed_tables_must_include_the_distribution_column():
    catalog = course_catalog()
    mappings = mappings_for(
        catalog,
        program="reference",
        meetingtime="reference",
        meetinglocation="reference",
        course="distributed:pid",
        section="distributed:crn",
    )
    problems = validate_placements(mappings, catalog)
    assert (
        "section refers to course through (course_id), which does not include crn, the column "
        "section is distributed by. A foreign key between distributed tables must join their "
        "distribution columns. section cannot be distributed by course_id to keep it (its "
        "primary key (crn) does not include course_id), so make course a reference table (a "
        "copy on every node, for a table of modest size), or leave section out of this "
        "migration."
    ) in messages(problems, "error")


def test_foreign_key_between_distributed_tables_must_join_colocated_tables():
    enrollment = Table(
        "courses_enrollment",
        (_col("course_id", f"{V}(30)"), _col("student")),
        primary_key=("course_id", "student"),
        foreign_keys=(_fk("course_id", "courses_course", "pid"),),
    )
    catalog = course_catalog(extra=(enrollment,))
    mappings = mappings_for(
        catalog,
        "degree",
        program="reference",
        course="distributed:pid",
        enrollment="distributed:course_id@none",
    )
    problems = validate_placements(mappings, catalog)
    assert messages(problems, "error") == [
        "enrollment refers to course, so the two must be co-located (stored on the same nodes "
        "by their distribution columns): co-locate enrollment with course."
    ]
    # default co-location (same column type) or naming course explicitly is fine
    for colocate in (None, "course", "courses_course"):
        next(m for m in mappings if m.target == "enrollment").colocate_with = colocate
        assert not messages(validate_placements(mappings, catalog), "error"), colocate


def test_foreign_key_from_a_reference_table_to_a_distributed_one_is_not_allowed():
    catalog = course_catalog()
    mappings = mappings_for(
        catalog,
        "degree",
        program="reference",
        meetingtime="reference",
        meetinglocation="reference",
        course="distributed:pid",
        section="reference",
    )
    assert messages(validate_placements(mappings, catalog), "error") == [
        "section is a reference table and refers to course, which is distributed. Citus does "
        "not allow a foreign key from a reference table to a distributed table. section cannot "
        "be distributed by course_id to keep it (its primary key (crn) does not include "
        "course_id), so make course a reference table (a copy on every node, for a table of "
        "modest size), or leave section out of this migration."
    ]


def test_foreign_key_from_a_local_table_to_a_distributed_one_is_not_allowed():
    catalog = course_catalog()
    mappings = mappings_for(catalog, program="reference", course="distributed:pid")
    errors = messages(validate_placements(mappings, catalog), "error")
    assert (
        "coursesectionlink is a local table and refers to course, which is distributed. Citus "
        "accepts a foreign key from a local table to a distributed table but does not enforce "
        "it when rows of the distributed table are deleted, so it is not made. coursesectionlink "
        "cannot be distributed by course_id to keep it (its primary key (id) does not include "
        "course_id), so make course a reference table (a copy on every node, for a table of "
        "modest size), or leave coursesectionlink out of this migration."
    ) in errors


def test_a_referring_table_whose_key_allows_it_is_offered_distribution_by_its_foreign_key():
    """The way out when a table refers to a distributed one: distribute it by the foreign key,
    co-located, where its key includes that column (else the parent as a reference table)."""
    enrollment = Table(
        "courses_enrollment",
        (_col("course_id", f"{V}(30)"), _col("student")),
        primary_key=("course_id", "student"),
        foreign_keys=(_fk("course_id", "courses_course", "pid"),),
    )
    catalog = course_catalog(extra=(enrollment,))
    mappings = mappings_for(
        catalog, "degree", program="reference", course="distributed:pid", enrollment="local"
    )
    errors = messages(validate_placements(mappings, catalog), "error")
    assert errors == [
        "enrollment is a local table and refers to course, which is distributed. Citus accepts "
        "a foreign key from a local table to a distributed table but does not enforce it when "
        "rows of the distributed table are deleted, so it is not made. To keep it, distribute "
        "enrollment by course_id, co-located with course; or make course a reference table, or "
        "leave enrollment out of this migration."
    ]
    # taking that way out leaves nothing to fix
    enroll = next(m for m in mappings if m.target == "enrollment")
    enroll.placement, enroll.distribution_column = Placement.DISTRIBUTED, "course_id"
    enroll.colocate_with = "course"
    assert not messages(validate_placements(mappings, catalog), "error")


def test_distributed_table_may_not_refer_to_a_local_table():
    catalog = course_catalog()
    mappings = mappings_for(catalog, course="distributed:pid")
    assert (
        "course is distributed and refers to program, a local table. A distributed table can "
        "refer only to reference tables and to distributed tables co-located with it: make "
        "program a reference table."
    ) in messages(validate_placements(mappings, catalog), "error")


def test_distribution_column_must_be_not_null():
    visits = Table("courses_visit", (_col("course_id", f"{V}(30)", False), _col("at", "date")))
    catalog = course_catalog(extra=(visits,))
    mappings = mappings_for(catalog, visit="distributed:course_id")
    assert messages(validate_placements(mappings, catalog), "error") == [
        "visit.course_id allows NULL, but visit is distributed by it: the distribution column "
        "must be NOT NULL, and rows with NULL in it would be rejected. Distribute visit by a NOT "
        "NULL column, such as its key."
    ]


def test_a_distributed_table_needs_a_copied_distribution_column():
    catalog = course_catalog()
    mappings = mappings_for(catalog, program="reference", course="distributed")
    assert "Choose the column to distribute course by." in messages(
        validate_placements(mappings, catalog)
    )
    course = next(m for m in mappings if m.target == "course")
    course.distribution_column = "notes"
    course.column("notes").include = False
    assert (
        "course cannot be distributed by notes: it is not one of the columns copied into course."
    ) in messages(validate_placements(mappings, catalog))


def test_distribution_column_may_be_named_by_its_new_name():
    catalog = course_catalog()
    mappings = mappings_for(catalog, program="reference", course="distributed:code")
    for m in mappings:
        m.include = m.target in ("program", "course")
    course = next(m for m in mappings if m.target == "course")
    assert messages(validate_placements(mappings, catalog), "error")  # no column "code" yet
    course.column("pid").target = "code"
    assert not messages(validate_placements(mappings, catalog), "error")
    course.distribution_column = "pid"  # the source name still resolves to the new name
    assert "'code'" in placement_statement(course).as_string(None)


def test_colocated_distribution_columns_need_the_same_type():
    catalog = course_catalog()
    mappings = mappings_for(
        catalog,
        program="reference",
        meetingtime="reference",
        meetinglocation="reference",
        degree="reference",
        course="distributed:pid",
        specialization="distributed:id@course",
    )
    errors = messages(validate_placements(mappings, catalog, foreign_keys=False), "error")
    assert errors == [
        "specialization cannot be co-located with course: their distribution columns have "
        "different types (bigint and character varying)."
    ]
    mappings = mappings_for(catalog, specialization="distributed:id@program")
    assert (
        "specialization is to be co-located with program, which is not a distributed table. "
        "Distribute program too, or choose another table to co-locate with."
    ) in messages(validate_placements(mappings, catalog, foreign_keys=False))


def test_without_foreign_keys_only_the_table_rules_apply():
    catalog = course_catalog()
    mappings = mappings_for(catalog, course="distributed:pid", section="distributed:crn")
    assert messages(validate_placements(mappings, catalog, foreign_keys=False), "error") == []


def test_the_acceptance_layout_passes_with_one_warning():
    catalog = course_catalog()
    problems = validate_placements(acceptance_mappings(catalog), catalog)
    assert [p.severity for p in problems] == ["warning"]
    assert "unique constraint on (slug)" in problems[0].message


def test_placements_need_a_citus_target():
    catalog = course_catalog()
    mappings = acceptance_mappings(catalog)
    assert messages(require_citus(mappings, None)) == [
        "The target database is not a Citus cluster, so program, meetingtime, meetinglocation, "
        "course cannot be made distributed or reference tables there. Set them to local, or "
        "connect to a Citus target such as Azure Cosmos DB for PostgreSQL."
    ]
    assert require_citus(mappings, CitusInfo("12.1-1", 2)) == []
    assert require_citus(default_mappings(catalog), None) == []


# -- statements and order -----------------------------------------------------------------------


def test_placement_statements_quote_names_on_the_server():
    catalog = course_catalog()
    mappings = acceptance_mappings(catalog)
    by_target = {m.target: m for m in mappings}
    assert placement_statement(by_target["program"]).as_string(None) == (
        "SELECT create_reference_table(format('%I.%I', 'public'::text, 'program'::text)::regclass)"
    )
    course = by_target["course"]
    assert placement_statement(course, "app").as_string(None) == (
        "SELECT create_distributed_table(format('%I.%I', 'app'::text, 'course'::text)::regclass, "
        "'pid', colocate_with => 'default')"
    )
    course.colocate_with = "courses_program"  # a source name becomes the target's
    assert "colocate_with => format('%I.%I', 'public'::text, 'program'::text)" in (
        placement_statement(course, mappings=mappings).as_string(None)
    )
    course.target = "it's"  # a quote in a name stays a literal
    assert "'it''s'::text" in placement_statement(course).as_string(None)
    assert placement_statement(by_target["section"]) is None  # local


def test_ddl_script_shows_the_distribution_after_each_create():
    catalog = course_catalog()
    text = ddl_script(catalog, acceptance_mappings(catalog), MigrationOptions())
    create = text.index('CREATE TABLE "public"."course"')
    assert (
        text.index(
            "SELECT create_distributed_table(format('%I.%I', 'public'::text, "
            "'course'::text)::regclass, 'pid'"
        )
        > create
    )


def test_creation_order_puts_colocation_targets_first_and_stages_reference_tables_first():
    catalog = course_catalog()
    mappings = [
        m
        for m in mappings_for(
            catalog,
            program="reference",
            course="distributed:pid@section",
            section="distributed:crn",
        )
        if m.target in ("program", "course", "section", "degree")
    ]
    assert [m.target for m in creation_order(mappings)] == [
        "program",
        "section",
        "course",
        "degree",
    ]
    stages = load_stages(mappings)
    assert [[m.target for m in s] for s in stages] == [["program", "degree"], ["course", "section"]]


def test_distribution_candidates_are_not_null_key_columns_keeping_uniques_first():
    catalog = course_catalog()
    mappings = {m.target: m for m in default_mappings(catalog)}
    assert distribution_candidates(mappings["course"], catalog.table("courses_course")) == ["pid"]
    assert distribution_candidates(
        mappings["specialization"], catalog.table("courses_specialization")
    ) == ["id"]


# -- suggestions ----------------------------------------------------------------------------------


def test_suggestions_for_the_course_schema():
    rows = {
        "courses_program": 88,
        "courses_meetingtime": 709,
        "courses_meetinglocation": 354,
        "courses_course": 500_000,
        "courses_section": 2_000_000,
        "courses_degree": 354,
        "courses_specialization": 250_000,
        "courses_coursesectionlink": 1_000,
    }
    catalog = course_catalog(rows)
    mappings = default_mappings(catalog)
    s = suggest_placements(catalog, mappings)
    assert s["courses_program"] == Suggestion(
        Placement.REFERENCE,
        None,
        "program is a small lookup table (an estimated 88 rows) that 2 other tables refer to: a copy on "
        "every node keeps joins with it on one node.",
    )
    assert s["courses_meetingtime"].placement == Placement.REFERENCE
    assert s["courses_meetinglocation"].placement == Placement.REFERENCE
    assert s["courses_course"] == Suggestion(
        Placement.DISTRIBUTED,
        "pid",
        "course is large (an estimated 500,000 rows): distribute it by pid, a column of its key (pid), "
        "to spread its rows over the worker nodes.",
    )
    assert s["courses_specialization"] == Suggestion(
        Placement.DISTRIBUTED,
        "id",
        "specialization is large (an estimated 250,000 rows): distribute it to spread its rows over the "
        "worker nodes. Its only key is id, so it can be distributed only by id.",
    )
    # degree is small and a distributed table refers to it: it must be a reference table
    assert s["courses_degree"] == Suggestion(
        Placement.REFERENCE,
        None,
        "degree is small (an estimated 354 rows) and specialization, a distributed table, refers to it, "
        "so it must be a reference table (a copy on every node).",
    )
    assert s["courses_coursesectionlink"].placement == Placement.LOCAL
    assert s["courses_coursesectionlink"].reason == (
        "coursesectionlink is small (an estimated 1,000 rows) and can stay a local table on the "
        "coordinator. If you distribute it, its only key is id, so it can be distributed only by "
        "id. It refers to course, which is distributed, so it cannot keep that foreign key as a "
        "local table: distribute coursesectionlink too, or load it without foreign keys."
    )
    apply_suggestions(mappings, s)
    course = next(m for m in mappings if m.target == "course")
    assert (course.placement, course.distribution_column) == (Placement.DISTRIBUTED, "pid")
    # what is left is said by the checks: section cannot keep its key and its FK to course
    errors = messages(validate_placements(mappings, catalog), "error")
    assert any(e.startswith("section refers to course through (course_id)") for e in errors)


def test_small_schema_suggests_reference_lookups_and_local_rest():
    rows = {
        "courses_program": 88,
        "courses_meetingtime": 709,
        "courses_meetinglocation": 354,
        "courses_course": 3547,
    }
    catalog = course_catalog(rows)
    s = suggest_placements(catalog, default_mappings(catalog))
    chosen = {k.removeprefix("courses_"): v.placement.value for k, v in s.items()}
    assert chosen == {
        "program": "reference",
        "meetingtime": "reference",
        "meetinglocation": "reference",
        "course": "local",
        "section": "local",
        "degree": "local",
        "specialization": "local",
        "coursesectionlink": "local",
    }
    mappings = default_mappings(catalog)
    apply_suggestions(mappings, s)
    assert not messages(validate_placements(mappings, catalog), "error")


def test_suggestions_use_counts_and_never_print_a_missing_estimate_as_a_count():
    """A freshly migrated Django database was never ANALYZEd: reltuples is -1, read as an
    unknown estimate. Counted tables are worded as counts, others as estimates, and a table with
    neither gets no size at all (never "about 0 rows")."""
    catalog = course_catalog({"courses_course": 0})
    tables = [
        replace(t, row_estimate_known=False)
        if t.name in ("courses_course", "courses_section")
        else t
        for t in catalog.tables
    ]
    catalog = replace(catalog, tables=tuple(tables))
    assert needs_count(catalog.table("courses_course"))
    assert not needs_count(catalog.table("courses_program"))
    s = suggest_placements(catalog, default_mappings(catalog), row_counts={"courses_course": 3547})
    assert s["courses_course"].reason.startswith("course is small (3,547 rows) and can stay")
    assert s["courses_program"].reason.startswith(
        "program is a small lookup table (an estimated 100 rows)"
    )
    assert s["courses_section"] == Suggestion(
        Placement.LOCAL,
        None,
        "section's size is not known (the source has no row estimate for it and it was not "
        "counted), so it stays local; count its rows for a suggestion.",
    )
    assert not any("about 0 rows" in x.reason or " 0 rows" in x.reason for x in s.values())


# -- detection and Citus's messages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "text"),
    [
        (CitusInfo("12.1-1", 2), "Citus 12.1, 2 worker nodes"),
        (CitusInfo("13.2-1", 1), "Citus 13.2, 1 worker node"),
        (CitusInfo("11.3-2", 0), "Citus 11.3, no worker nodes (a single node holds every shard)"),
        (CitusInfo("12.1-1", None), "Citus 12.1"),
    ],
)
def test_citus_summary(info, text):
    assert info.summary() == text


def test_citus_error_texts_are_recognised():
    assert citus_error_kind('cannot create constraint on "course"') == (
        "constraint_without_distribution_column"
    )
    assert (
        citus_error_kind("cannot create foreign key constraint") == "fk_without_distribution_column"
    )
    assert citus_error_kind(CITUS_MESSAGES["fk_not_colocated"].message) == "fk_not_colocated"
    assert citus_error_kind(
        CITUS_MESSAGES["fk_from_reference_or_local_to_distributed"].message
    ) == ("fk_from_reference_or_local_to_distributed")
    assert citus_error_kind("the partition column of table public.visit cannot be NULL") == (
        "null_distribution_column"
    )
    assert citus_error_kind('duplicate key value violates unique constraint "dt_pkey_102012"') == (
        "unique_violation_on_worker"
    )
    assert citus_error_kind("cannot colocate tables course and section") == "colocate_type_mismatch"
    assert citus_error_kind("relation does not exist") is None


def test_citus_errors_are_said_plainly():
    catalog = course_catalog()
    course = next(m for m in acceptance_mappings(catalog) if m.target == "course")
    assert explain_citus_error(Exception('cannot create constraint on "course"'), course) == (
        "Citus refused to distribute course: every primary key and unique constraint of a "
        "distributed table must include its distribution column (pid)."
    )
    assert explain_citus_error(
        Exception(CITUS_MESSAGES["fk_from_reference_or_local_to_distributed"].message)
    ) == (
        "Citus refused a foreign key: a reference or local table cannot refer to a distributed "
        "table."
    )
    assert explain_citus_error(Exception("something else")) is None
