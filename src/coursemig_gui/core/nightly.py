"""Running a saved migration every night: the exact command, and the line that schedules it.

Linux and macOS get a crontab line, Windows a ``schtasks`` command. The password is never on
the command line: ``coursemig run`` takes it from the user's keyring (where the wizard saved it),
so the job must run as the same user.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path, PurePosixPath, PureWindowsPath

from coursemig_gui.core.mapping import IfExists, TableMapping

DEFAULT_TIME = time(2, 0)  # the middle of the night, when nobody is using the app


@dataclass(frozen=True)
class NightlyRun:
    """What the "Run this every night" window shows."""

    command: str  # runs the migration once, as typed in a terminal
    schedule: str  # the crontab line, or the schtasks command that creates the task
    how: str  # a plain sentence: where the schedule line goes
    note: str  # a plain sentence about the password
    schedule_label: str = "Crontab line:"


def cli_program(platform: str = sys.platform) -> list[str]:
    """How to start the ``coursemig`` command line of this installation, as absolute paths.

    The frozen bundle carries it next to the wizard (``coursemig-cli``); a Python install has
    the ``coursemig`` script beside its interpreter. A scheduler has a short PATH, hence full
    paths.
    """
    exe = ".exe" if platform == "win32" else ""
    here = Path(sys.executable).resolve().parent
    if getattr(sys, "frozen", False):
        return [str(here / f"coursemig-cli{exe}")]
    for folder in (Path(sys.executable).parent, here):
        script = folder / f"coursemig{exe}"
        if script.is_file():
            return [str(script)]
    found = shutil.which("coursemig")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "coursemig_gui.cli"]


def nightly_run(
    profile: Path,
    program: Sequence[str],
    *,
    platform: str = sys.platform,
    at: time = DEFAULT_TIME,
    name: str | None = None,
    uid: int | None = None,
) -> NightlyRun:
    """The command that runs ``profile`` and how to schedule it daily at ``at`` on ``platform``."""
    # a full path: cron and Task Scheduler start in another folder (the platform's own rule,
    # so C:\... is already one when the line is built for Windows elsewhere)
    pure = PureWindowsPath if platform == "win32" else PurePosixPath
    profile = Path(profile) if pure(profile).is_absolute() else Path(profile).absolute()
    args = [*program, "run", str(profile)]
    if platform == "win32":
        command = subprocess.list2cmdline(args)
        task = f"CourseMig\\{name or profile.stem}"
        # schtasks reads /TR as one string: its inner quotes are written \" (Microsoft's rule).
        tr = command.replace('"', '\\"')
        schedule = f'schtasks /Create /SC DAILY /ST {at:%H:%M} /TN "{task}" /TR "{tr}" /F'
        return NightlyRun(
            command,
            schedule,
            "Paste the second command into a Command Prompt (not as administrator): it creates "
            f'the task "{task}" in Task Scheduler, which runs while you are logged on.',
            'The password comes from Windows Credential Manager, where "Remember password" on '
            "the Connect page keeps it; it is not in the command or the task.",
            "Command that creates the nightly task:",
        )
    command = shlex.join(args)
    log = nightly_log(profile)
    env = ""
    if platform.startswith("linux"):
        # cron starts jobs without the login session's D-Bus address, where the keyring lives
        env = f"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{os.getuid() if uid is None else uid}/bus "
    line = f"{at.minute} {at.hour} * * * {env}{command} >> {shlex.quote(str(log))} 2>&1"
    if env:
        store = "your keyring (GNOME Keyring or KWallet)"
    else:
        store = "your login keychain"
    return NightlyRun(
        command,
        line,
        "Add the line to your crontab (run crontab -e in a terminal, paste it at the end, save). "
        f"Each run's output is added to {log}.",
        f'The password comes from {store}, where "Remember password" on the Connect page keeps '
        "it; it is not in the command or the crontab. The keyring must be unlocked when the job runs (it is while you are "
        "logged in).",
    )


def nightly_log(profile: Path) -> Path:
    """The file the crontab line appends each run's output to, next to the saved migration."""
    return Path(profile).with_suffix(".nightly.log")


def make_log_private(profile: Path, platform: str = sys.platform) -> Path | None:
    """Create the nightly log readable by the user only, before cron first writes it.

    A run's messages can quote rows (a key that already exists, a value that does not fit), as
    the 0600 reject files do; cron's ``>>`` would create the file with the usual umask (0644),
    and it keeps the mode of a file that is already there (so one made before is made private
    too). Windows' task writes no log.
    """
    if platform == "win32":
        return None
    from coursemig_gui.core.private_files import PRIVATE_MODE, open_private

    log = nightly_log(profile)
    open_private(log, "a").close()
    os.chmod(log, PRIVATE_MODE)  # a log made before, by cron, may still be 0644
    return log


def unsaved_passwords(connections: Sequence[object | None], store: object | None = None) -> str:
    """A sentence naming the connections a nightly run could find no password for, or "".

    ``coursemig run`` looks in the keyring, then at PGPASSWORD and the password file; a
    connection with none of them cannot connect at night (nobody is there to type it).
    """
    from coursemig_gui.core.credentials import CredentialStore, pgpass_has_entry

    store = store if store is not None else CredentialStore()
    missing = [
        c.display_name()  # type: ignore[attr-defined]
        for c in connections
        if c is not None and not store.load(c) and not pgpass_has_entry(c)  # type: ignore[attr-defined]
    ]
    if not missing:
        return ""
    names = " and ".join(missing)
    return (
        f"No password is saved for {names}, so a night run could not connect: tick "
        '"Remember password" on the Connect page, test the connection, and save again.'
    )


def repeat_problem(mappings: Sequence[TableMapping]) -> str:
    """A sentence naming the tables a second night would not copy again, or "".

    From the second night on every table is already in the target. 'Stop' leaves it untouched
    and fails the run; 'Add rows' sends every row again: a keyed table refuses them all as
    duplicates (past the limit of skipped rows it fails), a table without a key gets them twice.
    Only 'Replace all rows' copies the source again each night.
    """
    stop = [m.target for m in mappings if m.include and m.if_exists == IfExists.FAIL]
    add = [m.target for m in mappings if m.include and m.if_exists == IfExists.APPEND]
    if not stop and not add:
        return ""
    parts = ["From the second night on, every table is already in the target:"]
    if stop:
        parts.append(
            f"{_names(stop)} {'is' if len(stop) == 1 else 'are'} set to 'Stop', so "
            f"{'it is' if len(stop) == 1 else 'they are'} not copied again and the run fails."
        )
    if add:
        parts.append(
            f"{_names(add)} {'is' if len(add) == 1 else 'are'} set to 'Add rows', so every row "
            "is sent again: rows already there are refused as duplicates (past the limit of "
            "skipped rows the table fails) or, in a table without a key, copied twice."
        )
    parts.append(
        "To copy the source again each night, choose 'Replace all rows' for them on the "
        "Columns page and save the migration again."
    )
    return " ".join(parts)


def _names(names: list[str]) -> str:
    shown = names[:5] + ([f"{len(names) - 5} more"] if len(names) > 5 else [])
    return ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]
