"""PostgreSQL keeps quoted names exactly: "Title" and "title" are two columns, "Course" and
"course" two tables. Validation must not say they would become one (test_fuzz.py's names can be
such pairs; CSV files for them are kept apart by file_names.safe_file_stem)."""

from __future__ import annotations

from coursemig_gui.core.catalog import Catalog, Column, Table
from coursemig_gui.core.mapping import default_mappings, validate


def _catalog() -> Catalog:
    upper = Table(
        "Course",
        (
            Column("id", "integer", True),
            Column("Title", "text", False),
            Column("title", "text", False),
        ),
        primary_key=("id",),
    )
    lower = Table("course", (Column("id", "integer", True),), primary_key=("id",))
    return Catalog("public", (upper, lower), False, (), frozenset())


def test_names_that_differ_only_by_case_are_two_names():
    catalog = _catalog()
    mappings = default_mappings(catalog)
    assert sorted(m.target for m in mappings) == ["Course", "course"]
    assert [p.message for p in validate(mappings, catalog) if p.is_error] == []


def test_the_very_same_name_twice_is_still_refused():
    catalog = _catalog()
    mappings = default_mappings(catalog)
    upper = next(m for m in mappings if m.source == "Course")
    upper.column("title").target = "Title"
    upper.target = "course"
    errors = [p.message for p in validate(mappings, catalog) if p.is_error]
    assert "Title and title would both become course.Title." in errors
    assert any("would both be copied into the table course" in e for e in errors)


def test_django_history_without_its_own_tables_is_said_before_the_run():
    """Keeping Django's names but unticking auth_user while django_migrations is copied: Django
    would take auth_user as there, and the hand-over's "nothing to migrate" would be false."""
    history = Table("django_migrations", (Column("id", "integer", True),), is_system=True)
    users = Table("auth_user", (Column("id", "integer", True),), is_system=True)
    course = Table("courses_course", (Column("id", "integer", True),), primary_key=("id",))
    catalog = Catalog("public", (history, users, course), True, (), frozenset())
    mappings = default_mappings(catalog, [t.name for t in catalog.tables], keep_names=True)
    assert not [p for p in validate(mappings, catalog) if "migration history" in p.message]
    next(m for m in mappings if m.source == "auth_user").include = False
    warnings = [p for p in validate(mappings, catalog) if "migration history" in p.message]
    assert [p.severity for p in warnings] == ["warning"]
    assert "auth_user as already there" in warnings[0].message
