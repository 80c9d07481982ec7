"""What the pages build up together: the migration being set up, page by page.

One plain object shared by the pages (no Qt in it): each page reads it when shown and writes it
when the user moves on. It converts to and from a saved profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from coursemig_gui.core.catalog import Catalog
from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.django_handover.choice import DjangoAppWill, DjangoPlan
from coursemig_gui.core.django_handover.facts import ModelFacts, model_facts
from coursemig_gui.core.import_source import ImportSource
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.profile import Profile
from coursemig_gui.core.report import MigrationReport


@dataclass
class ConnectionCheck:
    """What a successful "Test connection" found out."""

    summary: str  # "Connected to PostgreSQL 15.4 · Django app detected (courses, auth, …)"
    problems: list[str] = field(default_factory=list)  # pre-flight findings, plain sentences
    catalog: Catalog | None = None
    has_citus: bool = False
    existing_tables: frozenset[str] = frozenset()  # on a target: tables already there


@dataclass
class WizardState:
    name: str = "Untitled migration"
    profile_path: Path | None = None
    source: ConnectionSettings | None = None
    source_password: str | None = None
    target: ConnectionSettings | None = None
    target_password: str | None = None
    source_check: ConnectionCheck | None = None
    target_check: ConnectionCheck | None = None
    selected: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)  # counted on the Tables page
    mappings: list[TableMapping] = field(default_factory=list)
    options: MigrationOptions = field(default_factory=MigrationOptions)
    report: MigrationReport | None = None
    # the profile's mappings, kept until the catalog is read and they can be matched to it
    saved_mappings: list[TableMapping] = field(default_factory=list)
    # "Will the Django app use the new database?" and the models a saved migration recorded
    django_app_will: DjangoAppWill = DjangoAppWill.NO
    saved_django_models: list[ModelFacts] = field(default_factory=list)
    django_project: Path | None = None  # the app's project folder, for models.patch
    # "Import CSV files" on its own: no source database; the tables come from these files
    import_only: bool = False
    import_path: Path | None = None  # the folder or .zip chosen on the Connect page
    # the package or files chosen to import: their proposed types (files without a manifest),
    # the names chosen at export (a package)
    import_source: ImportSource | None = None

    @property
    def catalog(self) -> Catalog | None:
        return self.source_check.catalog if self.source_check else None

    @property
    def target_has_citus(self) -> bool:
        return bool(self.target_check and self.target_check.has_citus)

    def mapping(self, source: str) -> TableMapping | None:
        return next((m for m in self.mappings if m.source == source), None)

    def django_plan(self) -> DjangoPlan:
        tables = [m.source for m in self.mappings if m.include]
        models = model_facts(self.catalog, tables) if self.catalog else self.saved_django_models
        return DjangoPlan(self.django_app_will, models)

    def to_profile(self) -> Profile:
        return Profile(
            name=self.name,
            source=self.source,
            target=self.target,
            tables=[m for m in self.mappings if m.include],
            options=self.options.with_absolute_folders(),  # a later run starts elsewhere
            django=self.django_plan(),
        )

    @classmethod
    def from_profile(cls, profile: Profile, path: Path | None = None) -> WizardState:
        return cls(
            name=profile.name,
            profile_path=path,
            source=profile.source,
            target=profile.target,
            selected=[t.source for t in profile.tables if t.include],
            options=profile.options,
            saved_mappings=list(profile.tables),
            django_app_will=profile.django.app_will,
            saved_django_models=list(profile.django.models),
        )
