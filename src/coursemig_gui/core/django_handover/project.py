"""The developer's project folder: the changes as a patch of the apps' models files."""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from pathlib import Path

from coursemig_gui.core.django_handover.changes import Changes
from coursemig_gui.core.django_handover.models_source import (
    SourceEditor,
    find_model,
    find_models_files,
    read_models,
)


@dataclass
class ProjectEdits:
    patch: str = ""  # a unified diff for `patch -p1 -d PROJECT`; empty when nothing changes
    files: list[str] = field(default_factory=list)  # the files it changes, relative to PROJECT
    class_names: dict[tuple[str, str], str] = field(default_factory=dict)  # (app, model) -> Course
    where: dict[str, str] = field(default_factory=dict)  # app -> courses/models.py
    new_lines: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (app, model, field)
    notes: list[str] = field(default_factory=list)  # what could not be found, in sentences


@dataclass
class _File:
    path: Path
    relative: str
    text: str
    models: list
    editor: SourceEditor


def project_edits(project: Path, changes: Changes) -> ProjectEdits:
    """Read each changed app's models with ``ast`` and write the edits as one unified diff.

    Field names in ``changes`` are corrected from the source (a field with its own
    ``db_column`` is found by that column)."""
    project = Path(project)
    edits = ProjectEdits()
    files: dict[str, list[_File]] = {}
    for app in changes.apps:
        found = []
        for path in find_models_files(project, app):
            try:
                text = path.read_text(encoding="utf-8")
                tree = ast.parse(text, filename=str(path))
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as exc:
                edits.notes.append(f"{path} could not be read ({exc}); edit it by hand.")
                continue
            relative = path.resolve().relative_to(project.resolve()).as_posix()
            found.append(_File(path, relative, text, read_models(tree), SourceEditor(text)))
        if not found:
            edits.notes.append(
                f"The app {app} was not found in {project} (no folder {app} with a models.py); "
                "make its changes by hand from models_changes.md."
            )
        else:
            edits.where[app] = found[0].relative
        files[app] = found

    def locate(app: str, model: str, table: str):
        for f in files.get(app, []):
            source = find_model(f.models, app, model, table)
            if source is not None:
                edits.class_names[(app, model)] = source.class_name
                return f, source
        if files.get(app):
            edits.notes.append(
                f"The model {app}.{model} (table {table}) was not found in "
                f"{edits.where[app]}; make its changes by hand."
            )
        return None, None

    for change in changes.models:
        if not change.needed:
            continue
        f, source = locate(change.app, change.model, change.source_table)
        if f is None or source is None:
            continue
        if change.new_table:
            f.editor.set_db_table(source, change.new_table)
        for fc in change.fields:
            fc.field = source.field_for_column(fc.old_column) or fc.field
            field_source = source.fields.get(fc.field)
            if field_source is None:
                edits.notes.append(
                    f"{source.class_name} in {f.relative} has no field for the "
                    f"column {fc.old_column}; add db_column by hand."
                )
                continue
            f.editor.set_keyword(field_source.call, "db_column", fc.new_column)
    for m2m in changes.many_to_many:
        f, source = locate(m2m.app, m2m.owner_model, m2m.owner_table)
        field_source = source.fields.get(m2m.field) if source else None
        if f is None or field_source is None:
            continue
        f.editor.set_keyword(field_source.call, "db_table", m2m.new_table)

    diffs = []
    for app, app_files in files.items():
        for f in app_files:
            if not f.editor.edits:
                continue
            new_text = f.editor.result()
            diffs.append(_unified_diff(f.text, new_text, f.relative))
            edits.files.append(f.relative)
            _collect_new_lines(edits, app, new_text)
    edits.patch = "".join(diffs)
    return edits


def _collect_new_lines(edits: ProjectEdits, app: str, new_text: str) -> None:
    """The edited field statements as they now read, for models_changes.md."""
    tree = ast.parse(new_text)
    wanted = {cls: model for (a, model), cls in edits.class_names.items() if a == app}
    for model in read_models(tree):
        if model.class_name not in wanted:
            continue
        for name, fs in model.fields.items():
            segment = ast.get_source_segment(new_text, fs.call) or ""
            if "db_column=" in segment or "db_table=" in segment:
                edits.new_lines[(app, wanted[model.class_name], name)] = f"{name} = {segment}"


def _unified_diff(old: str, new: str, relative: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"a/{relative}",
        f"b/{relative}",
    )
    out = []
    for line in lines:
        if not line.endswith("\n"):  # the file's last line has no newline: say so, as diff does
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def migration_dependencies(project: Path, app: str) -> set[str]:
    """The other apps an app's migrations depend on, read from its ``migrations`` folder.
    ``swappable_dependency(settings.AUTH_USER_MODEL)`` counts as ``auth`` (Django's default user
    model; a project with its own names it in AUTH_USER_MODEL)."""
    found: set[str] = set()
    for models_file in find_models_files(Path(project), app):
        app_dir = (
            models_file.parent if models_file.name == "models.py" else models_file.parent.parent
        )
        for path in sorted((app_dir / "migrations").glob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "dependencies" for t in node.targets
                ):
                    found |= _dependency_apps(node.value)
        break
    found.discard(app)
    return found


def _dependency_apps(value: ast.AST) -> set[str]:
    apps: set[str] = set()
    for item in getattr(value, "elts", []):
        if isinstance(item, ast.Tuple) and item.elts and isinstance(item.elts[0], ast.Constant):
            if isinstance(item.elts[0].value, str) and item.elts[0].value != "__setting__":
                apps.add(item.elts[0].value)
        elif (
            isinstance(item, ast.Call) and getattr(item.func, "attr", "") == "swappable_dependency"
        ):
            apps.add("auth")
    return apps
