"""The hand-over's readable files: the model changes, the commands in order, the README."""

from __future__ import annotations

import textwrap

from coursemig_gui.core.django_handover.changes import Changes
from coursemig_gui.core.django_handover.choice import DjangoAppWill
from coursemig_gui.core.django_handover.facts import ModelFacts
from coursemig_gui.core.django_handover.models_source import py_string
from coursemig_gui.core.django_handover.project import ProjectEdits
from coursemig_gui.core.django_handover.settings_files import PASSWORD_VARIABLE
from coursemig_gui.core.mapping import Placement, TableMapping

CITUS_DJANGO_GUIDE = "https://docs.citusdata.com/en/stable/develop/migration_mt_django.html"
DJANGO_MULTITENANT = "https://github.com/citusdata/django-multitenant"


def models_changes(changes: Changes, edits: ProjectEdits | None) -> str:
    out = ["# Model changes for the new database", ""]
    if not changes.any and changes.types:
        out += [
            "Every copied table and column kept the name Django gave it, but some columns were",
            "copied with another type: the models must match them (see Needs attention).",
            "",
        ]
    elif not changes.any:
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
            _class_hint(file, change.model, cls),
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


def _class_hint(file: str, model: str, cls: str | None) -> str:
    if cls:
        return f"In `{file}`, class `{cls}`:"
    # without the project, only Django's lower-case model name is known
    return f"In `{file}`, the model whose class name is `{model}` in any letter case:"


def next_steps(
    choice: DjangoAppWill,
    changes: Changes,
    mappings: list[TableMapping],
    models: list[ModelFacts],
    has_patch: bool,
    citus: bool,
    dependencies: dict[str, set[str]] | None = None,
    access: list[str] | None = None,
) -> str:
    """The commands in order, each with what it does. ``dependencies``: the apps each faked
    app's migrations depend on (read from the project), or None when no project was given;
    ``access``: the section on who may use the tables (cautions.grants_section)."""
    copied = {m.source for m in mappings if m.include}
    history_copied = "django_migrations" in copied
    copied_apps = list(dict.fromkeys(f.app for f in models if f.table in copied and not f.system))
    # Without the copied history, every copied app's migrations are faked (its tables exist);
    # with it, only the new migration makemigrations writes is left to fake.
    fake_apps = changes.apps if history_copied else copied_apps
    n = 0

    def step(title: str, *body: str, commands: tuple[str, ...] = ()) -> list[str]:
        nonlocal n
        n += 1
        lines = [f"{n}. {title}"] + [f"       {c}" for c in commands]
        text = " ".join(body)
        if text:
            lines += textwrap.wrap(text, 88, initial_indent="   ", subsequent_indent="   ")
        return lines + [""]

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
                "Apply the model changes (this folder's models.patch):",
                "Or make them by hand from models_changes.md.",
                commands=("patch -p1 -d /path/to/the/project < models.patch",),
            )
        else:
            out += step("Make the model changes listed in models_changes.md (db_table, db_column).")
        out += step(
            f"python manage.py makemigrations {' '.join(changes.apps)}",
            "Records the new table and column names as a new migration, so Django's "
            "migration history matches the models. Commit it with the model changes.",
        )
    out += step(
        "Point the app at the new database.",
        "Use database_settings.py (DATABASES) or DATABASE_URL.txt, and set the password "
        f"where the app runs: export {PASSWORD_VARIABLE}='...' The password is in none "
        "of these files.",
    )
    if not history_copied and fake_apps:
        needed = sorted(set().union(*(dependencies or {}).values()) - set(fake_apps))
        for app in needed:
            out += step(
                f"python manage.py migrate {app}",
                f"{', '.join(fake_apps)} depend{'s' if len(fake_apps) == 1 else ''} on "
                f"{app}, whose tables were not copied: this creates them (empty) before "
                "the next step marks migrations as done.",
            )
        caveat = (
            ""
            if dependencies is not None
            else (
                " It also marks the migrations these apps depend on as applied: if an app depends "
                "on Django's own apps (a ForeignKey to User, say), run 'python manage.py migrate "
                "auth' (and so on) first."
            )
        )
    else:
        caveat = ""
    for app in fake_apps:
        out += step(
            f"python manage.py migrate {app} --fake",
            f"Marks the {app} app's migrations"
            + (" (the new one too)" if changes.any else "")
            + " as applied on the new database without touching its tables: CourseMig "
            "already made them" + (" under the new names" if changes.any else "") + ". "
            "Run it on the NEW database only." + caveat,
        )
    if history_copied:
        out += step(
            "python manage.py migrate",
            "Django's own tables and migration history were copied, so this should say "
            '"No migrations to apply." If it lists migrations, stop and ask: the new '
            "database does not match the app's migrations.",
        )
    else:
        out += step(
            "python manage.py migrate",
            "Django's own tables (users, sessions, admin log, content types) were not "
            "copied: this creates them, empty. Users and passwords from the old database "
            "are not carried over.",
        )
    out += step(
        "python manage.py check",
        "Checks the project's settings and models; it should report no issues.",
    )
    out += step("Try it: open the app (or python manage.py shell) and read a few records.")
    out += access or []
    if citus:
        out += citus_notes(mappings, models)
    return "\n".join(out)


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, 88) + [""]


