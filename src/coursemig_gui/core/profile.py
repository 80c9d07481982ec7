"""Saved migrations: a versioned JSON file with connections (never passwords), tables and options."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.django_handover.choice import DjangoPlan
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.file_names import safe_file_stem
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.paths import profiles_dir
from coursemig_gui.core.profile_values import value_problem

PROFILE_VERSION = 2  # 2: the Django app question and its models ("django")
FORMAT_NAME = "coursemig-profile"


@dataclass
class Profile:
    name: str = "Untitled migration"
    source: ConnectionSettings | None = None
    target: ConnectionSettings | None = None
    tables: list[TableMapping] = field(default_factory=list)
    options: MigrationOptions = field(default_factory=MigrationOptions)
    django: DjangoPlan = field(default_factory=DjangoPlan)
    last_run: str = ""
    last_result: str = ""  # the report's headline

    def to_dict(self) -> dict:
        return {
            "format": FORMAT_NAME,
            "version": PROFILE_VERSION,
            "name": self.name,
            "source": self.source.to_dict() if self.source else None,
            "target": self.target.to_dict() if self.target else None,
            "tables": [t.to_dict() for t in self.tables],
            "options": self.options.to_dict(),
            "django": self.django.to_dict(),
            "last_run": self.last_run,
            "last_result": self.last_result,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Profile:
        data = _upgrade(data)
        return cls(
            name=data.get("name") or "Untitled migration",
            source=ConnectionSettings.from_dict(data["source"]) if data.get("source") else None,
            target=ConnectionSettings.from_dict(data["target"]) if data.get("target") else None,
            tables=[TableMapping.from_dict(t) for t in data.get("tables", [])],
            options=MigrationOptions.from_dict(data.get("options", {})),
            django=DjangoPlan.from_dict(data.get("django") or {}),
            last_run=data.get("last_run", ""),
            last_result=data.get("last_result", ""),
        )

    def save(self, path: Path | None = None) -> Path:
        """Write atomically; an existing file is kept as ``.bak`` first."""
        path = Path(path) if path else _profile_path(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path.exists():
            shutil.copy2(path, path.with_suffix(path.suffix + ".bak"))
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> Profile:
        """Read a profile; every problem becomes a FriendlyError naming the file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise FriendlyError(f"The saved migration {path} does not exist.", str(exc)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise FriendlyError(f"The saved migration {path} could not be read.", str(exc)) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FriendlyError(
                f"The saved migration {path.name} is damaged (not valid JSON at line {exc.lineno}). "
                "Open another one, or start a new migration.",
                str(exc),
            ) from exc
        if not isinstance(data, dict) or data.get("format", FORMAT_NAME) != FORMAT_NAME:
            raise FriendlyError(f"{path.name} is not a CourseMig saved migration.", text[:200])
        version = data.get("version", 1)
        if not isinstance(version, int):
            raise FriendlyError(
                f"The saved migration {path.name} has a setting CourseMig does not understand "
                "(its format version is not a number). Start a new migration, or fix the file.",
                f"version: {version!r}",
            )
        if version > PROFILE_VERSION:
            raise FriendlyError(
                f"{path.name} was saved by a newer CourseMig (format {version}). "
                "Update CourseMig to open it.",
                f"this version reads formats up to {PROFILE_VERSION}",
            )
        if problem := value_problem(data):
            raise FriendlyError(
                f"The saved migration {path.name} has a setting CourseMig does not understand "
                f"({problem}). Start a new migration, or fix the file.",
                problem,
            )
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FriendlyError(
                f"The saved migration {path.name} has a setting CourseMig does not understand. "
                "Start a new migration, or fix the file.",
                f"{type(exc).__name__}: {exc}",
            ) from exc


def _upgrade(data: dict) -> dict:
    """Bring an old profile up to the current format, one version at a time."""
    version = data.get("version", 1)
    assert version <= PROFILE_VERSION
    data = dict(data)
    if version < 2:
        # 1 -> 2: the question "Will the Django app use the new database?" did not exist; the
        # answer that matches what version 1 did is "no", with no models recorded.
        data["django"] = {"app_will": "no", "models": []}
    data["version"] = PROFILE_VERSION
    return data


def _safe_file_name(name: str) -> str:
    return safe_file_stem(name.strip() or "migration")


def _profile_path(name: str) -> Path:
    """Where a profile is saved by its name. Before file names told case apart, "Nightly" was
    saved as Nightly.json; a nightly task may run that file, so it is kept when it holds this
    very profile (its own name, exactly), rather than leaving it behind with old settings."""
    path = profiles_dir() / f"{_safe_file_name(name)}.json"
    legacy = profiles_dir() / f"{name.strip()}.json"
    if path.stem.rsplit("-", 1)[0] == name.strip() and legacy.is_file():
        try:
            if json.loads(legacy.read_text(encoding="utf-8")).get("name") == name:
                return legacy
        except (OSError, ValueError, AttributeError):
            pass
    return path


@dataclass(frozen=True)
class ProfileSummary:
    path: Path
    name: str
    last_run: str
    last_result: str
    modified: float


def recent_profiles(limit: int = 10) -> list[ProfileSummary]:
    """Saved profiles, newest first; unreadable files are listed by name so they can be removed."""
    found = []
    for path in profiles_dir().glob("*.json"):
        try:
            modified = path.stat().st_mtime
        except OSError:
            continue  # removed since the folder was listed
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            name, last_run, result = (
                data.get("name", path.stem),
                data.get("last_run", ""),
                data.get("last_result", ""),
            )
        except (OSError, ValueError, AttributeError):
            name, last_run, result = path.stem, "", "This file is damaged"
        found.append(ProfileSummary(path, name, last_run, result, modified))
    found.sort(key=lambda p: p.modified, reverse=True)
    return found[:limit]


def tables_gone(saved: list[TableMapping], tables: set[str]) -> list[str]:
    """A sentence for each table of a saved migration that the source no longer has (``tables``:
    the source's table names). The wizard's list is the source's, so such a table would be
    left out without a word, and the saved file rewritten without it after a run."""
    return [
        f"{m.source}, in this saved migration, is no longer in the source, so it is not "
        "copied; running or saving the migration leaves it out of the saved file."
        for m in saved
        if m.include and m.source not in tables
    ]


def stamp_run(profile: Profile, headline: str) -> None:
    profile.last_run = datetime.now().isoformat(timespec="minutes")
    profile.last_result = headline
