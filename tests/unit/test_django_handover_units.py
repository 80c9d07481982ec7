"""The hand-over's parts without a server: models.py edits (applied with the real `patch`),
the settings files, the problems it reports, the profile format, the CLI's sentences."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.catalog import Catalog, Column, ForeignKey, Table
from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.django_handover.changes import compute_changes
from coursemig_gui.core.django_handover.choice import (
    DjangoAppWill,
    DjangoPlan,
    shape_mappings,
    tables_for_choice,
)
from coursemig_gui.core.django_handover.facts import model_facts
from coursemig_gui.core.django_handover.writer import write_handover
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.mapping import default_mappings
from coursemig_gui.core.profile import PROFILE_VERSION, Profile

MODELS = '''\
from django.db import models


class Program(models.Model):
    code = models.CharField(max_length=10, primary_key=True)

    class Meta:
        ordering = ["code"]  # kept


class Course(models.Model):
    """A course."""

    pid = models.CharField(max_length=30, primary_key=True)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, db_column="prog")
    end = models.CharField(
        max_length=6,
        null=True,
    )
    note = models.TextField()
    tags = models.ManyToManyField(Program, related_name="tagged")

    class Meta:
        db_table = "courses_course"
'''


def _col(name: str, typ: str = "text") -> Column:
    return Column(name, typ, False)


def _catalog() -> Catalog:
    program = Table("shop_program", (_col("code"),), primary_key=("code",), app="shop")
    course = Table(
        "courses_course",
        (_col("pid"), _col("prog"), _col("end"), _col("note")),
        primary_key=("pid",),
        foreign_keys=(ForeignKey("f1", ("prog",), "shop_program", ("code",)),),
        app="shop",
    )
    tags = Table(
        "courses_course_tags",
        (_col("id", "bigint"), _col("course_id"), _col("program_id")),
        primary_key=("id",),
        foreign_keys=(
            ForeignKey("f2", ("course_id",), "courses_course", ("pid",)),
            ForeignKey("f3", ("program_id",), "shop_program", ("code",)),
        ),
        app="shop",
        is_m2m=True,
    )
    history = Table(
        "django_migrations", (_col("id", "bigint"), _col("app")), app="django", is_system=True
    )
    user = Table("auth_user", (_col("id", "bigint"), _col("username")), app="auth", is_system=True)
    return Catalog(
        "public",
        (user, tags, course, history, program),
        True,
        ("auth", "shop"),
        frozenset({"end", "user"}),
    )


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "shop").mkdir(parents=True)
    (project / "shop" / "models.py").write_text(MODELS, encoding="utf-8")
    # the app's label is not its folder name: found through its AppConfig
    (project / "shop" / "apps.py").write_text(
        "from django.apps import AppConfig\n\n\nclass C(AppConfig):\n    name = 'shop'\n"
        "    label = 'shop'\n",
        encoding="utf-8",
    )
    (project / "shop" / "migrations").mkdir()
    (project / "shop" / "migrations" / "0001_initial.py").write_text(
        "from django.conf import settings\nfrom django.db import migrations\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL),"
        " ('contenttypes', '0002')]\n",
        encoding="utf-8",
    )
    return project


def _new_names_plan(catalog: Catalog):
    chosen = tables_for_choice(
        DjangoAppWill.NEW_NAMES, catalog, ["courses_course", "courses_course_tags", "shop_program"]
    )
    mappings = default_mappings(catalog, chosen)
    shape_mappings(DjangoAppWill.NEW_NAMES, catalog, mappings)
    for tm in mappings:
        if tm.source == "courses_course":
            tm.target = "course"
            tm.column("prog").target = "program_code"
        if tm.source == "courses_course_tags":
            tm.target = "course_tags"
    return mappings, DjangoPlan(DjangoAppWill.NEW_NAMES, model_facts(catalog, chosen))


def test_patch_applies_with_patch_p1_and_keeps_everything_else(tmp_path):
    catalog = _catalog()
    mappings, plan = _new_names_plan(catalog)
    assert mappings[1].column("end").target == "end_time"  # the reserved word, by the answer
    project = _project(tmp_path)
    target = ConnectionSettings(host="db.example.org", dbname="citus", user="citus")
    result = write_handover(tmp_path / "out", target, mappings, plan, project=project)
    assert result.has_patch and not result.problems
    patched = tmp_path / "patched"
    subprocess.run(["cp", "-r", str(project), str(patched)], check=True)
    subprocess.run(
        ["patch", "-p1", "-d", str(patched), "-i", str(tmp_path / "out" / "models.patch")],
        check=True,
        capture_output=True,
    )
    text = (patched / "shop" / "models.py").read_text(encoding="utf-8")
    # the existing db_table and db_column are replaced, not doubled; the field found by its column
    assert 'db_table = "course"' in text and "courses_course" not in text
    assert 'db_column="program_code"' in text and '"prog"' not in text
    assert 'null=True, db_column="end_time",\n    )' in text
    assert 'ManyToManyField(Program, related_name="tagged", db_table="course_tags")' in text
    assert 'ordering = ["code"]  # kept\n        db_table = "program"' in text
    compile(text, "models.py", "exec")  # still Python
    steps = (tmp_path / "out" / "next_steps.md").read_text(encoding="utf-8")
    # the app's migrations depend on auth and contenttypes, not copied: made for real first
    order = [
        line.split(". ", 1)[1]
        for line in steps.splitlines()
        if line[:2] in {f"{i}." for i in range(1, 10)}
    ]
    assert order.index("python manage.py migrate auth") < order.index(
        "python manage.py migrate shop --fake"
    )
    assert "python manage.py migrate contenttypes" in order


def test_without_project_the_changes_are_still_exact(tmp_path):
    mappings, plan = _new_names_plan(_catalog())
    target = ConnectionSettings(host="db.example.org", dbname="citus", user="citus")
    write_handover(tmp_path / "out", target, mappings, plan)
    text = (tmp_path / "out" / "models_changes.md").read_text(encoding="utf-8")
    assert 'db_table = "course"' in text and 'db_column="end_time"' in text
    # without the source the field is found from Django's column rule: prog is no *_id column
    assert "column `prog` → `program_code`" in text
    assert not (tmp_path / "out" / "models.patch").exists()
    assert "in any letter case" in text


def test_problems_are_sentences(tmp_path):
    catalog = _catalog()
    mappings, plan = _new_names_plan(catalog)
    mappings = [m for m in mappings if m.source != "shop_program"]  # a model's table left out
    course = next(m for m in mappings if m.source == "courses_course")
    course.column("note").include = False
    tags = next(m for m in mappings if m.source == "courses_course_tags")
    tags.column("course_id").target = "course"
    changes = compute_changes(mappings, plan.models)
    text = " ".join(changes.problems)
    assert "shop_program (model shop.program) was not copied" in text
    assert "column note was not copied" in text
    assert "through' model" in text


def test_keep_names_brings_djangos_tables_and_keeps_every_name():
    catalog = _catalog()
    chosen = tables_for_choice(DjangoAppWill.KEEP_NAMES, catalog, ["courses_course"])
    assert {"django_migrations", "auth_user"} <= set(chosen)
    mappings = default_mappings(catalog, chosen)
    shape_mappings(DjangoAppWill.KEEP_NAMES, catalog, mappings)
    assert all(m.target == m.source for m in mappings)
    assert all(c.target == c.source for m in mappings for c in m.columns)
    facts = model_facts(catalog, chosen)
    assert not compute_changes(mappings, facts).any


def test_settings_files_carry_tls_and_never_the_password(tmp_path, monkeypatch):
    target = ConnectionSettings(
        host="c-x.abc.postgres.cosmos.azure.com",
        port=6432,
        dbname="citus",
        user="citus",
        sslmode="verify-full",
        sslrootcert="/certs/ca 1.pem",
    )
    mappings, plan = _new_names_plan(_catalog())
    from coursemig_gui.core.options import MigrationOptions

    write_handover(tmp_path, target, mappings, plan, MigrationOptions(target_schema="courses"))
    monkeypatch.setenv("DJANGO_DB_PASSWORD", "from-the-env")
    scope: dict = {}
    exec((tmp_path / "database_settings.py").read_text(encoding="utf-8"), scope)
    db = scope["DATABASES"]["default"]
    assert db["PASSWORD"] == "from-the-env" and db["PORT"] == "6432"
    assert db["OPTIONS"] == {
        "sslmode": "verify-full",
        "sslrootcert": "/certs/ca 1.pem",
        "options": "-c search_path=courses",
    }
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True  # PgBouncer in transaction mode
    url = (tmp_path / "DATABASE_URL.txt").read_text(encoding="utf-8")
    assert (
        "postgresql://citus:${DJANGO_DB_PASSWORD}@c-x.abc.postgres.cosmos.azure.com:6432/citus?"
        in url
    )
    assert "sslrootcert=/certs/ca%201.pem" in url
    steps = (tmp_path / "next_steps.md").read_text(encoding="utf-8")
    assert "## On Citus" in steps and "https://docs.citusdata.com/" in steps


def test_profile_format_2_round_trip_and_format_1_upgrade(tmp_path):
    mappings, plan = _new_names_plan(_catalog())
    profile = Profile(
        name="x",
        target=ConnectionSettings(host="h", dbname="d", user="u"),
        tables=mappings,
        django=plan,
    )
    path = profile.save(tmp_path / "p.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == PROFILE_VERSION == 2
    assert data["django"]["app_will"] == "new-names"
    loaded = Profile.load(path)
    assert loaded.django == plan
    data["version"] = 1
    del data["django"]
    path.write_text(json.dumps(data), encoding="utf-8")
    old = Profile.load(path)
    assert old.django.app_will == DjangoAppWill.NO and old.django.models == []
    with pytest.raises(FriendlyError, match="Plan it again"):
        write_handover(tmp_path / "out", old.target, old.tables, old.django)


def test_cli_handover_says_what_is_wrong(tmp_path, capsys):
    mappings, plan = _new_names_plan(_catalog())
    profile = Profile(
        name="x",
        target=ConnectionSettings(host="h", dbname="d", user="u"),
        tables=mappings,
        django=plan,
    )
    path = profile.save(tmp_path / "p.json")
    code = main(
        [
            "django-handover",
            str(path),
            "--out",
            str(tmp_path / "out"),
            "--project",
            str(tmp_path / "nowhere"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "The project folder" in err and "does not exist" in err and "Traceback" not in err
    assert main(["django-handover", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "README.txt" in capsys.readouterr().out


def test_whats_next_is_true_for_each_answer():
    from coursemig_gui.core.django_handover.documents import whats_next

    catalog = _catalog()
    renamed, plan = _new_names_plan(catalog)
    changes = compute_changes(renamed, plan.models)
    new = whats_next(DjangoAppWill.NEW_NAMES, changes, "db", False)
    assert "cannot use db until its models are told the new names" in new
    assert "courses_course is now course" in new
    other = whats_next(DjangoAppWill.NO, changes, "db", False)
    assert "for other programs" in other and "still uses the old database" in other
    chosen = tables_for_choice(DjangoAppWill.KEEP_NAMES, catalog, ["courses_course"])
    kept = default_mappings(catalog, chosen)
    shape_mappings(DjangoAppWill.KEEP_NAMES, catalog, kept)
    unchanged = compute_changes(kept, model_facts(catalog, chosen))
    keep = whats_next(DjangoAppWill.KEEP_NAMES, unchanged, "db", True)
    assert "every name it expects was kept, and Django's own tables came along" in keep
    partial = whats_next(DjangoAppWill.KEEP_NAMES, unchanged, "db", False)
    assert "were not copied" in partial


def test_readme_made_before_any_run_does_not_say_the_tables_were_copied(tmp_path):
    # `coursemig plan … --output p.json` then `coursemig django-handover p.json`: nothing has
    # been copied yet; the wizard writes the folder after its run, when it is true
    mappings, plan = _new_names_plan(_catalog())
    target = ConnectionSettings(host="db.example.org", dbname="citus", user="citus")
    write_handover(tmp_path / "cli", target, mappings, plan)
    text = (tmp_path / "cli" / "README.txt").read_text(encoding="utf-8")
    assert "were copied" not in text
    assert "coursemig run" in text
    write_handover(tmp_path / "gui", target, mappings, plan, copied=True)
    text = (tmp_path / "gui" / "README.txt").read_text(encoding="utf-8")
    assert text.splitlines()[3].startswith("The tables were copied to citus@db.example.org/citus.")


def test_the_handover_says_skipped_rows_grants_and_changed_types(tmp_path):
    from coursemig_gui.core.django_handover.documents import whats_next
    from coursemig_gui.core.django_handover.writer import handover_cautions
    from coursemig_gui.core.events import Phase
    from coursemig_gui.core.report import MigrationReport, TableReport

    mappings, plan = _new_names_plan(_catalog())
    course = next(m for m in mappings if m.source == "courses_course")
    course.column("note").target_type = "character varying(60)"  # the model says text
    target = ConnectionSettings(host="db.example.org", dbname="my db", user='app"owner')
    report = MigrationReport(route="direct")
    report.tables = [
        TableReport("courses_course", "course", status=Phase.DONE_WITH_REJECTS, rows_read=10,
                    rows_written=7, rows_rejected=3,
                    reject_file=str(tmp_path / "rejects" / "course.csv")),
        TableReport("shop_program", "program", status=Phase.DONE, rows_read=2, rows_written=2),
    ]  # fmt: skip
    write_handover(tmp_path / "h", target, mappings, plan, copied=True, report=report)
    readme = (tmp_path / "h" / "README.txt").read_text(encoding="utf-8")
    flat = " ".join(readme.split())
    assert f"3 rows of course (3) were not copied (each one and why is in the skipped-rows " \
           f"folder {tmp_path / 'rejects'})" in flat  # fmt: skip
    assert "the app will not find them on the new database" in flat
    assert 'must connect as USER app"owner' in flat and "permission denied" in flat
    assert "course.note was copied as character varying(60) (it was text)" in flat
    steps = (tmp_path / "h" / "next_steps.md").read_text(encoding="utf-8")
    assert 'GRANT USAGE ON SCHEMA "public" TO "the_apps_role";' in steps
    grant = next(line for line in steps.splitlines() if "ON TABLE" in line)
    assert grant.startswith('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."')
    assert '"public"."course"' in grant and '"public"."course_tags"' in grant
    assert 'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "public"' in steps
    changes_md = (tmp_path / "h" / "models_changes.md").read_text(encoding="utf-8")
    assert "set max_length=60 on the field note" in changes_md
    changes = compute_changes(mappings, plan.models)
    said = whats_next(
        plan.app_will, changes, target.display_name(), False, handover_cautions(target, report)
    )
    assert 'app"owner@db.example.org/my db' in said
    assert "3 rows of course (3) were not copied" in said
    assert "Columns copied with another type (course.note)" in said
    assert "must connect as USER" in said


def test_a_test_run_or_a_failed_run_writes_no_handover():
    from coursemig_gui.core.django_handover.writer import handover_due
    from coursemig_gui.core.report import MigrationReport

    real = MigrationReport(route="direct")
    assert handover_due(real)
    rehearsal = MigrationReport(route="direct")
    rehearsal.test_run = True
    assert not handover_due(rehearsal)
    assert not handover_due(MigrationReport(route="export"))
    assert not handover_due(None)
    # a run that did not start (exit code 2: a wrong password, say) copied nothing either
    assert not handover_due(MigrationReport(route="direct", message="The server did not accept…"))
