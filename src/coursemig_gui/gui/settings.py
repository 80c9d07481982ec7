"""The window's own settings (size, last profile): an INI file in CourseMig's user folder.

An INI file under ``core.paths.user_data_dir()`` rather than the registry or ~/.config, so
``COURSEMIG_HOME`` moves it too and tests never touch the real user's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from coursemig_gui.core.paths import user_data_dir

SETTINGS_FILE = "coursemig-gui.ini"


def app_settings() -> QSettings:
    """The settings store; create one when needed (QSettings objects are cheap)."""
    return QSettings(str(user_data_dir() / SETTINGS_FILE), QSettings.Format.IniFormat)


def last_profile() -> Path | None:
    value = app_settings().value("last_profile", "")
    return Path(str(value)) if value else None


def remember_last_profile(path: Path | None) -> None:
    settings = app_settings()
    settings.setValue("last_profile", str(path) if path else "")
    settings.sync()
