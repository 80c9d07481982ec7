"""``coursemig django-handover``: the folder a developer needs to point the Django app at the new
database (kept apart from cli.py: one command, one module)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coursemig_gui.core.django_handover.choice import DjangoAppWill
from coursemig_gui.core.outcome import Outcome


def add_django_question(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--django-app-will",
        choices=[c.value for c in DjangoAppWill],
        default=DjangoAppWill.NO.value,
        metavar="keep-names|new-names|no",
        help="will the Django app use the new database? keep-names: Django's names "
        "and its own tables; new-names: course, end_time (django-handover writes the "
        "model changes); no: other programs read the tables (default)",
    )


def add_handover_parser(sub) -> None:
    p = sub.add_parser(
        "django-handover",
        help="write the folder a developer needs to connect the Django app to the new database",
    )
    p.add_argument("profile", metavar="PROFILE.json")
    p.add_argument("--out", required=True, metavar="FOLDER")
    p.add_argument(
        "--project",
        metavar="DJANGO_PROJECT_DIR",
        help="the app's project folder: also write models.patch for its models.py",
    )


def cmd_django_handover(args: argparse.Namespace) -> int:
    from coursemig_gui.core.django_handover.writer import write_handover
    from coursemig_gui.core.profile import Profile

    profile = Profile.load(Path(args.profile))
    result = write_handover(
        Path(args.out),
        profile.target,
        profile.tables,
        profile.django,
        profile.options,
        Path(args.project) if args.project else None,
    )
    print(f"Wrote the hand-over for the Django app to {result.folder}:")
    for path in result.files:
        print(f"  {path.name}")
    for problem in result.problems:
        print(f"coursemig: needs attention: {problem}", file=sys.stderr)
    print("Start with README.txt; the commands are in next_steps.md.")
    return Outcome.DONE


def django_tables(args: argparse.Namespace, catalog, chosen: list[str]) -> list[str]:
    """The selection the answer implies (keeping Django's names brings Django's own tables)."""
    from coursemig_gui.core.django_handover.choice import tables_for_choice

    return tables_for_choice(DjangoAppWill(args.django_app_will), catalog, chosen)


def django_names(args: argparse.Namespace, catalog, mappings: list) -> None:
    from coursemig_gui.core.django_handover.choice import shape_mappings

    shape_mappings(DjangoAppWill(args.django_app_will), catalog, mappings)


def django_plan(args: argparse.Namespace, catalog, mappings: list):
    """What a profile keeps: the answer and the models as the source's catalog shows them."""
    from coursemig_gui.core.django_handover.choice import DjangoPlan
    from coursemig_gui.core.django_handover.facts import model_facts

    facts = model_facts(catalog, [m.source for m in mappings])
    return DjangoPlan(DjangoAppWill(args.django_app_will), facts)
