"""Issue 17 acceptance: the hand-over folder, followed by real Django against the real target.

The fixture project is copied, the generated patch applied with `patch -p1`, the generated
settings used with the password from the environment, and the commands of next_steps.md run in
the order written; then the ORM reads and writes the new database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from coursemig_gui.cli import main
from coursemig_gui.core.django_handover.writer import HANDOVER_PASSWORD_VARIABLE
from coursemig_gui.core.profile import Profile

DJANGO_PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "djangoproject"

# Runs inside the patched copy of the project, through Django's ORM only.
ORM_CHECK = """
import json, os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapi.settings")
import django
django.setup()
from courses.models import Course, CourseSectionLink, MeetingTime, Program, Section

args = json.loads(sys.argv[1])
course = Course.objects.select_related("program").get(pid=args["pid"])
link = CourseSectionLink.objects.get(pk=args["link"])
out = {
    "count": Course.objects.count(),
    "subject": course.program.subject,
    "end": MeetingTime.objects.get(slug=args["slug"]).end,
    "start": MeetingTime.objects.get(slug=args["slug"]).start,
    "links": sorted(link.sections.values_list("crn", flat=True)),
    "section_links": sorted(Section.objects.get(crn=args["crn"]).links.values_list("pk", flat=True)),
}
new = Course.objects.create(pid="NEW-ORM-1", slug="new-orm-1", program=Program.objects.first(),
                            course_number="999", title="Added through the ORM")