def citus_notes(mappings: list[TableMapping], models: list[ModelFacts]) -> list[str]:
    facts = {f.table: f for f in models}
    distributed = [m for m in mappings if m.include and m.placement == Placement.DISTRIBUTED]
    reference = [m.target for m in mappings if m.include and m.placement == Placement.REFERENCE]
    out = ["## On Citus (Azure Cosmos DB for PostgreSQL)", ""]
    if distributed:
        out += ["These tables are distributed (split across the worker nodes) by one column:", ""]
        for m in distributed:
            source = next(
                (c.source for c in m.columns if c.target == m.distribution_column),
                m.distribution_column or "",
            )
            fact = facts.get(m.source)
            field = fact.field_for(source) if fact else source
            model = f"the {fact.model} model" if fact else m.target
            out.append(
                f"- {m.target} by {m.distribution_column}: queries on {model} that "
                f"filter on it, `.filter({field}=...)`, go to one node"
            )
        out.append("")
        out += _wrap(
            "Queries without the distribution column run on every node: they work, but cost "
            "more. Joins between two distributed tables work when both are distributed by the "
            "joined column (co-located); a foreign key between two distributed tables, and any "
            "unique field of one, must include the distribution column. A foreign key from a "
            "distributed table to a reference table is fine. Citus passes ALTER TABLE changes "
            "made by later Django migrations on to every node; a new model's table is created "
            "as a normal table, and a RunSQL step calling create_distributed_table (or "
            "create_reference_table) distributes it."
        )
    else:
        out += _wrap(
            "No table was distributed: every table is a normal (local) or reference "
            "table, so the app's queries work as on any PostgreSQL."
        )
    if reference:
        out += _wrap(f"Reference tables (a full copy on every node): {', '.join(reference)}.")
    out += [
        f"Citus' guide for Django apps: {CITUS_DJANGO_GUIDE}",
        f"Citus' Django library (adds the tenant column to queries): {DJANGO_MULTITENANT}",
        "",
    ]
    return out


