"""The question asked early: will the Django app use the new database, and under which names?"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from coursemig_gui.core.catalog import Catalog
from coursemig_gui.core.django_handover.facts import ModelFacts
from coursemig_gui.core.mapping import TableMapping, rename_reserved_words


class DjangoAppWill(StrEnum):
    """The three answers; the values are the CLI flag's words and the profile's."""

    KEEP_NAMES = "keep-names"  # the app moves over unchanged: Django's names, its own tables too
    NEW_NAMES = "new-names"  # course, end_time: the app's models get db_table / db_column
    NO = "no"  # other programs read the tables (the behaviour before the question existed)

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def explanation(self) -> str:
        return _EXPLANATIONS[self]


_LABELS = {
    DjangoAppWill.KEEP_NAMES: "Yes, keep Django's names",
    DjangoAppWill.NEW_NAMES: "Yes, with new names",
    DjangoAppWill.NO: "No, other programs will read the tables",
}
_EXPLANATIONS = {
    DjangoAppWill.KEEP_NAMES: (
        "Tables and columns keep the names the app's models expect (courses_course, end), and "
        "Django's own tables (users, migrations, content types) are copied too. The app only "
        "needs the new database's address."
    ),
    DjangoAppWill.NEW_NAMES: (
        "Tables lose the app prefix (course) and reserved words are renamed (end_time). "
        "CourseMig writes the exact model changes a developer applies to the app."
    ),
    DjangoAppWill.NO: (
        "Tables get short names for reports and other programs. The Django app is not set up "
        "to use this copy."
    ),
}


@dataclass
class DjangoPlan:
    """What a profile keeps about the Django app: the answer, and the models as they were read
    from the source (so the hand-over can be written later without connecting)."""

    app_will: DjangoAppWill = DjangoAppWill.NO
    models: list[ModelFacts] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"app_will": self.app_will.value, "models": [m.to_dict() for m in self.models]}

    @classmethod
    def from_dict(cls, data: dict) -> DjangoPlan:
        return cls(
            app_will=DjangoAppWill(data.get("app_will", DjangoAppWill.NO.value)),
            models=[ModelFacts.from_dict(m) for m in data.get("models", [])],
        )


def tables_for_choice(choice: DjangoAppWill, catalog: Catalog, chosen: list[str]) -> list[str]:
    """Keeping Django's names adds Django's own tables: with ``django_migrations`` copied,
    ``manage.py migrate`` on the new database finds nothing left to apply, and the tables of every
    migration it records (users, sessions, admin log) must be there too."""
    if choice != DjangoAppWill.KEEP_NAMES or not catalog.is_django:
        return list(chosen)
    extra = [t.name for t in catalog.tables if t.is_system and t.name not in chosen]
    return list(chosen) + extra


def shape_mappings(choice: DjangoAppWill, catalog: Catalog, mappings: list[TableMapping]) -> None:
    """Set the names the answer implies. Keep: every table and column as Django named it.
    New names: the prefix is already stripped by default; reserved words are renamed, and
    Django's own tables keep their names (Django's models for them cannot be changed)."""
    if choice == DjangoAppWill.NO:
        return
    for tm in mappings:
        table = catalog.table(tm.source)
        if choice == DjangoAppWill.KEEP_NAMES or (table is not None and table.is_system):
            tm.target = tm.source
            for cm in tm.columns:
                cm.target = cm.source
    if choice == DjangoAppWill.NEW_NAMES:
        app_tables = [tm for tm in mappings if not _is_system(catalog, tm.source)]
        rename_reserved_words(app_tables, catalog.reserved_words)


def _is_system(catalog: Catalog, name: str) -> bool:
    table = catalog.table(name)
    return bool(table and table.is_system)
