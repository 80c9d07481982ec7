"""What the source's catalog says about each Django model's table, kept in the profile.

Django names a model's table ``<app_label>_<model>``, a foreign key's column ``<field>_id`` and
an automatic many-to-many table ``<owner table>_<field>``; reading those back from the catalog
finds the field behind every column without importing the project.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from coursemig_gui.core.catalog import Catalog, Table, django_model_name


@dataclass
class ModelFacts:
    table: str  # the source table, e.g. courses_course
    app: str  # the Django app label, e.g. courses
    model: str  # Django's lower-case model name (meetingtime); for an M2M table, its own name
    system: bool = False  # Django's own (auth, contenttypes, sessions, admin)
    # column -> field: program_id -> program
    fk_fields: dict[str, str] = field(default_factory=dict)
    m2m_owner: str | None = None  # an automatic M2M table: the owning model's source table
    m2m_field: str | None = None  # ... and the ManyToManyField's name (sections)

    def field_for(self, column: str) -> str:
        """The model field behind a column: ``program_id`` -> ``program``, ``end`` -> ``end``."""
        return self.fk_fields.get(column, column)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelFacts:
        return cls(**data)


def model_facts(catalog: Catalog, tables: list[str]) -> list[ModelFacts]:
    """Facts for the chosen tables and every other table of their apps (a model whose table was
    not copied breaks the app too, so the hand-over must be able to say so)."""
    if not catalog.is_django:
        return []
    chosen = set(tables)
    apps = {t.app for t in catalog.tables if t.name in chosen and t.app and not t.is_system}
    found = []
    for table in catalog.tables:
        if table.app is None:
            continue
        if table.name in chosen or (table.app in apps and not table.is_system):
            found.append(_facts(table, catalog))
    return found


def _facts(table: Table, catalog: Catalog) -> ModelFacts:
    assert table.app is not None
    fk_fields = {
        fk.columns[0]: fk.columns[0][: -len("_id")]
        for fk in table.foreign_keys
        if len(fk.columns) == 1 and fk.columns[0].endswith("_id")
    }
    owner, m2m_field = None, None
    if table.is_m2m:
        # the owner's table is the prefix: courses_coursesectionlink + _sections
        for fk in table.foreign_keys:
            if table.name.startswith(fk.ref_table + "_"):
                ref = catalog.table(fk.ref_table)
                if ref is not None and ref.app == table.app:
                    owner, m2m_field = fk.ref_table, table.name[len(fk.ref_table) + 1 :]
                    break
    return ModelFacts(
        table=table.name,
        app=table.app,
        model=django_model_name(table.name, table.app),
        system=table.is_system,
        fk_fields=fk_fields,
        m2m_owner=owner,
        m2m_field=m2m_field,
    )