def readme(
    choice: DjangoAppWill,
    target_name: str,
    changes: Changes,
    has_patch: bool,
    history_copied: bool,
    problems: list[str],
    copied: bool = False,
    cautions: list[str] | None = None,
) -> str:
    """One page a non-developer can forward: what happened, what is in the folder, no jargon.
    ``copied``: written after a run that copied the tables (the wizard); the command line can
    write it from a saved migration that has not run yet, so then it says what the run does.
    ``cautions``: paragraphs the developer must read (skipped rows, who may use the tables)."""
    out = ["CONNECTING THE DJANGO APP TO THE NEW DATABASE", "=" * 45, ""]
    if copied:
        out += _wrap(
            f"The tables were copied to {target_name}. The old database was not changed; "
            "keep it until the app has run on the new one for a while."
        )
    else:
        out += _wrap(
            f"This saved migration copies the tables to {target_name} when it runs (coursemig "
            "run, or the wizard's Migrate page); do that before the app moves. It does not "
            "change the old database: keep it until the app has run on the new one for a while."
        )
    if changes.any:
        out += _wrap(
            f"Some tables or columns have new names (for example {_example(changes)}). "
            "The app works with them once its developer tells it the new names; this "
            "folder says exactly where."
        )
    elif history_copied:
        out += _wrap(
            "The copy keeps every name the app expects, and Django's own tables come "
            "along: the developer only changes the database address in the app's "
            "settings."
        )
    else:
        out += _wrap(
            "No table or column was renamed: the app needs the new database's address, "
            "and its developer runs the short list of commands in next_steps.md."
        )
    if choice == DjangoAppWill.NO:
        out += _wrap(
            "This copy was made for other programs. If the Django app should use it "
            "too, its developer can follow next_steps.md."
        )
    for caution in cautions or []:
        out += _wrap(caution)
    out += [
        "Forward this whole folder to the app's developer. It holds:",
        "  README.txt           this page",
        "  next_steps.md        the commands to run, in order, and what each one does",
        "  database_settings.py the new database for the app's settings (DATABASES)",
        "  DATABASE_URL.txt     the same as one line, for apps that use DATABASE_URL",
        "  models_changes.md    the exact lines to add to the app's models, if any",
    ]
    if has_patch:
        out.append("  models.patch         the same changes, ready to apply to the app's code")
    out.append("")
    out += _wrap(
        "No password is in these files. Give the developer the database password "
        "separately, not in the same e-mail; the app reads it from the setting "
        f"{PASSWORD_VARIABLE} where it runs."
    )
    if problems:
        out += ["NEEDS ATTENTION:"]
        for p in problems:
            out += textwrap.wrap(p, 88, initial_indent="  - ", subsequent_indent="    ")
    return "\n".join(out).rstrip() + "\n"


def _example(changes: Changes) -> str:
    for change in changes.models:
        if change.new_table:
            return f"{change.source_table} is now {change.new_table}"
        if change.fields:
            fc = change.fields[0]
            return f"the column {fc.old_column} is now {fc.new_column}"
    m2m = changes.many_to_many[0]
    return f"{m2m.source_table} is now {m2m.new_table}"


def whats_next(
    choice: DjangoAppWill,
    changes: Changes,
    target_name: str,
    history_copied: bool,
    cautions: list[str] | None = None,
) -> str:
    """The Summary page's "What's next", true for each answer (plain text, one paragraph),
    followed by ``cautions`` (skipped rows, who may use the tables) and the changed types."""
    said = _whats_next(choice, changes, target_name, history_copied)
    more = list(cautions or [])
    if changes.types:
        named = ", ".join(f"{t.table}.{t.column}" for t in changes.types)
        more.append(
            f"Columns copied with another type ({named}): the app's models must be changed to "
            "match, as the hand-over folder says."
        )
    return " ".join([said, *more])


def _whats_next(
    choice: DjangoAppWill, changes: Changes, target_name: str, history_copied: bool
) -> str:
    if choice == DjangoAppWill.KEEP_NAMES and not changes.any:
        own = (
            "and Django's own tables came along"
            if history_copied
            else "but Django's own tables were not copied, so its developer runs a few commands "
            "that mark the app's tables as there and create Django's own ones (empty)"
        )
        return (
            f"The Django app can use {target_name}: every name it expects was kept, {own}. Its "
            "database settings change. Forward the hand-over folder to the app's developer: it "
            "has the settings (without the password) and the commands that check everything."
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
