"""Writes the hand-over folder a person forwards to the app's developer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from coursemig_gui.core.django_handover.cautions import grants_section, owner_sentence, skipped_rows
from coursemig_gui.core.django_handover.changes import compute_changes
from coursemig_gui.core.django_handover.choice import DjangoPlan
from coursemig_gui.core.django_handover.documents import models_changes, next_steps, readme
from coursemig_gui.core.django_handover.project import migration_dependencies, project_edits
from coursemig_gui.core.django_handover.settings_files import (
    PASSWORD_VARIABLE,
    database_url_file,
    settings_snippet,
)
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.mapping import Placement, TableMapping
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.outcome import Outcome

HANDOVER_PASSWORD_VARIABLE = PASSWORD_VARIABLE


@dataclass
class Handover:
    folder: Path
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # sentences: what will not work as is
    has_patch: bool = False


def as_held(mappings: list[TableMapping], report) -> list[TableMapping]:
    """The mappings with each table's placement as the run found it on the cluster (``report``:
    core.report.MigrationReport): a table that was there before keeps its own, whatever the
    plan said, and the developer's notes must say where it is."""
    held = {t.target: t for t in report.tables if t.placement} if report is not None else {}
    return [
        replace(
            m,
            placement=Placement(held[m.target].placement),
            distribution_column=held[m.target].distribution_column,
        )
        if m.target in held
        else m
        for m in mappings
    ]


def write_handover(
    folder: Path,
    target,  # core.connection.ConnectionSettings
    mappings: list[TableMapping],
    django: DjangoPlan,
    options: MigrationOptions | None = None,
    project: Path | None = None,
    citus: bool | None = None,
    copied: bool = False,  # True after a run that copied the tables (README says so)
    report=None,  # core.report.MigrationReport of that run: its skipped rows are said
) -> Handover:
    """Write README.txt, next_steps.md, database_settings.py, DATABASE_URL.txt,
    models_changes.md and (with a project folder) models.patch into ``folder``."""
    if target is None:
        raise FriendlyError("This migration has no target database to hand over.", "")
    if not django.models:
        raise FriendlyError(
            "This migration does not record the Django app's models (it was saved by an older "
            "CourseMig, or the source is not a Django database). Plan it again to write the "
            "hand-over.",
            "profile: django.models is empty",
        )
    if project is not None and not Path(project).is_dir():
        raise FriendlyError(f"The project folder {project} does not exist.", str(project))
    options = options or MigrationOptions()
    changes = compute_changes(mappings, django.models)
    edits = project_edits(Path(project), changes) if project is not None else None
    mappings = as_held(mappings, report)
    if citus is None:
        citus = target.is_cosmos or any(
            m.placement != Placement.LOCAL for m in mappings if m.include
        )
    has_patch = bool(edits and edits.patch)
    problems = changes.problems + (edits.notes if edits else [])
    history_copied = any(m.include and m.source == "django_migrations" for m in mappings)
    dependencies = (
        {app: migration_dependencies(Path(project), app) for app in _copied_apps(mappings, django)}
        if project is not None
        else None
    )
    cautions = handover_cautions(target, report, copied)
    access = grants_section(target.user, options.target_schema, mappings) if target.user else []
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "README.txt": readme(
            django.app_will,
            target.display_name(),
            changes,
            has_patch,
            history_copied,
            problems,
            copied=copied,
            cautions=cautions,
        ),
        "next_steps.md": next_steps(
            django.app_will,
            changes,
            mappings,
            django.models,
            has_patch,
            citus,
            dependencies,
            access=access,
        ),
        "database_settings.py": settings_snippet(target, options.target_schema),
        "DATABASE_URL.txt": database_url_file(target, options.target_schema),
        "models_changes.md": models_changes(changes, edits),
    }
    if has_patch and edits is not None:
        texts["models.patch"] = edits.patch
    stale = folder / "models.patch"
    if not has_patch and stale.exists():
        stale.unlink()  # a patch from an earlier hand-over would no longer match
    result = Handover(folder, has_patch=has_patch)
    for name, text in texts.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        result.files.append(path)
    result.problems = problems
    return result


def handover_cautions(target, report, copied: bool = True) -> list[str]:
    """What the Summary's "What's next" adds: the run's skipped rows, who may use the tables."""
    owner = owner_sentence(target.user, copied) if target is not None and target.user else ""
    return [c for c in (skipped_rows(report), owner) if c]


def handover_due(report) -> bool:
    """Whether a run's Summary writes the hand-over: only after tables were really copied
    into a database (not a test run, not CSV files, not a failed run)."""
    return (
        report is not None
        and not report.test_run
        and Route(report.route).writes_database
        and report.exit_code not in (Outcome.FAILED, Outcome.USAGE)
    )


def _copied_apps(mappings: list[TableMapping], django: DjangoPlan) -> list[str]:
    copied = {m.source for m in mappings if m.include}
    return list(dict.fromkeys(f.app for f in django.models if f.table in copied and not f.system))
