"""Where CourseMig keeps the user's things: profiles, reject files, reports, settings."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import platformdirs


def user_data_dir() -> Path:
    """The user's CourseMig folder; ``COURSEMIG_HOME`` moves it (tests use that)."""
    override = os.environ.get("COURSEMIG_HOME")
    path = (
        Path(override) if override else Path(platformdirs.user_data_dir("CourseMig", "CourseMig"))
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def profiles_dir() -> Path:
    path = user_data_dir() / "profiles"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_run_dir(kind: str = "rejects") -> Path:
    """A dated folder for one run's reject files (never reused, so no run overwrites another)."""
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    base = user_data_dir() / kind
    path = base / stamp
    n = 1
    while path.exists():
        n += 1
        path = base / f"{stamp}_{n}"
    path.mkdir(parents=True)
    return path


def user_guide() -> Path | None:
    """The user guide: in the bundle next to the package, in a checkout under docs/."""
    here = Path(__file__).resolve().parent.parent  # the coursemig_gui package
    for guide in (here / "docs" / "user-guide.md", here.parents[1] / "docs" / "user-guide.md"):
        if guide.is_file():
            return guide
    return None