new_link = CourseSectionLink.objects.create(course=new, type="lab")
new_link.sections.add(Section.objects.get(crn=args["crn"]))
out["after_insert"] = Course.objects.count()
out["new_link_id"] = new_link.pk
out["new_link_sections"] = list(new_link.sections.values_list("crn", flat=True))
print(json.dumps(out))
"""


def _copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(DJANGO_PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    return project


def _use_generated_settings(project: Path, handover: Path) -> None:
    """What next_steps.md tells the developer: the DATABASES of database_settings.py."""
    shutil.copy(handover / "database_settings.py", project / "courseapi" / "database_settings.py")
    with (project / "courseapi" / "settings.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom courseapi.database_settings import DATABASES  # noqa: E402,F811\n")


def _django_env(password: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "COURSEMIG_DB_"))}
    env[HANDOVER_PASSWORD_VARIABLE] = password
    return env


def _manage(project: Path, env: dict[str, str], command: str) -> subprocess.CompletedProcess:
    args = command.split()
    assert args[:2] == ["python", "manage.py"], command
    result = subprocess.run(
        [sys.executable, "manage.py", *args[2:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def _instructed_commands(handover: Path) -> list[str]:
    """Every `python manage.py ...` command of next_steps.md, in the order written."""
    text = (handover / "next_steps.md").read_text(encoding="utf-8")
    commands = []
    for line in text.splitlines():
        for part in line.split(";"):
            found = re.match(r"^\s*(?:\d+\.\s*)?(python manage\.py [^`]+?)\s*$", part)
            if found:
                commands.append(found.group(1))
    return commands


def _source_facts(source_db) -> dict:
    pid, subject = source_db.rows(
        "SELECT c.pid, p.subject FROM courses_course c JOIN courses_program p "
        "ON p.subject_code = c.program_id ORDER BY c.pid LIMIT 1"
    )[0]
    slug, start, end = source_db.rows(
        'SELECT slug, start, "end" FROM courses_meetingtime WHERE "end" IS NOT NULL '
        "ORDER BY slug LIMIT 1"
    )[0]
    link = source_db.rows(
        "SELECT coursesectionlink_id FROM courses_coursesectionlink_sections "
        "GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 1"
    )[0][0]
    crns = [
        r[0]
        for r in source_db.rows(
            "SELECT section_id FROM courses_coursesectionlink_sections "
            "WHERE coursesectionlink_id = %s ORDER BY 1",
            [link],
        )
    ]
    section_links = [
        r[0]
        for r in source_db.rows(
            "SELECT coursesectionlink_id FROM courses_coursesectionlink_sections "
            "WHERE section_id = %s ORDER BY 1",
            [crns[0]],
        )
    ]
    return {
        "count": source_db.rows("SELECT count(*) FROM courses_course")[0][0],
        "max_link": source_db.rows("SELECT max(id) FROM courses_coursesectionlink")[0][0],
        "pid": pid,
        "subject": subject,
        "slug": slug,
        "start": start,
        "end": end,
        "link": link,
        "links": crns,
        "crn": crns[0],
        "section_links": section_links,
    }


def _orm_check(project: Path, env: dict[str, str], facts: dict) -> dict:
    args = {k: facts[k] for k in ("pid", "slug", "link", "crn")}
    result = subprocess.run(
        [sys.executable, "-c", ORM_CHECK, json.dumps(args)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _assert_orm_matches_source(got: dict, facts: dict) -> None:
    assert got["count"] == facts["count"]
    assert got["subject"] == facts["subject"]
    assert (got["start"], got["end"]) == (facts["start"], facts["end"])
    assert got["links"] == facts["links"]
    assert got["section_links"] == facts["section_links"]
    # the ORM's inserts: a course, and a link whose id the identity hands out past the copy's
    assert got["after_insert"] == facts["count"] + 1
    assert got["new_link_id"] > facts["max_link"]
    assert got["new_link_sections"] == [facts["crn"]]


def _assert_no_password(folder: Path, password: str) -> None:
    forms = {password, quote(password, safe=""), quote(password)}
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        for form in forms:
            assert form not in text, f"the password is in {path.name}"


def _plan_and_run(source_db, target_db, tmp_path, monkeypatch, *flags: str) -> Path:
    profile = tmp_path / "profile.json"
    assert (
        main(
            [
                "plan",
                "--source",
                source_db.url,
                "--target",
                target_db.url,
                "--app",
                "courses",
                *flags,
                "-o",
                str(profile),
                "-q",
            ]
        )
        == 0
    )
    monkeypatch.setenv("PGPASSWORD", target_db.password)  # the profile never holds it
    report = tmp_path / "report.json"
    code = main(["run", str(profile), "--json-report", str(report), "-q"])
    assert code == 0, report.read_text()
    return profile


@pytest.mark.timeout(900)
def test_new_names_handover_patch_and_django_orm(source_db, target_db, tmp_path, monkeypatch):
    # the seed's choice: course, end_time (a reserved word, renamed by the answer) and start_time
    profile = _plan_and_run(
        source_db,
        target_db,
        tmp_path,
        monkeypatch,
        "--django-app-will",
        "new-names",
        "--rename-column",
        "courses_meetingtime.start=start_time",
    )
    saved = Profile.load(profile)
    targets = {m.source: m.target for m in saved.tables}
    assert targets["courses_course"] == "course"
    meetingtime = next(m for m in saved.tables if m.source == "courses_meetingtime")
    assert {c.source: c.target for c in meetingtime.columns}["end"] == "end_time"
    assert {c.source: c.target for c in meetingtime.columns}["start"] == "start_time"
    assert target_db.rows("SELECT count(*) FROM course")[0][0] > 0

    project = _copy_project(tmp_path)
    handover = tmp_path / "handover"
    assert (
        main(["django-handover", str(profile), "--out", str(handover), "--project", str(project)])
        == 0
    )
    changes = (handover / "models_changes.md").read_text(encoding="utf-8")
    assert 'db_table = "course"' in changes
    assert 'db_column="end_time"' in changes
    assert 'db_table="coursesectionlink_sections"' in changes
    applied = subprocess.run(
        ["patch", "-p1", "-d", str(project), "-i", str(handover / "models.patch")],
        capture_output=True,
        text=True,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    models_py = (project / "courses" / "models.py").read_text(encoding="utf-8")
    assert 'end = models.CharField(max_length=6, null=True, db_column="end_time")' in models_py

    _use_generated_settings(project, handover)
    env = _django_env(target_db.password)
    commands = _instructed_commands(handover)
    assert [c.split()[2] for c in commands] == ["makemigrations", "migrate", "migrate", "check"]
    assert commands[1] == "python manage.py migrate courses --fake"
    for command in commands:
        _manage(project, env, command)
    # makemigrations recorded the Meta/db_column changes as the app's second migration
    assert len(list((project / "courses" / "migrations").glob("0002_*.py"))) == 1
    facts = _source_facts(source_db)
    _assert_orm_matches_source(_orm_check(project, env, facts), facts)
    _assert_no_password(handover, target_db.password)


@pytest.mark.timeout(900)
def test_keep_names_handover_nothing_to_migrate(source_db, target_db, tmp_path, monkeypatch):
    profile = _plan_and_run(
        source_db, target_db, tmp_path, monkeypatch, "--django-app-will", "keep-names"
    )
    copied = {m.target for m in Profile.load(profile).tables}
    assert {"courses_course", "django_migrations", "django_content_type", "auth_user"} <= copied

    project = _copy_project(tmp_path)
    handover = tmp_path / "handover"
    assert (
        main(["django-handover", str(profile), "--out", str(handover), "--project", str(project)])
        == 0
    )
    assert not (handover / "models.patch").exists()
    assert "need no change" in (handover / "models_changes.md").read_text(encoding="utf-8")
    _use_generated_settings(project, handover)
    env = _django_env(target_db.password)
    commands = _instructed_commands(handover)
    assert commands == ["python manage.py migrate", "python manage.py check"]
    migrate = _manage(project, env, commands[0])
    assert "No migrations to apply." in migrate.stdout
    _manage(project, env, commands[1])
    facts = _source_facts(source_db)
    _assert_orm_matches_source(_orm_check(project, env, facts), facts)
    _assert_no_password(handover, target_db.password)
