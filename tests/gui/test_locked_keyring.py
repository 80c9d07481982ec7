"""A locked password store answers after the user has left the Connect page: the page they are
on says so, the store line under "Remember password" is true when they come back, and a saved
password that could not be removed is worded as such (not as one that was not saved)."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked
from wizard_driver import WAIT_MS, click_next, connect_both


class LockedKeyring(KeyringBackend):
    """Like a Secret Service collection the user has not unlocked (in memory, nothing kept)."""

    priority = -1  # type: ignore[assignment] - never chosen by keyring itself

    def get_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")


@pytest.fixture
def locked_keyring():
    old = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    yield
    keyring.set_keyring(old)


def test_a_locked_store_is_said_where_the_user_is(
    qtbot, locked_keyring, wizard, source_db, target_db
):
    connect = wizard.connect_page
    connect_both(qtbot, wizard, source_db.url, target_db.url)
    connect.target_card.remember.setChecked(True)
    connect.source_card.remember.setChecked(False)
    click_next(qtbot, wizard)
    tables = wizard.tables_page
    assert wizard.currentPage() is tables

    def both_said() -> bool:
        text = tables.notice.text
        return "could not be remembered" in text and "could not be forgotten" in text

    qtbot.waitUntil(both_said, timeout=WAIT_MS)
    assert tables.notice.isVisible()
    notice = tables.notice.text
    assert "The password could not be remembered: The password store" in notice
    assert "is locked, so the password was not saved" in notice
    assert "The saved password could not be forgotten: The password store" in notice
    assert "was not removed" in notice and "password was not saved. Unlock" in notice

    wizard.back()
    assert wizard.currentPage() is connect
    assert not connect.target_card.store_line.text().startswith("Saved in")
    assert "locked" in connect.target_card.store_line.text()
    source_line = connect.source_card.store_line.text()
    assert source_line.startswith("The saved password could not be forgotten"), source_line
    assert "could not be remembered" not in connect.source_card.notes.text
