"""The hand-over's readable files: the model changes, the commands in order, the README."""

from __future__ import annotations

from coursemig_gui.core.django_handover.changes import Changes
from coursemig_gui.core.django_handover.choice import DjangoAppWill
from coursemig_gui.core.django_handover.models_source import py_string
from coursemig_gui.core.django_handover.project import ProjectEdits
from coursemig_gui.core.django_handover.settings_files import PASSWORD_VARIABLE
from coursemig_gui.core.mapping import Placement, TableMapping

CITUS_DJANGO_GUIDE = "https://docs.citusdata.com/en/stable/develop/migration_mt_django.html"
DJANGO_MULTITENANT = "https://github.com/citusdata/django-multitenant"


def models_changes(changes: Changes, edits: ProjectEdits | None) -> str:
    out = ["# Model changes for the new database", ""]
    if not changes.any:
        out += [
            "Every copied table and column kept the name Django gave it: the models need no "
            "change.",
            "",
        ]
    else:
        out += [
            "The tables below were copied under new names. Each model is told its new table with",
            "`db_table` and each renamed column with `db_column`; the Python names (and every",
            "query in the app) stay as they are.",
            "",
        ]
    where = edits.where if edits else {}
    for change in changes.models:
        if not change.needed:
            continue
        cls = edits.class_names.get((change.app, change.model)) if edits else None
        title = f"{change.app}.{cls or change.model}"
        file = where.get(change.app, f"{change.app}/models.py")
        out += [
            f"## {title} (table {change.source_table} → {change.new_table or change.source_table})",
            "",
            f"In `{file}`, class `{cls or _class_hint(change.model)}`:",
            "",
        ]
        if change.new_table:
            out += [
                "```python",
                "    class Meta:",
                f"        db_table = {py_string(change.new_table)}",
                "```",
                "",
            ]
            out += [
                "(Add the `db_table` line to the model's existing `class Meta` if it has one.)",
                "",
            ]
        for fc in change.fields:
            line = edits.new_lines.get((change.app, change.model, fc.field)) if edits else None
            out += [
                f"- field `{fc.field}` (column `{fc.old_column}` → `{fc.new_column}`): add "
                f"`db_column={py_string(fc.new_column)}`"
            ]
            if line:
                out += ["", "  ```python", f"  {line}", "  ```"]
        if change.fields:
            out.append("")
    for m2m in changes.many_to_many:
        cls = edits.class_names.get((m2m.app, m2m.owner_model)) if edits else None
        line = edits.new_lines.get((m2m.app, m2m.owner_model, m2m.field)) if edits else None
        out += [
            f"## {m2m.app}.{cls or m2m.owner_model}.{m2m.field} (many-to-many table "
            f"{m2m.source_table} → {m2m.new_table})",
            "",
            f"On the field `{m2m.field}`: `ManyToManyField(..., "
            f"db_table={py_string(m2m.new_table)})`",
            "",
        ]
        if line:
            out += ["```python", line, "```", ""]
    if edits is not None and edits.patch:
        out += [
            "The same changes as a patch of the project: `models.patch` "
            f"({', '.join(edits.files)}).",
            "",
        ]
    problems = changes.problems + (edits.notes if edits else [])
    if problems:
        out += ["## Needs attention", ""] + [f"- {p}" for p in problems] + [""]
    return "\n".join(out)


def _class_hint(model: str) -> str:
    return f"{model}".capitalize() + f" (Django's model name {model}; the class name in any case)"


def next_steps(
    choice: DjangoAppWill,
    changes: Changes,
    mappings: list[TableMapping],
    has_patch: bool,
    citus: bool,
) -> str:
    copied = {m.source for m in mappings if m.include}
    history_copied = "django_migrations" in copied
    apps = changes.apps
    n = 0

    def step(title: str, *body: str) -> list[str]:
        nonlocal n
        n += 1
        return [f"{n}. {title}", *[f"   {b}" if b else "" for b in body], ""]

    out = [
        "# Connecting the Django app to the new database",
        "",
        "Run these in the project folder (where manage.py is), in this order.",
        "",
    ]
    if choice == DjangoAppWill.NO:
        out += [
            "This migration was set up for other programs, not for the Django app. If the app",
            "should use the new database after all, follow the steps below.",
            "",
        ]
    if changes.any:
        if has_patch:
            out += step(
                "Apply the model changes (from this folder's models.patch):",
                "    patch -p1 -d /path/to/the/project < models.patch",
                "Or make them by hand from models_changes.md.",
            )
        else:
            out += step("Make the model changes listed in models_changes.md (db_table, db_column).")
        out += step(
            f"python manage.py makemigrations {' '.join(apps)}",
            "Records the new table and column names as a new migration, so Django's",
            "migration history matches the models. Commit it with the model changes.",
        )
    out += step(
        "Point the app at the new database.",
        "Use database_settings.py (DATABASES) or DATABASE_URL.txt, and set the password",
        f"where the app runs: export {PASSWORD_VARIABLE}='...'",
        "The password is in none of these files.",
    )
    if changes.any:
        out += step(
            f"python manage.py migrate {' '.join(apps)} --fake"
            if len(apps) == 1
            else "; ".join(f"python manage.py migrate {a} --fake" for a in apps),
            "Marks the app's migrations (the new one too) as applied on the new database",
            "without touching its tables: CourseMig already made them under the new names.",
            "Run it on the NEW database only."
            + (
                ""
                if history_copied
                else " It also marks the migrations these apps depend on"
                " as applied; if an app depends on Django's own apps (a ForeignKey to User,"
                " say), run 'python manage.py migrate auth' (etc.) first."
            ),
        )
    if history_copied:
        out += step(
            "python manage.py migrate",
            "Django's own tables and migration history were copied, so this should say",
            '"No migrations to apply." If it lists migrations, stop and ask: the new',
            "database does not match the app's migrations.",
        )
    else:
        out += step(
            "python manage.py migrate",
            "Django's own tables (users, sessions, admin log, content types) were not",
            "copied: this creates them, empty. Users and passwords from the old",
            "database are not carried over.",
        )
    out += step(
        "python manage.py check",
        "Checks the project's settings and models; it should report no issues.",
    )
    out += step("Try it: open the app (or python manage.py shell) and read a few records.")
    if citus:
        out += citus_notes(mappings)
    return "\n".join(out)


