"""'Run this every night': the exact command and schedule line per platform, no password in them."""

from __future__ import annotations

import shlex
from datetime import time
from pathlib import Path

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.credentials import CredentialStore
from coursemig_gui.core.nightly import nightly_run, unsaved_passwords

PROFILE = Path("/home/ann/.local/share/CourseMig/profiles/Courses to Azure.json")
PROGRAM = ["/home/ann/.local/lib/coursemig/coursemig-cli"]


def test_linux_crontab_line_runs_the_profile_with_the_keyring_reachable():
    run = nightly_run(PROFILE, PROGRAM, platform="linux", uid=1000)
    assert run.command == (
        "/home/ann/.local/lib/coursemig/coursemig-cli run "
        "'/home/ann/.local/share/CourseMig/profiles/Courses to Azure.json'"
    )
    assert shlex.split(run.command) == [*PROGRAM, "run", str(PROFILE)]
    assert run.schedule == (
        "0 2 * * * DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus "
        + run.command
        + " >> '/home/ann/.local/share/CourseMig/profiles/Courses to Azure.nightly.log' 2>&1"
    )
    assert "crontab -e" in run.how
    assert "keyring" in run.note and "password" not in run.command.lower()


def test_macos_crontab_line_at_another_time():
    run = nightly_run(PROFILE, PROGRAM, platform="darwin", at=time(23, 30))
    assert run.schedule.startswith("30 23 * * * /home/ann/")
    assert "DBUS" not in run.schedule
    assert "keychain" in run.note


def test_windows_schtasks_command_quotes_paths_with_spaces():
    profile = Path(r"C:\Users\Ann Lee\AppData\Local\CourseMig\profiles\Courses.json")
    program = [r"C:\Program Files\CourseMig\coursemig-cli.exe"]
    run = nightly_run(profile, program, platform="win32", name="Courses to Azure")
    assert run.command == (
        r'"C:\Program Files\CourseMig\coursemig-cli.exe" run '
        r'"C:\Users\Ann Lee\AppData\Local\CourseMig\profiles\Courses.json"'
    )
    assert run.schedule == (
        r'schtasks /Create /SC DAILY /ST 02:00 /TN "CourseMig\Courses to Azure" /TR '
        r'"\"C:\Program Files\CourseMig\coursemig-cli.exe\" run '
        r'\"C:\Users\Ann Lee\AppData\Local\CourseMig\profiles\Courses.json\"" /F'
    )
    assert "Credential Manager" in run.note


def test_a_connection_without_a_saved_password_is_named(secret_keyring, monkeypatch, tmp_path):
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    source = ConnectionSettings(host="db1", dbname="course_api", user="django")
    target = ConnectionSettings(host="db2", dbname="citus", user="citus")
    store = CredentialStore()  # the real gnome-keyring that run-tests.sh starts
    store.save(source, "secret")
    text = unsaved_passwords([source, target], store)
    assert text.startswith("No password is saved for citus@db2/citus, so a night run")
    store.save(target, "secret")
    assert unsaved_passwords([source, target, None], store) == ""


def test_the_nightly_log_is_made_private_before_cron_writes_it(tmp_path):
    # cron's ">>" makes a missing file with the usual umask (0644) and keeps an existing file's
    # mode, so the log (whose messages can quote rows) is created 0600 beforehand
    import os

    from coursemig_gui.core.nightly import make_log_private

    profile = tmp_path / "Courses to Azure.json"
    old_umask = os.umask(0o022)
    try:
        log = make_log_private(profile, platform="linux")
    finally:
        os.umask(old_umask)
    assert log is not None and log.name == "Courses to Azure.nightly.log"
    assert log.stat().st_mode & 0o777 == 0o600
    assert str(log) in nightly_run(profile, PROGRAM, platform="linux", uid=1000).schedule
    log.write_text("the first night\n", encoding="utf-8")
    log.chmod(0o644)  # as cron made it before this version
    make_log_private(profile, platform="linux")  # again: what is there stays, made private
    assert log.read_text(encoding="utf-8") == "the first night\n"
    assert log.stat().st_mode & 0o777 == 0o600
    assert make_log_private(profile, platform="win32") is None


def test_a_profile_named_from_the_current_folder_is_run_by_its_full_path(tmp_path, monkeypatch):
    """The wizard opened as ``coursemig-gui courses.json``: cron starts in the home folder, where
    ``coursemig run courses.json`` finds no such file, and the log would land there too."""
    monkeypatch.chdir(tmp_path)
    run = nightly_run(Path("courses.json"), PROGRAM, platform="linux", uid=1000)
    assert shlex.split(run.command) == [*PROGRAM, "run", str(tmp_path / "courses.json")]
    assert f">> {tmp_path / 'courses.nightly.log'} 2>&1" in run.schedule


def test_tables_a_second_night_would_not_copy_again_are_named():
    """The guide's nightly run repeats the migration; with the default 'Stop' every night from
    the second failed (the tables are there), and 'Add rows' sent every row again (refused as
    duplicates, or copied twice without a key), with nothing said when the line was offered."""
    from coursemig_gui.core.mapping import IfExists, TableMapping
    from coursemig_gui.core.nightly import repeat_problem

    def table(name: str, choice: IfExists, include: bool = True) -> TableMapping:
        return TableMapping(f"courses_{name}", name, if_exists=choice, include=include)

    assert repeat_problem([table("course", IfExists.REPLACE)]) == ""
    text = repeat_problem(
        [
            table("program", IfExists.FAIL),
            table("course", IfExists.FAIL),
            table("logbook", IfExists.APPEND),
            table("term", IfExists.REPLACE),
            table("left_out", IfExists.FAIL, include=False),
        ]
    )
    assert (
        "program and course are set to 'Stop', so they are not copied again and the run fails"
        in text
    )
    assert "logbook is set to 'Add rows', so every row is sent again" in text
    assert "copied twice" in text and "choose 'Replace all rows'" in text
    assert "term" not in text and "left_out" not in text
