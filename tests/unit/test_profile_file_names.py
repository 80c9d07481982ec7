"""Saved migrations whose names differ only by case keep separate files (Windows and macOS fold
case), and a profile saved before that keeps its file, which a nightly task may be running."""

from __future__ import annotations

import json

from coursemig_gui.core.paths import profiles_dir
from coursemig_gui.core.profile import Profile


def test_names_differing_by_case_keep_two_profiles():
    first = Profile(name="nightly").save()
    second = Profile(name="Nightly").save()
    assert first.name.casefold() != second.name.casefold()
    assert Profile.load(first).name == "nightly"
    assert Profile.load(second).name == "Nightly"


def test_a_profile_saved_under_its_old_file_name_keeps_it():
    old = profiles_dir() / "Nightly.json"
    old.write_text(json.dumps(Profile(name="Nightly").to_dict()), encoding="utf-8")
    assert Profile(name="Nightly").save() == old
    assert sorted(p.name for p in profiles_dir().glob("*.json")) == ["Nightly.json"]