def citus_notes(mappings: list[TableMapping]) -> list[str]:
    distributed = [m for m in mappings if m.include and m.placement == Placement.DISTRIBUTED]
    reference = [m.target for m in mappings if m.include and m.placement == Placement.REFERENCE]
    out = ["## On Citus (Azure Cosmos DB for PostgreSQL)", ""]
    if distributed:
        out += ["These tables are distributed (split across worker nodes) by one column:", ""]
        out += [f"- {m.target} by {m.distribution_column}" for m in distributed] + [""]
        out += [
            "Django queries that filter on that column (for example "
            "`.filter(<column>=...)`) go to one node and are fast. Queries without it run on",
            "every node. Joins between two distributed tables work when both are distributed",
            "by the joined column (co-located); a foreign key between them, and any unique",
            "field, must include the distribution column. Creating or changing such tables",
            "through Django migrations needs care: run the DDL, then create_distributed_table.",
            "",
        ]
    else:
        out += [
            "No table was distributed: every table is a normal (local) or reference table, "
            "so the app's queries work as on any PostgreSQL.",
            "",
        ]
    if reference:
        out += [f"Reference tables (a full copy on every node): {', '.join(reference)}.", ""]
    out += [
        f"Citus' guide for Django apps: {CITUS_DJANGO_GUIDE}",
        f"Citus' Django library (adds the tenant column to queries): {DJANGO_MULTITENANT}",
        "",
    ]
    return out


def readme(choice: DjangoAppWill, target_name: str, changes: Changes, has_patch: bool) -> str:
    lines = [
        "CONNECTING THE DJANGO APP TO THE NEW DATABASE",
        "=" * 46,
        "",
        f"The tables were copied to {target_name}.",
        "",
    ]
    if choice == DjangoAppWill.KEEP_NAMES and not changes.any:
        lines += [
            "The copy kept every name the app expects, and Django's own tables came along.",
            "The developer only changes the database address in the app's settings.",
            "",
        ]
    elif changes.any:
        lines += [
            "Some tables and columns have new names (for example "
            f"{_example(changes)}). The app keeps working once its developer tells it",
            "the new names; this folder says exactly where.",
            "",
        ]
    else:
        lines += ["No table or column was renamed; the app needs the new address only.", ""]
    if choice == DjangoAppWill.NO:
        lines += [
            "This copy was made for other programs. If the Django app should use it too,",
            "the developer can still follow next_steps.md.",
            "",
        ]
    lines += [
        "Forward this folder to the app's developer. It holds:",
        "  next_steps.md        the commands to run, in order, and what each one does",
        "  database_settings.py the new database for Django's settings (DATABASES)",
        "  DATABASE_URL.txt     the same as one line, for projects that use DATABASE_URL",
        "  models_changes.md    the exact lines to add to the app's models",
    ]
    if has_patch:
        lines.append("  models.patch         the same changes, ready to apply to the project")
    lines += [
        "",
        "No password is in these files. Give the developer the database password separately",
        f"(not by e-mail); the app reads it from the {PASSWORD_VARIABLE} setting where it runs.",
        "",
        "The old database is not changed by any of this. Keep it until the app has run on the",
        "new one for a while.",
    ]
    problems = changes.problems
    if problems:
        lines += ["", "NEEDS ATTENTION:"] + [f"  - {p}" for p in problems]
    return "\n".join(lines) + "\n"


def _example(changes: Changes) -> str:
    for change in changes.models:
        if change.new_table:
            return f"{change.source_table} is now {change.new_table}"
        if change.fields:
            fc = change.fields[0]
            return f"the column {fc.old_column} is now {fc.new_column}"
    m2m = changes.many_to_many[0]
    return f"{m2m.source_table} is now {m2m.new_table}"


def whats_next(choice: DjangoAppWill, changes: Changes, target_name: str) -> str:
    """The Summary page's "What's next", true for each answer (plain text, one paragraph)."""
    if choice == DjangoAppWill.KEEP_NAMES and not changes.any:
        return (
            f"The Django app can use {target_name} as it is: every name it expects was kept and "
            "Django's own tables came along. Only its database settings change. Forward the "
            "hand-over folder to the app's developer: it has the settings (without the password) "
            "and the commands that check everything."
        )
    if choice == DjangoAppWill.NO:
        if changes.any:
            return (
                "The tables were copied for other programs under new names. The Django app still "
                "uses the old database and cannot use this copy unchanged (its models expect "
                f"{_example(changes).split(' is now ')[0]}). If it should, the hand-over folder "
                "lists what its developer must change."
            )
        return (
            "The tables were copied for other programs. The Django app still uses the old "
            "database; the hand-over folder says how to point it here if it should."
        )
    if changes.any:
        return (
            f"The Django app cannot use {target_name} until its models are told the new names "
            f"({_example(changes)}). Forward the hand-over folder to the app's developer: it has "
            "the exact model changes (choose the project folder to get them as a patch), the "
            "settings without the password, and the commands to run, in order."
        )
    return (
        f"No name changed: the Django app can use {target_name} once its database settings "
        "point there. Forward the hand-over folder to the app's developer."
    )
